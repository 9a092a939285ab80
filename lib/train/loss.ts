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

/** Mean negative log-likelihood in nats per subpixel (the training loss): a scalar, see `accurateMean`. */
export function meanNats(logits: tf.Tensor5D, images: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => accurateMean(subpixelNats(logits, images)));
}

/**
 * The sum of every element as a float32 scalar, summed pairwise: on every backend within a few float32
 * roundings of the exact sum, and exact for equal elements when the count is a power of two. Needed because
 * reported bits/dim are such sums, and backends differ: the wasm backend's Sum and Mean add a whole axis
 * sequentially in float32, which made all-zero logits on a 64x32x32x3 batch report 8.0051 bits/dim instead of
 * 8 (the cpu backend adds in float64). Halving costs log2(n) small ops, each touching half the last one's
 * elements: under a millisecond for a batch, against seconds for a training step. The gradient is
 * tf.sum's (dy broadcast to x's shape), computed directly rather than back through the halvings.
 */
export function accurateSum(x: tf.Tensor): tf.Scalar {
  const op = tf.customGrad(((input: tf.Tensor) => ({
    value: pairwiseSum(input),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(dy, input.shape.map(() => 1)), tf.ones(input.shape, 'float32')),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as tf.Scalar;
}

/** The mean of every element (a scalar): `accurateSum` / count, so its gradient is tf.mean's, 1 / count each. */
export function accurateMean(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(accurateSum(x), x.size) as tf.Scalar);
}

function pairwiseSum(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (x.size === 0) return tf.scalar(0);
    let level = tf.reshape(tf.cast(x, 'float32'), [x.size]);
    while (level.size > 1) {
      // An odd count gets a zero partner: adding 0 is exact.
      if (level.size % 2 === 1) level = tf.concat([level, tf.zeros([1])]);
      level = tf.sum(tf.reshape(level, [level.size / 2, 2]), 1);
    }
    return tf.reshape(level, []) as tf.Scalar;
  });
}

export function natsToBits(nats: number): number {
  return nats * BITS_PER_NAT;
}
