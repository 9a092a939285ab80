/**
 * The likelihood in the papers' unit. Each subpixel's value is a 256-way categorical; the loss is its
 * negative log-likelihood in nats, reported as bits per dimension (nats x log2 e), averaged over every
 * subpixel of every image.
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropy } from '../ops/softmax-cross-entropy';

export const BITS_PER_NAT = Math.LOG2E;

/** Per-subpixel negative log-likelihood in nats: logits [N, H, W, C, 256], images [N, H, W, C] -> [N, H, W, C]. */
export function subpixelNats(logits: tf.Tensor5D, images: tf.Tensor4D): tf.Tensor4D {
  return softmaxCrossEntropy(logits, images) as tf.Tensor4D; // [N, H, W, C]
}

/** Mean negative log-likelihood in nats per subpixel (the training loss): a scalar. */
export function meanNats(logits: tf.Tensor5D, images: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(subpixelNats(logits, images)) as tf.Scalar);
}

export function natsToBits(nats: number): number {
  return nats * BITS_PER_NAT;
}
