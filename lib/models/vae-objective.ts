/**
 * The PixelVAE's objective: the negative ELBO in nats per dimension, reconstruction plus KL, with the remedies
 * for posterior collapse (KL warm-up, free bits) that change only what training minimises.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeeds } from '../data/random';
import { accurateSum, meanNats } from '../train/loss';
import type { LossContext, LossTerms, Objective } from '../train/objective';
import type { PixelVAE, Posterior } from './vae';

/** Analytic KL(N(mean, exp(logVar)) || N(0, I)) per example and latent dimension, in nats: [N, Z] -> [N, Z]. */
export function gaussianKlPerDim(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(0.5, tf.sub(tf.add(tf.exp(logVar), tf.square(mean)), tf.add(logVar, 1))) as tf.Tensor2D); // [N, Z]
}

/** Analytic KL(N(mean, exp(logVar)) || N(0, I)) per example, in nats: [N, Z] -> [N]. */
export function gaussianKl(mean: tf.Tensor2D, logVar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(gaussianKlPerDim(mean, logVar), 1) as tf.Tensor1D); // [N]
}

/**
 * N(0, 1) noise of `shape` drawn from `seed`, the same for the same seed. tfjs's randomNormal takes seed 0 for
 * "no seed" (a different draw each call), so 0 stands in for a fixed other seed; every other seed is used as is.
 */
export function seededNormal(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed === 0 ? 0x5eed0 : seed);
}

/** z = mean + exp(logVar / 2) * eps with eps ~ N(0, I) drawn from `seed` (same seed, same z): [N, Z]. */
export function reparameterise(posterior: Posterior, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const eps = seededNormal(posterior.mean.shape, seed); // [N, Z]
    return tf.add(posterior.mean, tf.mul(tf.exp(tf.mul(posterior.logVar, 0.5)), eps)) as tf.Tensor2D; // [N, Z]
  });
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
