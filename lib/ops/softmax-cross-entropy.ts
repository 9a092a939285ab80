/**
 * The softmax cross-entropy, where training spends much of its non-convolution time: one kernel where the
 * backend has it (wasm: lib/backend/wasm-fused.ts), a chain of standard ops elsewhere (the reference the fused
 * kernel is tested against). Differentiable in the logits.
 */
import * as tf from '@tensorflow/tfjs';

/** The fused kernel's name; a backend that registers it (lib/backend/wasm-fused.ts) gets the one-pass form. */
export const SOFTMAX_CE_KERNEL = 'PixelSoftmaxCrossEntropy';

function fusedKernelHere(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** -log softmax(logits)[label] per row, as standard ops: logits [..., K], labels int [...] -> [...]. */
export function softmaxCrossEntropyReference(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const k = logits.shape[logits.shape.length - 1];
    const targets = tf.oneHot(tf.cast(labels, 'int32'), k);
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), targets), -1));
  });
}

/**
 * The negative log-likelihood (nats) of each label under the softmax of its logits: logits [..., K] and
 * integer labels [...] (values 0..K-1) -> [...]. Differentiable in the logits.
 */
export function softmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const k = logits.shape[logits.shape.length - 1];
  const outer = logits.shape.slice(0, -1);
  if (labels.shape.length !== outer.length || labels.shape.some((d, i) => d !== outer[i])) {
    throw new Error(`softmaxCrossEntropy: labels of shape [${labels.shape}] do not match logits [${logits.shape}] without their last axis`);
  }
  if (!fusedKernelHere(SOFTMAX_CE_KERNEL)) return softmaxCrossEntropyReference(logits, labels);
  const rows = labels.size;
  const flatLabels = tf.tidy(() => tf.reshape(tf.cast(labels, 'int32'), [rows]));
  try {
    const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
      const [nats, grad] = tf.engine().runKernel(SOFTMAX_CE_KERNEL, { logits: tf.reshape(input, [rows, k]), labels: flatLabels }) as tf.Tensor[];
      save([grad]);
      return {
        value: tf.reshape(nats, outer),
        gradFunc: (dy: tf.Tensor, [g]: tf.Tensor[]) => tf.reshape(tf.mul(g, tf.reshape(dy, [rows, 1])), input.shape),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(logits);
  } finally {
    flatLabels.dispose();
  }
}
