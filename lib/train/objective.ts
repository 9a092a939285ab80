/**
 * What the trainer minimises, separated from how models work: an objective names its trainable
 * variables and turns a batch into a mean loss in nats per dimension.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeeds } from '../data/random';
import { PixelModel } from '../models/model';
import { Condition } from '../models/layers';
import { gaussianKl, isPixelVAE, PixelVAE, reparameterise } from '../models/vae';
import { meanNats } from './loss';

/** Per-batch context the trainer passes: a seed for any randomness in the loss (the VAE's noise). */
export interface LossContext {
  /** Integer seed; the same seed gives the same loss. */
  seed: number;
}

/** A loss together with named parts that add up to it, all in nats per dimension (scalars). A type alias, so `tf.tidy` can return it. */
export type LossTerms = {
  loss: tf.Scalar;
  parts: Record<string, tf.Scalar>;
};

export interface Objective {
  readonly variables: tf.Variable[];
  /** Mean negative log-likelihood (or negative ELBO) in nats per dimension: a scalar. */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D, context?: LossContext): tf.Scalar;
  /**
   * Optional: the loss with its parts (e.g. a VAE's reconstruction and KL), which the trainer then records
   * next to the loss. The caller owns (disposes) every returned tensor.
   */
  terms?(images: tf.Tensor4D, labels: tf.Tensor1D, context?: LossContext): LossTerms;
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

/**
 * The PixelVAE's negative ELBO per dimension, -ELBO / (H*W*C) = reconstruction + kl, both in nats per
 * dimension (the original added the reconstruction in bits to the KL in nats):
 * - reconstruction: -log p(x | z) of the PixelCNN given the decoder's condition, z = mean + std * eps
 *   drawn once per image (reparameterised, seeded from `context.seed`);
 * - kl: the analytic KL(q(z|x) || N(0, I)) of each image, divided by H*W*C.
 * Without a context, successive calls use seeds `seed`, `seed + 1`, ... (reproducible per objective). Labels
 * are ignored.
 */
export function vaeObjective(vae: PixelVAE, seed = 0): Objective {
  const { height, width, colours } = vae.config;
  const dims = height * width * colours;
  let calls = 0;
  const terms = (images: tf.Tensor4D, _labels: tf.Tensor1D, context?: LossContext): LossTerms => {
    const noiseSeed = context?.seed ?? hashSeeds(seed, calls++);
    return tf.tidy(() => {
      const posterior = vae.encode(images); // mean, logVar [N, Z]
      const z = reparameterise(posterior, noiseSeed); // [N, Z]
      const condition = vae.decoderCondition(z);
      const reconstruction = meanNats(vae.logits(images, condition), images); // nats/dim
      const kl = tf.div(tf.mean(gaussianKl(posterior.mean, posterior.logVar)), dims) as tf.Scalar; // nats/dim
      return { loss: tf.add(reconstruction, kl) as tf.Scalar, parts: { reconstruction, kl } };
    });
  };
  return {
    variables: vae.params.list(),
    terms,
    loss: (images, labels, context) => {
      const result = terms(images, labels, context);
      tf.dispose(Object.values(result.parts));
      return result.loss;
    },
  };
}

/** The objective a model trains with: the negative ELBO for a PixelVAE, maximum likelihood otherwise. */
export function objectiveFor(model: PixelModel): Objective {
  return isPixelVAE(model) ? vaeObjective(model, model.config.seed) : pixelCnnObjective(model);
}
