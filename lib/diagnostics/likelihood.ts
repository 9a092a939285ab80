/**
 * The exact likelihood check (the original project's `--pixel-by-pixel`): a batch's bits/dim computed
 * twice,
 *
 * - in one pass: `model.logits` on the full images, every subpixel's -ln p(true value) read off at once
 *   (how training and evaluation compute it);
 * - pixel by pixel: subpixel after subpixel in the sampling order, the model given only the subpixels
 *   already known (the later ones blank, raw 0, as while sampling), through the fast sampler's machinery in
 *   teacher-forced mode (lib/sample/teacher.ts) or the naive reference (one full forward pass per subpixel).
 *
 * For a correct autoregressive model the logits of a subpixel never depend on it or on later subpixels, so
 * the two agree to float rounding (1e-4 bits/dim). A model that sees what it predicts (`leak: true`) gets a
 * one-pass value far too low, which pixel by pixel, where the value it would peek at is blank, it cannot
 * reach: the difference exposes the leak even when the training curve looks excellent.
 *
 * Browser-safe: no Node-only imports; tensors are read with `await t.data()`.
 */
import * as tf from '@tensorflow/tfjs';
import { batchCondition } from '../models/incremental';
import { disposeCondition, PixelModel } from '../models/model';
import { subpixelNats, BITS_PER_NAT } from '../train/loss';
import { preparePlan, SampleCondition, SampleProgress } from '../sample/plan';
import type { SamplerName } from '../sample/sample';
import { teacherForce } from '../sample/teacher';

/** The agreement a correct model reaches (bits/dim): float32 rounding stays far below it. */
export const LIKELIHOOD_TOLERANCE = 1e-4;

export interface LikelihoodCheckOptions {
  /** Per-image condition for conditional models (labels, vectors or a map), as for sampling. */
  condition?: SampleCondition;
  /** The pixel-by-pixel method: 'fast' (default, the fast sampler's caches) or 'reference' (naive). */
  method?: SamplerName;
  /** Agreement required of a correct model, bits/dim (default LIKELIHOOD_TOLERANCE = 1e-4). */
  tolerance?: number;
  /** Images per one-pass forward (default 16; bounds memory, not the result). */
  batchSize?: number;
  /** Progress of the pixel-by-pixel pass. */
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
}

export interface LikelihoodCheck {
  /** Images checked. */
  count: number;
  /** Mean bits/dim from `model.logits` on the full images. */
  onePassBitsPerDim: number;
  /** Mean bits/dim subpixel by subpixel from the known subpixels only. */
  pixelByPixelBitsPerDim: number;
  /** pixelByPixel - onePass, bits/dim: about 0 for a correct model, clearly positive for a leaking one. */
  difference: number;
  /** |difference| <= tolerance. */
  agrees: boolean;
  tolerance: number;
  /** Per image, bits/dim. */
  perImage: { onePass: number[]; pixelByPixel: number[] };
  /** Wall-clock seconds of the pixel-by-pixel pass, and of the one-pass evaluation. */
  seconds: number;
  onePassSeconds: number;
  /** The pixel-by-pixel method that ran ('reference' for models the fast sampler cannot run). */
  method: SamplerName;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * One-pass negative log-likelihoods (nats) of every subpixel, count * H * W * C (NHWC), from
 * `model.logits` on the full images, `batchSize` images at a time.
 */
export async function onePassNats(
  model: PixelModel, images: ArrayLike<number>, condition?: SampleCondition, batchSize = 16,
): Promise<Float64Array> {
  const { height, width, colours } = model.config;
  const imageSize = height * width * colours;
  const count = images.length / imageSize;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`likelihood: images has ${images.length} values; expected a positive multiple of H*W*C = ${imageSize}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`likelihood: batchSize must be a positive integer, got ${batchSize}`);
  // The plan normalises the condition (labels -> one-hot, checks against the model) exactly as for sampling.
  const plan = await preparePlan(model, { count, condition });
  const out = new Float64Array(count * imageSize);
  const pixels = Float32Array.from(images);
  const all = batchCondition(plan, model.conditionShape);
  try {
    for (let first = 0; first < count; first += batchSize) {
      const n = Math.min(batchSize, count - first);
      const nats = tf.tidy(() => {
        const x = tf.tensor4d(pixels.subarray(first * imageSize, (first + n) * imageSize), [n, height, width, colours]);
        const condition = all && {
          vector: all.vector && tf.slice(all.vector, [first, 0], [n, -1]),
          map: all.map && tf.slice(all.map, [first, 0, 0, 0], [n, -1, -1, -1]),
        };
        return subpixelNats(model.logits(x, condition), x); // [n, H, W, C]
      });
      try {
        out.set((await nats.data()) as Float32Array, first * imageSize);
      } finally {
        nats.dispose();
      }
    }
  } finally {
    disposeCondition(all);
  }
  return out;
}

/** Mean bits/dim of each image's block of `imageSize` nats. */
function bitsPerImage(nats: Float64Array, imageSize: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < nats.length; start += imageSize) {
    let sum = 0;
    for (let k = start; k < start + imageSize; k++) sum += nats[k];
    out.push((sum / imageSize) * BITS_PER_NAT);
  }
  return out;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Bits/dim of `images` (count * H * W * C raw values 0..255, NHWC, e.g. a dataset split's bytes) in one
 * pass and pixel by pixel, and whether they agree.
 */
export async function likelihoodCheck(model: PixelModel, images: ArrayLike<number>, options: LikelihoodCheckOptions = {}): Promise<LikelihoodCheck> {
  const tolerance = options.tolerance ?? LIKELIHOOD_TOLERANCE;
  const { height, width, colours } = model.config;
  const imageSize = height * width * colours;
  let start = now();
  const onePass = bitsPerImage(await onePassNats(model, images, options.condition, options.batchSize), imageSize);
  const onePassSeconds = (now() - start) / 1000;
  start = now();
  const forced = await teacherForce(model, images, {
    condition: options.condition, sampler: options.method, onProgress: options.onProgress, signal: options.signal,
  });
  const seconds = (now() - start) / 1000;
  const pixelByPixel = bitsPerImage(forced.nats, imageSize);
  const onePassBitsPerDim = mean(onePass);
  const pixelByPixelBitsPerDim = mean(pixelByPixel);
  const difference = pixelByPixelBitsPerDim - onePassBitsPerDim;
  return {
    count: forced.count, onePassBitsPerDim, pixelByPixelBitsPerDim, difference, agrees: Math.abs(difference) <= tolerance, tolerance,
    perImage: { onePass, pixelByPixel }, seconds, onePassSeconds, method: forced.sampler,
  };
}

/** A one-line summary for logs and notebooks. */
export function formatLikelihoodCheck(check: LikelihoodCheck): string {
  const verdict = check.agrees ? 'agree' : `DIFFER (tolerance ${check.tolerance})`;
  return `${check.count} image(s): one pass ${check.onePassBitsPerDim.toFixed(5)} bits/dim, pixel by pixel `
    + `${check.pixelByPixelBitsPerDim.toFixed(5)} bits/dim (${check.method}, ${check.seconds.toFixed(2)} s): `
    + `difference ${check.difference.toExponential(2)} -> ${verdict}`;
}
