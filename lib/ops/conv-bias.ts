/**
 * A stride-1 NHWC convolution plus a per-channel bias, y = conv(x, w) + b, as one op that keeps only x and w
 * for the backward pass.
 *
 * As two tf ops, `tf.add(tf.conv2d(x, w), b)`, the Add kernel saves both its inputs for its gradient (it needs
 * only their shapes), so every layer's convolution output stays in memory until the backward pass reaches it,
 * next to the biased output the next op saves; and the bias is a second pass over the output. Here the forward
 * pass is tfjs's fused convolution kernel (the native backend's adds the bias in oneDNN as it writes the output)
 * and the gradients are the convolution's two backprop kernels and a sum over the bias axes, each computed only
 * when needed (no gradient of the image).
 */
import * as tf from '@tensorflow/tfjs';

/** [[0, 0], [top, bottom], [left, right], [0, 0]]: explicit zero padding. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const KERNEL = 'FusedConv2D';

/**
 * tfjs registers no gradient for the FusedConv2D kernel (its fused op wraps the kernel in a customGrad, whose
 * gradient function computes every input's gradient at once: the image's too, which nothing reads). This one,
 * for a linear activation with a bias, gives each gradient lazily, so the engine computes only those it needs.
 */
tf.registerGradient({
  kernelName: KERNEL,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const { activation, strides, pad } = attrs as unknown as { activation?: string; strides: number; pad: ExplicitPadding };
    if ((activation ?? 'linear') !== 'linear') throw new Error(`${KERNEL} gradient (lib/ops/conv-bias.ts): only a linear activation, got ${activation}`);
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    return {
      x: () => tf.conv2dTranspose(g, filter, x.shape, strides, pad), // [N, H, W, in]
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g },
        { strides, pad, dataFormat: 'NHWC', filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D, // [kh, kw, in, out]
      bias: () => tf.sum(g, [0, 1, 2]), // [out]
    };
  },
});

/** conv(x, w) + bias: x [N, H, W, in], w [kh, kw, in, out], bias [out] -> [N, H', W', out]. */
export function conv2dWithBias(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D, pad: ExplicitPadding): tf.Tensor4D {
  if (bias.rank !== 1 || bias.shape[0] !== w.shape[3]) {
    throw new Error(`conv2dWithBias: the bias must have one value per output channel (${w.shape[3]}); got shape [${bias.shape}]`);
  }
  return tf.engine().runKernel(KERNEL, { x, filter: w, bias },
    { strides: 1, pad, dataFormat: 'NHWC', dilations: 1, activation: 'linear' } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
