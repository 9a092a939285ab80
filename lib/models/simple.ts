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
 * The weights are the original's k x k kernels under their masks, but no work is spent on the masked-out
 * taps: each masked convolution runs as a (k//2) x k convolution over the rows above (the input shifted
 * down one row) plus a 1 x (k//2+1) convolution over the current row up to the current pixel, whose last
 * tap carries the colour mask. Together they compute exactly the masked k x k convolution.
 */
import * as tf from '@tensorflow/tfjs';
import type { IncrementalBatch } from './incremental';
import { applyConv, Condition, Conv, createConv, scalePixels, toLogits } from './layers';
import { colourMask, spatialMask } from './masks';
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
  /** Per hidden layer: the mask of the current-row taps, [1, k//2+1, in, out] (the full mask's centre row, left half). */
  private readonly rowMasks: tf.Tensor4D[] = [];

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
      this.rowMasks.push(this.params.constant(tf.slice(mask, [p, 0, 0, 0], [1, p + 1, inChannels, channels])));
    }
    const outMask = tf.tensor4d(colourMask('B', channels, colours * 256, colours), [1, 1, channels, colours * 256]);
    this.output = createConv(this.params, 'output', [1, 1], channels, colours * 256, [0, 0, 0, 0], outMask);
  }

  /** The masked k x k convolution of `conv` as the rows-above and current-row convolutions: [N, H, W, in] -> [N, H, W, out]. */
  maskedConv(conv: Conv, rowMask: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w, inChannels] = x.shape;
    const [k, , , outChannels] = conv.weight.shape;
    const p = Math.floor(k / 2);
    const rowWeight = tf.mul(tf.slice(conv.weight, [p, 0, 0, 0], [1, p + 1, inChannels, outChannels]), rowMask); // [1, p+1, in, out]
    let y = tf.conv2d(x, rowWeight as tf.Tensor4D, 1, [[0, 0], [0, 0], [p, 0], [0, 0]]); // [N, H, W, out]
    if (p > 0 && h > 1) {
      const aboveWeight = tf.slice(conv.weight, [0, 0, 0, 0], [p, k, inChannels, outChannels]) as tf.Tensor4D; // [p, k, in, out]
      const rowsAbove = tf.slice(x, [0, 0, 0, 0], [n, h - 1, w, inChannels]); // input rows 0..H-2, read one row lower
      y = tf.add(y, tf.conv2d(rowsAbove, aboveWeight, 1, [[0, 0], [p, 0], [p, p], [0, 0]])); // [N, H, W, out]
    }
    return tf.add(y, conv.bias);
  }

  incremental(batch: IncrementalBatch): SimpleIncremental {
    return new SimpleIncremental(this, batch);
  }

  logits(images: tf.Tensor4D, _condition?: Condition): tf.Tensor5D {
    return tf.tidy(() => {
      let x = scalePixels(images); // [N, H, W, C]
      this.hidden.forEach((conv, l) => { x = tf.relu(this.maskedConv(conv, this.rowMasks[l], x)); }); // [N, H, W, channels]
      return toLogits(applyConv(this.output, x), this.config.colours); // [N, H, W, C, 256]
    });
  }
}
