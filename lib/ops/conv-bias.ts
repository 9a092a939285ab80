/**
 * A stride-1 NHWC convolution plus a per-channel bias, y = conv(x, w) + b, as one op that keeps only x and w
 * for the backward pass.
 *
 * As two tf ops, `tf.add(tf.conv2d(x, w), b)`, the Add kernel saves both its inputs for its gradient (it needs
 * only their shapes), so every layer's convolution output stays in memory until the backward pass reaches it,
 * next to the biased output the next op saves; and the bias is a second pass over the output. Here the forward
 * pass is tfjs's fused convolution kernel (the native backend's adds the bias in oneDNN as it writes the output)
 * and the gradients are the convolution's two backprop kernels and a sum over the bias axes.
 */
import * as tf from '@tensorflow/tfjs';

/** [[0, 0], [top, bottom], [left, right], [0, 0]]: explicit zero padding. */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/** conv(x, w) + bias: x [N, H, W, in], w [kh, kw, in, out], bias [out] -> [N, H', W', out]. */
export function conv2dWithBias(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D, pad: ExplicitPadding): tf.Tensor4D {
  if (bias.rank !== 1 || bias.shape[0] !== w.shape[3]) {
    throw new Error(`conv2dWithBias: the bias must have one value per output channel (${w.shape[3]}); got shape [${bias.shape}]`);
  }
  const op = tf.customGrad(((input: tf.Tensor4D, filter: tf.Tensor4D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([input, filter]);
    return {
      value: tf.fused.conv2d({ x: input, filter, bias: b, strides: 1, pad }),
      gradFunc: (dy: tf.Tensor4D, [savedInput, savedFilter]: tf.Tensor[]) => [
        tf.conv2dTranspose(dy, savedFilter as tf.Tensor4D, savedInput.shape as [number, number, number, number], 1, pad), // [N, H, W, in]
        tf.engine().runKernel('Conv2DBackpropFilter', { x: savedInput, dy },
          { strides: 1, pad, dataFormat: 'NHWC', filterShape: savedFilter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D, // [kh, kw, in, out]
        tf.sum(dy, [0, 1, 2]), // [out]
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, w, bias) as tf.Tensor4D;
}
