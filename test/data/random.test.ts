import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Mulberry32, hashSeeds, mulberry32, permutation, shuffleInPlace } from '../../lib/data/random';

/** The widely published reference implementation of mulberry32 (returns floats in [0, 1)). */
function referenceMulberry32(a: number): () => number {
  return function () {
    let t = (a += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('mulberry32 matches the reference implementation', () => {
  for (const seed of [0, 1, 42, 123456789, 0x7fffffff]) {
    const ours = mulberry32(seed);
    const ref = referenceMulberry32(seed);
    for (let i = 0; i < 1000; i++) assert.equal(ours(), ref(), `seed ${seed}, draw ${i}`);
  }
});

test('same seed gives the same sequence, different seeds differ', () => {
  const a = new Mulberry32(7);
  const b = new Mulberry32(7);
  const c = new Mulberry32(8);
  const sa = Array.from({ length: 20 }, () => a.nextUint32());
  const sb = Array.from({ length: 20 }, () => b.nextUint32());
  const sc = Array.from({ length: 20 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('the state is a plain number that restores the sequence exactly', () => {
  const g = new Mulberry32(99);
  for (let i = 0; i < 10; i++) g.next();
  const saved = JSON.parse(JSON.stringify({ state: g.state })) as { state: number };
  const expected = Array.from({ length: 10 }, () => g.next());
  const restored = Mulberry32.fromState(saved.state);
  assert.deepEqual(Array.from({ length: 10 }, () => restored.next()), expected);
});

test('next() is in [0, 1) and nextInt(n) is in range and roughly uniform', () => {
  const g = new Mulberry32(2024);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 20000; i++) {
    const x = g.next();
    assert.ok(x >= 0 && x < 1);
    const k = g.nextInt(10);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 10);
    counts[k]++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.1 % critical value.
  const chi2 = counts.reduce((s, c) => s + (c - 2000) ** 2 / 2000, 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2} for counts ${counts}`);
  assert.throws(() => g.nextInt(0), /nextInt/);
  assert.throws(() => g.nextInt(2.5), /nextInt/);
});

test('seeds must be integers', () => {
  assert.throws(() => new Mulberry32(1.5), /seed must be an integer/);
  assert.throws(() => new Mulberry32(NaN), /seed must be an integer/);
  assert.throws(() => hashSeeds(1, 0.5), /integer/);
});

test('hashSeeds mixes and depends on order', () => {
  assert.equal(hashSeeds(1, 2), hashSeeds(1, 2));
  assert.notEqual(hashSeeds(1, 2), hashSeeds(2, 1));
  assert.notEqual(hashSeeds(0, 1), hashSeeds(1, 0));
  const seen = new Set<number>();
  for (let s = 0; s < 50; s++) for (let e = 0; e < 50; e++) seen.add(hashSeeds(s, e));
  assert.equal(seen.size, 2500);
});

test('permutation is a permutation, deterministic per seed', () => {
  const p = permutation(1000, 5);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(permutation(1000, 5), p);
  assert.notDeepEqual(permutation(1000, 6), p);
  assert.equal(permutation(0, 1).length, 0);
  const arr = ['a', 'b', 'c', 'd', 'e'];
  shuffleInPlace(arr, new Mulberry32(3));
  assert.deepEqual([...arr].sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('every position of a small permutation is equally likely', () => {
  // 3! = 6 orders; with 6000 seeds each should appear about 1000 times.
  const counts = new Map<string, number>();
  for (let s = 0; s < 6000; s++) {
    const key = permutation(3, hashSeeds(s)).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [k, c] of counts) assert.ok(c > 850 && c < 1150, `order ${k} appeared ${c} times`);
});
