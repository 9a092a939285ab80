/** Builds any model from its plain-data config. */
import * as tf from '@tensorflow/tfjs';
import { ModelConfig, validateModelConfig } from './config';
import { GatedPixelCNN } from './gated';
import { Condition } from './layers';
import { PixelModel } from './model';
import { SimplePixelCNN } from './simple';
import { PixelVAE } from './vae';

export * from './config';
export { Condition } from './layers';
export { PixelModel, parameterCount } from './model';
export { SimplePixelCNN } from './simple';
export { GatedPixelCNN } from './gated';
export { PixelVAE, gaussianKl, isPixelVAE, reparameterise } from './vae';
export type { Posterior } from './vae';

export function buildModel(config: ModelConfig): PixelModel {
  validateModelConfig(config);
  if (config.kind === 'simple') return new SimplePixelCNN(config);
  if (config.kind === 'vae-up' || config.kind === 'vae-straight') return new PixelVAE(config);
  return new GatedPixelCNN(config);
}

/** Class labels -> the location-independent condition (one-hot). */
export function classCondition(labels: ArrayLike<number>, classes: number): Condition {
  return { vector: tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), classes).toFloat() as tf.Tensor2D) };
}
