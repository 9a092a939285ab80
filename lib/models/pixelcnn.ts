/**
 * What the plain PixelCNNs (simple, gated, conditional) share as PixelModels: maximum likelihood as their
 * objective, and class labels (when they take classes) as the condition of training batches, samples and
 * completions. A PixelVAE (vae.ts) implements the same interface with its ELBO and latents instead.
 */
import * as tf from '@tensorflow/tfjs';
import { meanNats } from '../train/loss';
import type { Objective } from '../train/objective';
import type { Incremental, IncrementalBatch } from './incremental';
import type { Condition } from './layers';
import type { CompletionRequest, ConditionShape, LatentSource, PixelModel, ScratchRequest } from './model';
import type { ParamStore } from './params';
import type { ModelConfig } from './registry';
import { DEFAULT_PIXELCNN_SIZE, describeSize, PixelCnnSize, SharedConfig, validatePixelCnnSize } from './spec';

/** The fields every plain PixelCNN kind has. */
export interface PixelCnnFields extends PixelCnnSize {
  /**
   * Deliberately broken variant for the diagnostics: the first layer sees the subpixel it predicts.
   * Never use it for real work.
   */
  leak: boolean;
}

/** The PixelVAE's fields at their old defaults: older checkpoints stored every kind's fields (flat configs). */
export const RETIRED_LATENT_FIELDS = { latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0 } as const;

/**
 * The spec fields every unconditional plain PixelCNN kind shares (simple, gated, gated-blindspot): -x -k -c and
 * the diagnostics' leak, no options of their own, no condition.
 */
export const UNCONDITIONAL_PIXELCNN = {
  defaults: { ...DEFAULT_PIXELCNN_SIZE, leak: false },
  options: [],
  retired: { conditionSize: 0, conditionMapChannels: 0, ...RETIRED_LATENT_FIELDS },
  validate: validatePixelCnnSize,
  describe: (config: SharedConfig & PixelCnnSize): string => `${config.kind}: ${describeSize(config)}`,
} as const;

/** Class labels -> the location-independent condition: one-hot vectors [N, classes]. */
export function classCondition(labels: ArrayLike<number> | tf.Tensor1D, classes: number): Condition {
  return {
    vector: tf.tidy(() => {
      const indices = labels instanceof tf.Tensor ? tf.cast(labels, 'int32') : tf.tensor1d(Array.from(labels), 'int32');
      return tf.oneHot(indices as tf.Tensor1D, classes).toFloat() as tf.Tensor2D; // [N, classes]
    }),
  };
}

export abstract class PixelCnnBase implements PixelModel {
  abstract readonly config: ModelConfig & PixelCnnSize;
  abstract readonly params: ParamStore;
  abstract readonly conditionShape: ConditionShape;
  readonly latentSources: readonly LatentSource[] = [];

  abstract logits(images: tf.Tensor4D, condition?: Condition): tf.Tensor5D;
  abstract incremental(batch: IncrementalBatch): Incremental;

  /** The class vector is the only condition a plain PixelCNN can be asked for (a map comes from a decoder). */
  get classes(): number {
    return this.conditionShape.vector;
  }

  private labelCondition(labels: ArrayLike<number> | undefined, what: string): Condition | undefined {
    if (this.conditionShape.map > 0) {
      throw new Error(`${this.config.kind} model: ${what} needs a ${this.conditionShape.map}-channel condition map, which only the decoder that makes it can give`);
    }
    if (this.classes === 0) return undefined;
    if (!labels) throw new Error(`${this.config.kind} model: ${what} needs the class of each image (${this.classes} classes)`);
    return classCondition(labels, this.classes);
  }

  /** Maximum likelihood: the mean negative log-likelihood in nats per dimension, given each batch's classes. */
  objective(): Objective {
    return {
      variables: this.params.list(),
      loss: (images, labels) => tf.tidy(() => {
        const condition = this.classes > 0 ? classCondition(labels, this.classes) : undefined;
        return meanNats(this.logits(images, condition), images);
      }),
    };
  }

  scratchCondition(request: ScratchRequest): Condition | undefined {
    return this.labelCondition(request.labels, 'sampling');
  }

  completionCondition(request: CompletionRequest): Condition | undefined {
    return this.labelCondition(request.labels, 'completing images');
  }
}
