/** The interface every autoregressive image model in this project implements. */
import * as tf from '@tensorflow/tfjs';
import { ModelConfig } from './config';
import { Condition } from './layers';
import { ParamStore } from './params';

export interface PixelModel {
  readonly config: ModelConfig;
  readonly params: ParamStore;
  /**
   * Logits of every subpixel's 256 values: images [N, H, W, C] (raw values 0..255, any dtype)
   * -> [N, H, W, C, 256]. The logits of subpixel (i, j, c) depend only on earlier subpixels.
   */
  logits(images: tf.Tensor4D, condition?: Condition): tf.Tensor5D;
}

export function parameterCount(model: PixelModel): number {
  return model.params.count();
}
