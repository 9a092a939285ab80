/** Comparing a backend's numbers with a reference backend's: seeded inputs and one error measure for every kernel test. */
import assert from 'node:assert/strict';

/** `n` floats uniform in [-1, 1) from `rand` (e.g. lib/data/random's mulberry32). */
export function randomArray(rand: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

/**
 * Largest absolute difference over the largest reference magnitude (absolute when the reference is all zeros);
 * Infinity when NaN appears on one side only.
 */
export function relativeError(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let maxRef = 0, maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]) !== Number.isNaN(want[i])) return Infinity;
    maxRef = Math.max(maxRef, Math.abs(want[i]));
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
