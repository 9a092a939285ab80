/**
 * The categorical draw every sampler shares, done in JavaScript (float64) from the logits so that the
 * reference and the fast sampler consume the same random stream in the same way.
 *
 * Random streams: sample n of a call draws from its own generator, `Mulberry32(hashSeeds(seed, n))` unless
 * the caller passes explicit per-sample generator seeds. Every subpixel (i, j, c) in raster order (colours R, G, B
 * within a pixel) consumes exactly one uniform of its sample's stream, given subpixels included (their
 * uniform is drawn and discarded). So the uniform behind a subpixel depends only on (seed, n, i, j, c), not
 * on the batch, the sampler, or which other pixels are given.
 *
 * Browser-safe: no Node-only imports.
 */
import { hashSeeds, Mulberry32 } from '../data/random';

/** Number of values a subpixel can take. */
export const VALUES = 256;

/** The generator of sample `index` for a run seed: Mulberry32(hashSeeds(seed, index)). */
export function sampleStream(seed: number, index: number): Mulberry32 {
  return new Mulberry32(hashSeeds(seed, index));
}

/** The default generator seeds of samples first .. first+count-1 of a run (for `SampleOptions.sampleSeeds`). */
export function streamSeeds(seed: number, count: number, first = 0): number[] {
  const seeds: number[] = [];
  for (let n = 0; n < count; n++) seeds.push(hashSeeds(seed, first + n));
  return seeds;
}

const scratch = new Float64Array(VALUES);

/**
 * Draws a value 0..255 from softmax(logits / temperature), using the uniform `u` in [0, 1): the smallest
 * value whose cumulative probability exceeds u. Temperature 0 means argmax (the first maximum).
 * Reads `logits[offset .. offset + 255]`.
 */
export function drawCategorical(logits: ArrayLike<number>, offset: number, temperature: number, u: number): number {
  let max = -Infinity;
  let argmax = 0;
  for (let v = 0; v < VALUES; v++) {
    const l = logits[offset + v];
    if (l !== l) throw new Error('sampling: the model produced NaN logits (diverged weights?)');
    if (l > max) {
      max = l;
      argmax = v;
    }
  }
  if (max === Infinity) return argmax;
  if (temperature === 0) return argmax;
  const inverse = 1 / temperature;
  let total = 0;
  for (let v = 0; v < VALUES; v++) {
    const w = Math.exp((logits[offset + v] - max) * inverse);
    scratch[v] = w;
    total += w;
  }
  const target = u * total;
  let cumulative = 0;
  let last = argmax;
  for (let v = 0; v < VALUES; v++) {
    const w = scratch[v];
    if (w === 0) continue;
    cumulative += w;
    last = v;
    if (cumulative > target) return v;
  }
  return last; // rounding left target >= total: the last value with non-zero weight
}

/**
 * -ln softmax(logits)[value] in nats (float64, log-sum-exp from the maximum), reading
 * `logits[offset .. offset + 255]`: the teacher-forced score of a subpixel's true value.
 */
export function negativeLogLikelihood(logits: ArrayLike<number>, offset: number, value: number): number {
  let max = -Infinity;
  for (let v = 0; v < VALUES; v++) {
    const l = logits[offset + v];
    if (l !== l) throw new Error('likelihood: the model produced NaN logits (diverged weights?)');
    if (l > max) max = l;
  }
  if (max === Infinity) return logits[offset + value] === Infinity ? 0 : Infinity;
  let total = 0;
  for (let v = 0; v < VALUES; v++) total += Math.exp(logits[offset + v] - max);
  return max + Math.log(total) - logits[offset + value];
}

export function checkTemperature(temperature: number): number {
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`sampling: temperature must be a finite number >= 0 (0 = argmax), got ${String(temperature)}`);
  }
  return temperature;
}
