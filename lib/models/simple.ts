/**
 * # Simple PixelCNN
 *
 * van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks", section 3.5
 * (https://arxiv.org/abs/1601.06759). A stack of k x k convolutions whose kernels are masked so
 * that each output sees only the pixels above and to the left, and, at the current pixel, only
 * earlier colours (mask A, first layer) or earlier-or-same colour groups (mask B, later layers).
 *
 * Its receptive field has a blind spot: stacking masked kernels never reaches the pixels above and
 * to the right beyond the kernel's reach (see notebook 05-blind-spot).
 *
 * The weights are the original's k x k kernels under their masks, but the k//2 rows below the current pixel,
 * all masked out, cost nothing: each masked convolution runs as a (k//2+1) x k convolution over the rows above
 * and the current row (the kernel's top rows under their mask: the current row's taps right of the pixel are
 * zero, its centre tap carries the colour mask). It computes exactly the masked k x k convolution.
 * (Splitting it further, into a (k//2) x k convolution over the rows above and a 1 x (k//2+1) one over the
 * current row, skips the remaining k//2 zero taps but costs two convolutions, a slice of the input and a sum
 * each way: on the native backend, simple MNIST at batch 64 trained at 281-316 images/s split, 365-374 merged.)
 */
import * as tf from '@tensorflow/tfjs';
import type { IncrementalBatch } from './incremental';
import { applyConv, Condition, Conv, createConv, scalePixels, toLogits } from './layers';
import { colourMask, spatialMask } from './masks';
import { conv2dWithBias } from '../ops/conv-bias';
import { ParamStore } from './params';
import { PixelCnnBase, PixelCnnFields, UNCONDITIONAL_PIXELCNN } from './pixelcnn';
import { SimpleIncremental } from './simple-incremental';
import { ModelSpec, SharedConfig } from './spec';

export interface SimpleConfig extends SharedConfig, PixelCnnFields {
  kind: 'simple';
}

export const simpleSpec: ModelSpec<SimpleConfig> = {
  kind: 'simple',
  name: 'simple PixelCNN',
  summary: 'masked convolutions (van den Oord et al. 2016, Pixel Recurrent Neural Networks); has a blind spot',
  ...UNCONDITIONAL_PIXELCNN,
  build: (config) => new SimplePixelCNN(config),
};

export class SimplePixelCNN extends PixelCnnBase {
  readonly params: ParamStore;
  readonly conditionShape = { vector: 0, map: 0 };
  readonly hidden: Conv[] = [];
  readonly output: Conv;
  /** Per hidden layer: the mask of the kernel's top k//2+1 rows, [k//2+1, k, in, out]. */
  private readonly topMasks: tf.Tensor4D[] = [];

  constructor(readonly config: SimpleConfig) {
    super();
    const { colours, channels, kernelSize: k, layers } = config;
    this.params = new ParamStore(config.seed);
    const p = Math.floor(k / 2);
    for (let l = 0; l < layers; l++) {
      const inChannels = l === 0 ? colours : channels;
      const type = l === 0 && !config.leak ? 'A' : 'B';
      const mask = spatialMask(type, k, inChannels, channels, colours);
      this.hidden.push(createConv(this.params, `layer${l}`, [k, k], inChannels, channels, [p, p, p, p], mask));
      this.topMasks.push(this.params.constant(tf.slice(mask, [0, 0, 0, 0], [p + 1, k, inChannels, channels])));
    }
    const outMask = tf.tensor4d(colourMask('B', channels, colours * 256, colours), [1, 1, channels, colours * 256]);
    this.output = createConv(this.params, 'output', [1, 1], channels, colours * 256, [0, 0, 0, 0], outMask);
  }

  /** The masked k x k convolution of `conv` as its top k//2+1 rows: [N, H, W, in] -> [N, H, W, out]. */
  maskedConv(conv: Conv, topMask: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor4D {
    const [k, , inChannels, outChannels] = conv.weight.shape;
    const p = Math.floor(k / 2);
    const topWeight = tf.mul(tf.slice(conv.weight, [0, 0, 0, 0], [p + 1, k, inChannels, outChannels]), topMask); // [p+1, k, in, out]
    return conv2dWithBias(x, topWeight as tf.Tensor4D, conv.bias as tf.Tensor1D, [[0, 0], [p, 0], [p, p], [0, 0]]); // [N, H, W, out]
  }

  incremental(batch: IncrementalBatch): SimpleIncremental {
    return new SimpleIncremental(this, batch);
  }

  logits(images: tf.Tensor4D, _condition?: Condition): tf.Tensor5D {
    return tf.tidy(() => {
      let x = scalePixels(images); // [N, H, W, C]
      this.hidden.forEach((conv, l) => { x = tf.relu(this.maskedConv(conv, this.topMasks[l], x)); }); // [N, H, W, channels]
      return toLogits(applyConv(this.output, x), this.config.colours); // [N, H, W, C, 256]
    });
  }
}
