/**
 * What the trainer minimises, separated from how models work: an objective names its trainable
 * variables and turns a batch into a mean loss in nats per dimension.
 */
import * as tf from '@tensorflow/tfjs';
import { PixelModel } from '../models/model';
import { Condition } from '../models/layers';
import { meanNats } from './loss';

export interface Objective {
  readonly variables: tf.Variable[];
  /** Mean negative log-likelihood (or negative ELBO) in nats per dimension: a scalar. */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D): tf.Scalar;
}

/** The condition a model expects for a batch with these labels (class one-hot for class-conditional models). */
export function labelCondition(model: PixelModel, labels: tf.Tensor1D): Condition | undefined {
  const size = model.config.conditionSize;
  return size > 0 ? { vector: tf.oneHot(tf.cast(labels, 'int32'), size).toFloat() as tf.Tensor2D } : undefined;
}

/** Maximum likelihood for a PixelCNN (class-conditional models read the labels). */
export function pixelCnnObjective(model: PixelModel): Objective {
  return {
    variables: model.params.list(),
    loss: (images, labels) => tf.tidy(() => meanNats(model.logits(images, labelCondition(model, labels)), images)),
  };
}
