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
 */
import * as tf from '@tensorflow/tfjs';
import { ModelConfig } from './config';
import { applyConv, Condition, Conv, createConv, scalePixels, toLogits } from './layers';
import { colourMask, spatialMask } from './masks';
import { PixelModel } from './model';
import { ParamStore } from './params';

export class SimplePixelCNN implements PixelModel {
  readonly params: ParamStore;
  readonly hidden: Conv[] = [];
  readonly output: Conv;

  constructor(readonly config: ModelConfig) {
    const { colours, channels, kernelSize: k, layers } = config;
    this.params = new ParamStore(config.seed);
    const p = Math.floor(k / 2);
    for (let l = 0; l < layers; l++) {
      const inChannels = l === 0 ? colours : channels;
      const type = l === 0 && !config.leak ? 'A' : 'B';
      this.hidden.push(createConv(this.params, `layer${l}`, [k, k], inChannels, channels, [p, p, p, p],
        spatialMask(type, k, inChannels, channels, colours)));
    }
    const outMask = tf.tensor4d(colourMask('B', channels, colours * 256, colours), [1, 1, channels, colours * 256]);
    this.output = createConv(this.params, 'output', [1, 1], channels, colours * 256, [0, 0, 0, 0], outMask);
  }

  logits(images: tf.Tensor4D, _condition?: Condition): tf.Tensor5D {
    return tf.tidy(() => {
      let x = scalePixels(images); // [N, H, W, C]
      for (const conv of this.hidden) x = tf.relu(applyConv(conv, x)); // [N, H, W, channels]
      return toLogits(applyConv(this.output, x), this.config.colours); // [N, H, W, C, 256]
    });
  }
}
