/**
 * Does a PixelVAE's decoder use z? Posterior collapse (KL -> 0) shows in the KL, but a KL above 0 does not prove
 * that z is used (with free bits the encoder may carry information the decoder ignores). This measures the
 * reconstruction -log p(x | z) of test images given z = their own encoder mean, and given z = the encoder mean of
 * another image (the next one in the batch): if z is ignored the two are equal; the gap, times H*W*C, is how many
 * bits per image knowing the right z saves the PixelCNN.
 *
 * Browser-safe (tensors read with `await t.data()`).
 */
import * as tf from '@tensorflow/tfjs';
import type { PixelVAE } from '../models/vae';
import { meanNats, natsToBits } from '../train/loss';

export interface LatentUsage {
  /** Test images measured. */
  images: number;
  /** Reconstruction in bits/dim given each image's own encoder mean. */
  ownBitsPerDim: number;
  /** Reconstruction in bits/dim given the encoder mean of the next image (cyclically, within each batch). */
  otherBitsPerDim: number;
  /** (other - own) x H*W*C: bits per image that the right z saves. */
  bitsPerImage: number;
}

/** Below 1 bit per image the right z makes no difference worth the name: the PixelCNN ignores z (posterior collapse). */
export function ignoresZ(usage: LatentUsage): boolean {
  return Math.abs(usage.bitsPerImage) < 1;
}

/** Measures `count` images (NHWC bytes of the model's shape) in batches of at most `batchSize` (at least 2 images). */
export async function latentUsage(vae: PixelVAE, images: ArrayLike<number>, count: number, batchSize = 64): Promise<LatentUsage> {
  const { height, width, colours } = vae.config;
  const size = height * width * colours;
  if (!Number.isInteger(count) || count < 2) throw new Error(`latentUsage: needs at least 2 images (z is swapped between them), got ${count}`);
  if (images.length < count * size) throw new Error(`latentUsage: need ${count} images of ${height}x${width}x${colours}, got ${images.length} values`);
  let own = 0;
  let other = 0;
  if (!Number.isInteger(batchSize) || batchSize < 2) throw new Error(`latentUsage: batchSize must be an integer >= 2, got ${batchSize}`);
  for (let start = 0; start < count;) {
    // A last batch of one image would pair it with itself: fold it into the previous batch instead.
    let n = Math.min(batchSize, count - start);
    if (count - start - n === 1) n += 1;
    const values = Float32Array.from(Array.prototype.slice.call(images, start * size, (start + n) * size) as number[]);
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor4d(values, [n, height, width, colours]); // [n, H, W, C]
      const mean = vae.encode(x).mean; // [n, Z]
      const shifted = tf.concat([tf.slice(mean, [1, 0], [n - 1, -1]), tf.slice(mean, [0, 0], [1, -1])], 0) as tf.Tensor2D; // [n, Z]
      return [meanNats(vae.logits(x, vae.decoderCondition(mean)), x), meanNats(vae.logits(x, vae.decoderCondition(shifted)), x)];
    });
    own += (await a.data())[0] * n;
    other += (await b.data())[0] * n;
    tf.dispose([a, b]);
    start += n;
  }
  const ownBitsPerDim = natsToBits(own / count);
  const otherBitsPerDim = natsToBits(other / count);
  return { images: count, ownBitsPerDim, otherBitsPerDim, bitsPerImage: (otherBitsPerDim - ownBitsPerDim) * size };
}
