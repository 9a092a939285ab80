/**
 * Sampling a PixelVAE for chosen latents: images drawn by its PixelCNN given the decoder's condition for each z
 * (reconstructions from encoder means, rows per fixed z, interpolations), and the latent-space helpers those
 * need. Browser-safe (no Node-only imports); tensors are read with `await t.data()` by the samplers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Condition } from '../models/layers';
import { disposeCondition } from '../models/model';
import type { PixelVAE } from '../models/vae';
import type { SampleProgress, SampleResult } from './plan';
import { sample, SamplerName } from './sample';

export interface LatentSampleOptions {
  /** Samples drawn for each z (default 1): image k uses z[floor(k / samplesPerLatent)]. */
  samplesPerLatent?: number;
  /** Run seed (default 0): image k draws from stream hashSeeds(seed, k), as in `sample`. */
  seed?: number;
  /**
   * Explicit per-image generator seeds instead of `seed` (see SampleOptions.sampleSeeds); equal seeds give equal
   * uniforms, so images differ only through their z (an interpolation: one seed for every point).
   */
  sampleSeeds?: ArrayLike<number>;
  temperature?: number;
  /** 'fast' (default) or 'reference'. */
  sampler?: SamplerName;
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
}

/**
 * Images from the PixelVAE's PixelCNN given `z` [L, Z] (not disposed): `samplesPerLatent` images per z, in
 * order (all of z[0]'s first).
 */
export async function sampleLatents(vae: PixelVAE, z: tf.Tensor2D, options: LatentSampleOptions = {}): Promise<SampleResult> {
  const per = options.samplesPerLatent ?? 1;
  const count = z.shape[0] * per;
  const condition = latentCondition(vae, z, per);
  try {
    return await sample(vae, {
      count, seed: options.seed, sampleSeeds: options.sampleSeeds, temperature: options.temperature, sampler: options.sampler,
      condition, onProgress: options.onProgress, signal: options.signal,
    });
  } finally {
    disposeCondition(condition);
  }
}

/**
 * The decoder's condition for `samplesPerLatent` images per z (z [L, Z], not disposed), all of z[0]'s first:
 * { vector, map } for L * samplesPerLatent images, to pass as a SampleOptions condition and dispose after.
 */
export function latentCondition(vae: PixelVAE, z: tf.Tensor2D, samplesPerLatent = 1): Condition {
  const per = samplesPerLatent;
  if (!Number.isInteger(per) || per < 1) throw new Error(`samplesPerLatent must be a positive integer, got ${per}`);
  const count = z.shape[0] * per;
  return tf.tidy(() => {
    const indices = tf.tensor1d(Array.from({ length: count }, (_, k) => Math.floor(k / per)), 'int32'); // [count]
    const c = vae.decoderCondition(tf.gather(z, indices) as tf.Tensor2D);
    return { vector: c.vector, map: c.map };
  });
}

/** The encoder means E[z | x] of `count` images (NHWC bytes of the model's shape): [count, Z]. */
export function encoderMeans(vae: PixelVAE, images: ArrayLike<number>, count: number): tf.Tensor2D {
  const { height, width, colours } = vae.config;
  const size = height * width * colours;
  if (images.length < count * size) throw new Error(`encoderMeans: need ${count} images of ${height}x${width}x${colours}, got ${images.length} values`);
  return tf.tidy(() => {
    const x = tf.tensor4d(Array.prototype.slice.call(images, 0, count * size) as number[], [count, height, width, colours], 'float32');
    const posterior = vae.encode(x);
    return posterior.mean; // [count, Z]
  });
}

/** `points` latents evenly spaced on the line from `a` to `b` ([Z] or [1, Z] each), both ends included: [points, Z]. */
export function interpolateLatents(a: tf.Tensor, b: tf.Tensor, points: number): tf.Tensor2D {
  if (!Number.isInteger(points) || points < 2) throw new Error(`interpolateLatents: points must be an integer >= 2, got ${points}`);
  if (a.size !== b.size) throw new Error(`interpolateLatents: the ends have ${a.size} and ${b.size} values`);
  return tf.tidy(() => {
    const from = tf.reshape(a, [1, a.size]); // [1, Z]
    const to = tf.reshape(b, [1, b.size]); // [1, Z]
    const t = tf.tensor2d(Array.from({ length: points }, (_, k) => k / (points - 1)), [points, 1]); // [points, 1]
    return tf.add(from, tf.mul(t, tf.sub(to, from))) as tf.Tensor2D; // [points, Z]
  });
}
