/**
 * Small seeded pseudo-random number generators for reproducible shuffling and sampling.
 *
 * Browser-safe: no Node-only imports. The generator state is one 32-bit integer, so it can be saved in a
 * checkpoint as a plain number and restored exactly.
 *
 * The generator is mulberry32 (Tommy Ettinger's 32-bit generator): fast, passes gjrand/PractRand tests to a
 * few GB, period 2^32. Good enough for shuffling and sampling; not for cryptography.
 */

function checkSeed(seed: number, what: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new Error(`${what} must be an integer; got ${String(seed)}`);
  }
  return seed >>> 0;
}

/** Murmur3's 32-bit finaliser: spreads every input bit over the whole output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combines integers (for example a run seed and an epoch number) into one well-mixed 32-bit seed.
 * The order matters: hashSeeds(1, 2) !== hashSeeds(2, 1).
 */
export function hashSeeds(...values: number[]): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < values.length; i++) {
    const v = checkSeed(values[i], `hashSeeds argument ${i}`);
    h = fmix32((h ^ v) + Math.imul(i + 1, 0x6d2b79f5));
  }
  return h;
}

/** A seeded generator with a serialisable state (`state`, a uint32). */
export class Mulberry32 {
  private s: number;

  constructor(seed: number) {
    this.s = checkSeed(seed, 'Mulberry32 seed');
  }

  /** The current state: pass it to `Mulberry32.fromState` to continue the same sequence. */
  get state(): number {
    return this.s;
  }

  static fromState(state: number): Mulberry32 {
    return new Mulberry32(checkSeed(state, 'Mulberry32 state'));
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Next float uniformly distributed in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Next integer uniformly distributed in [0, n), without modulo bias. 1 <= n <= 2^32. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new Error(`nextInt(n) needs an integer n in [1, 2^32]; got ${n}`);
    }
    // Reject the top partial block of the uint32 range so every residue is equally likely.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

/** The plain-function form of mulberry32: returns a function giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  const g = new Mulberry32(seed);
  return () => g.next();
}

/** Shuffles `array` in place (Fisher-Yates) using `rng`, and returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: any }>(array: T, rng: Mulberry32): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A uniformly random permutation of 0..n-1, determined by `seed`. */
export function permutation(n: number, seed: number): Uint32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`permutation(n) needs a non-negative integer n; got ${n}`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, new Mulberry32(seed));
}
