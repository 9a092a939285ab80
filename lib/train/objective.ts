/**
 * What the trainer minimises, separated from how models work: an objective names its trainable
 * variables and turns a batch into a mean loss in nats per dimension. Each model makes its own
 * (`PixelModel.objective()`: maximum likelihood in lib/models/pixelcnn.ts, the negative ELBO in
 * lib/models/vae-objective.ts).
 */
import * as tf from '@tensorflow/tfjs';

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
