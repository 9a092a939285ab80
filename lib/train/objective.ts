/**
 * What the trainer minimises, separated from how models work: an objective names its trainable
 * variables and turns a batch into a mean loss in nats per dimension.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeeds } from '../data/random';
import { PixelModel } from '../models/model';
import { Condition } from '../models/layers';
import { gaussianKlPerDim, isPixelVAE, PixelVAE, reparameterise } from '../models/vae';
import type { TrainConfig } from './config';
import { accurateSum, meanNats } from './loss';

/** Per-batch context the trainer passes: a seed for any randomness in the loss (the VAE's noise). */
export interface LossContext {
  /** Integer seed; the same seed gives the same loss. */
  seed: number;
  /**
   * The training step (0-based) the loss is computed for; absent in evaluation. Only a schedule reads it (a
   * VAE's KL warm-up), and only the loss that is minimised depends on it, never the reported value.
   */
  step?: number;
}

/**
 * A loss together with named parts, all in nats per dimension (scalars). A type alias, so `tf.tidy` can return it.
 * `loss` is what is minimised; `value` is the objective's true value, the one reported, when it differs from
 * `loss` (a VAE during KL warm-up); the parts add up to `value ?? loss`.
 */
export type LossTerms = {
  loss: tf.Scalar;
  parts: Record<string, tf.Scalar>;
  value?: tf.Scalar;
};

export interface Objective {
  readonly variables: tf.Variable[];
  /** Mean negative log-likelihood (or negative ELBO) in nats per dimension: a scalar. */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D, context?: LossContext): tf.Scalar;
  /**
   * Optional: the loss with its parts (e.g. a VAE's reconstruction and KL), which the trainer then records
   * next to the loss, and the true value it reports when the minimised loss differs (see LossTerms). The
   * caller owns (disposes) every returned tensor.
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
 * Remedies for posterior collapse (the decoder learning to ignore z, KL -> 0), both off by default. They
 * change only the loss that training minimises; evaluation and every reported number stay the true negative
 * ELBO (KL weight 1, no floor).
 */
export interface VaeObjectiveOptions {
  /**
   * KL warm-up (Bowman et al. 2016; Sonderby et al. 2016): the KL term's weight in the training loss rises
   * linearly from 0 at step 0 to 1 at step `klWarmupSteps` and stays 1 after. 0 or undefined: off.
   */
  klWarmupSteps?: number;
  /**
   * Free bits (Kingma et al. 2016, "Improved Variational Inference with Inverse Autoregressive Flow"), in nats
   * per latent dimension: the training loss counts each dimension's batch-mean KL as at least this much, so
   * the optimiser gains nothing from pushing it lower. 0 or undefined: off.
   */
  freeBits?: number;
}

/** The KL weight of training step `step` (0-based) under a warm-up of `warmupSteps` steps; 1 outside training. */
export function klWeight(warmupSteps: number | undefined, step: number | undefined): number {
  if (!warmupSteps || step === undefined) return 1;
  return Math.min(1, step / warmupSteps);
}

function checkVaeOptions(options: VaeObjectiveOptions): void {
  const { klWarmupSteps, freeBits } = options;
  if (klWarmupSteps !== undefined && !(Number.isInteger(klWarmupSteps) && klWarmupSteps >= 0)) {
    throw new Error(`vaeObjective: klWarmupSteps must be an integer >= 0, got ${klWarmupSteps}`);
  }
  if (freeBits !== undefined && !(Number.isFinite(freeBits) && freeBits >= 0)) throw new Error(`vaeObjective: freeBits must be a number >= 0, got ${freeBits}`);
}

/**
 * The PixelVAE's negative ELBO per dimension, -ELBO / (H*W*C) = reconstruction + kl, both in nats per
 * dimension (the original added the reconstruction in bits to the KL in nats):
 * - reconstruction: -log p(x | z) of the PixelCNN given the decoder's condition, z = mean + std * eps
 *   drawn once per image (reparameterised, seeded from `context.seed`);
 * - kl: the analytic KL(q(z|x) || N(0, I)) of each image, divided by H*W*C.
 * Without a context, successive calls use seeds `seed`, `seed + 1`, ... (reproducible per objective). Labels
 * are ignored.
 *
 * With `options` (KL warm-up, free bits) and a training step in the context, the minimised `loss` is
 * reconstruction + weight * KL' (KL' with the free-bits floor) while `value` and the parts stay the true
 * negative ELBO. Without them `loss` is the negative ELBO and no `value` is returned.
 */
export function vaeObjective(vae: PixelVAE, seed = 0, options: VaeObjectiveOptions = {}): Objective {
  checkVaeOptions(options);
  const { height, width, colours } = vae.config;
  const dims = height * width * colours;
  const freeBits = options.freeBits ?? 0;
  let calls = 0;
  const terms = (images: tf.Tensor4D, _labels: tf.Tensor1D, context?: LossContext): LossTerms => {
    const noiseSeed = context?.seed ?? hashSeeds(seed, calls++);
    const weight = klWeight(options.klWarmupSteps, context?.step);
    const training = context?.step !== undefined;
    return tf.tidy(() => {
      const posterior = vae.encode(images); // mean, logVar [N, Z]
      const z = reparameterise(posterior, noiseSeed); // [N, Z]
      const condition = vae.decoderCondition(z);
      const reconstruction = meanNats(vae.logits(images, condition), images); // nats/dim
      // Summed accurately over the batch and z (as the reconstruction is): a reported number.
      const perDim = gaussianKlPerDim(posterior.mean, posterior.logVar); // [N, Z]
      const kl = tf.div(accurateSum(perDim), images.shape[0] * dims) as tf.Scalar; // nats/dim
      const elbo = tf.add(reconstruction, kl) as tf.Scalar;
      if (!training || (weight === 1 && freeBits === 0)) return { loss: elbo, parts: { reconstruction, kl } };
      let trainedKl = kl;
      if (freeBits > 0) {
        // Per latent dimension: the batch-mean KL, floored at freeBits nats; summed over z, per image dimension.
        const batchMean = tf.mean(perDim, 0); // [Z]
        trainedKl = tf.div(tf.sum(tf.maximum(batchMean, freeBits)), dims) as tf.Scalar; // nats/dim
      }
      const loss = tf.add(reconstruction, tf.mul(trainedKl, weight)) as tf.Scalar;
      return { loss, value: elbo, parts: { reconstruction, kl } };
    });
  };
  return {
    variables: vae.params.list(),
    terms,
    loss: (images, labels, context) => {
      const result = terms(images, labels, context);
      tf.dispose(Object.values(result.parts));
      if (result.value) result.value.dispose();
      return result.loss;
    },
  };
}

/**
 * The objective a model trains with: the negative ELBO for a PixelVAE (with the training config's KL warm-up
 * and free bits, if set), maximum likelihood otherwise.
 */
export function objectiveFor(model: PixelModel, train: Partial<Pick<TrainConfig, 'klWarmupSteps' | 'freeBits'>> = {}): Objective {
  if (isPixelVAE(model)) return vaeObjective(model, model.config.seed, { klWarmupSteps: train.klWarmupSteps, freeBits: train.freeBits });
  if (train.klWarmupSteps || train.freeBits) {
    throw new Error(`klWarmupSteps and freeBits apply to a PixelVAE's KL term; a ${model.config.kind} model has none`);
  }
  return pixelCnnObjective(model);
}
