import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Split } from '../../lib/data/dataset';
import { batches, batchesPerEpoch, batchStream, epochOrder, gather, type Batch, type BatchPosition } from '../../lib/data/batches';

const N = 103;
const BYTES = 4; // a 2x2x1 "image"

/** Example i has image bytes [i, i+1, i+2, i+3] (mod 256) and label i % 10, so a batch can be checked. */
function makeSplit(n = N): Split {
  const images = new Uint8Array(n * BYTES);
  for (let i = 0; i < n; i++) for (let k = 0; k < BYTES; k++) images[i * BYTES + k] = (i + k) % 256;
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  return { images, labels, count: n };
}

function checkBatchContents(split: Split, b: Batch): void {
  assert.equal(b.images.length, b.size * BYTES);
  assert.equal(b.labels.length, b.size);
  assert.equal(b.indices.length, b.size);
  for (let k = 0; k < b.size; k++) {
    const i = b.indices[k];
    assert.deepEqual(b.images.subarray(k * BYTES, (k + 1) * BYTES), split.images.subarray(i * BYTES, (i + 1) * BYTES));
    assert.equal(b.labels[k], split.labels[i]);
  }
}

const indicesOf = (bs: Batch[]) => bs.map((b) => Array.from(b.indices));

test('one epoch covers every example exactly once, in batches of batchSize', () => {
  const split = makeSplit();
  const bs = [...batches(split, { batchSize: 10, seed: 1, epoch: 0 })];
  assert.equal(bs.length, 11);
  assert.equal(batchesPerEpoch(N, { batchSize: 10 }), 11);
  assert.deepEqual(bs.map((b) => b.size), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
  assert.deepEqual(bs.map((b) => b.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const all = bs.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: N }, (_, i) => i));
  for (const b of bs) checkBatchContents(split, b);
  // It is shuffled: not the identity order.
  assert.notDeepEqual(bs.flatMap((b) => Array.from(b.indices)), Array.from({ length: N }, (_, i) => i));
});

test('deterministic for a seed and epoch; different per epoch and per seed', () => {
  const split = makeSplit();
  const run = (seed: number, epoch: number) => indicesOf([...batches(split, { batchSize: 16, seed, epoch })]);
  assert.deepEqual(run(42, 0), run(42, 0));
  assert.deepEqual(run(42, 3), run(42, 3));
  assert.notDeepEqual(run(42, 0), run(42, 1));
  assert.notDeepEqual(run(42, 0), run(43, 0));
  // (seed, epoch) is not just seed + epoch.
  assert.notDeepEqual(run(1, 0), run(0, 1));
});

test('shuffle: false keeps the split order', () => {
  const split = makeSplit();
  const order = [...batches(split, { batchSize: 50, seed: 9, shuffle: false })].flatMap((b) => Array.from(b.indices));
  assert.deepEqual(order, Array.from({ length: N }, (_, i) => i));
});

test('limit caps the examples per epoch and is respected by every epoch', () => {
  const split = makeSplit();
  for (const epoch of [0, 1, 2]) {
    const bs = [...batches(split, { batchSize: 10, seed: 5, epoch, limit: 25 })];
    assert.deepEqual(bs.map((b) => b.size), [10, 10, 5]);
    const idx = bs.flatMap((b) => Array.from(b.indices));
    assert.equal(new Set(idx).size, 25);
    for (const b of bs) checkBatchContents(split, b);
  }
  // With shuffling, each epoch draws a different subset.
  const subset = (epoch: number) => epochOrder(N, epoch, { seed: 5, limit: 25 });
  assert.notDeepEqual(new Set(subset(0)), new Set(subset(1)));
  // A limit above the split size is the whole split.
  assert.equal([...batches(split, { batchSize: 10, seed: 5, limit: 1000 })].length, 11);
  assert.equal(batchesPerEpoch(N, { batchSize: 10, limit: 25 }), 3);
});

test('dropRemainder drops the short last batch', () => {
  const split = makeSplit();
  const bs = [...batches(split, { batchSize: 10, seed: 1, dropRemainder: true })];
  assert.equal(bs.length, 10);
  assert.ok(bs.every((b) => b.size === 10));
  assert.equal(batchesPerEpoch(N, { batchSize: 10, dropRemainder: true }), 10);
});

test('next positions chain through the epoch and into the next one', () => {
  const split = makeSplit();
  const bs = [...batches(split, { batchSize: 50, seed: 1, epoch: 4 })];
  assert.deepEqual(bs.map((b) => b.next), [
    { epoch: 4, batchIndex: 1 },
    { epoch: 4, batchIndex: 2 },
    { epoch: 5, batchIndex: 0 },
  ]);
  assert.ok(bs.every((b) => b.epoch === 4));
});

test('resuming from a saved (JSON) position gives the same following batches', () => {
  const split = makeSplit();
  const options = { batchSize: 16, seed: 1234, limit: 90 }; // 6 batches per epoch
  const reference: Batch[] = [];
  const stream = batchStream(split, options);
  for (let i = 0; i < 20; i++) reference.push(stream.next().value);
  for (const stopAfter of [1, 5, 6, 7, 13]) {
    const saved = JSON.parse(JSON.stringify(reference[stopAfter - 1].next)) as BatchPosition;
    const resumed = batchStream(split, { ...options, from: saved });
    for (let i = stopAfter; i < 20; i++) {
      const b = resumed.next().value;
      const r = reference[i];
      assert.deepEqual([b.epoch, b.index], [r.epoch, r.index], `resumed after ${stopAfter}, batch ${i}`);
      assert.deepEqual(b.indices, r.indices);
      assert.deepEqual(b.images, r.images);
      assert.deepEqual(b.labels, r.labels);
    }
  }
  // The stream crosses epochs: batch 6 is epoch 1, batch 0.
  assert.deepEqual([reference[6].epoch, reference[6].index], [1, 0]);
  // startBatch on a single epoch agrees with the stream.
  const tail = [...batches(split, { ...options, epoch: 1, startBatch: 3 })];
  assert.deepEqual(indicesOf(tail), indicesOf(reference.slice(9, 12)));
});

test('gather copies the examples at given indices', () => {
  const split = makeSplit();
  const g = gather(split, [5, 0, 102]);
  assert.deepEqual(Array.from(g.labels), [5, 0, 2]);
  assert.deepEqual(Array.from(g.images.subarray(8, 12)), [102, 103, 104, 105]);
  assert.throws(() => gather(split, [103]), /out of range/);
});

test('bad options and inconsistent splits are errors', () => {
  const split = makeSplit();
  assert.throws(() => [...batches(split, { batchSize: 0, seed: 1 })], /batchSize must be an integer >= 1/);
  assert.throws(() => [...batches(split, { batchSize: 10, seed: 1.5 })], /seed must be an integer/);
  assert.throws(() => [...batches(split, { batchSize: 10, seed: 1, startBatch: 12 })], /past the end/);
  assert.throws(() => [...batches(split, { batchSize: 10, seed: 1, epoch: -1 })], /epoch must be/);
  const bad: Split = { images: new Uint8Array(10), labels: new Uint8Array(3), count: 3 };
  assert.throws(() => [...batches(bad, { batchSize: 2, seed: 1 })], /not a multiple of split.count/);
  const empty: Split = { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
  assert.deepEqual([...batches(empty, { batchSize: 2, seed: 1 })], []);
  assert.throws(() => batchStream(empty, { batchSize: 2, seed: 1 }).next(), /no batches/);
});
