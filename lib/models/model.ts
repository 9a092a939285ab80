/**
 * The interface every autoregressive image model in this project implements, and all the trainer, samplers,
 * notebooks and the live sampler know of a model: no code outside lib/models asks which kind a model is.
 */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from '../train/objective';
import type { Incremental, IncrementalBatch } from './incremental';
import type { Condition } from './layers';
import type { ModelConfig } from './registry';
import type { ParamStore } from './params';

/** What `logits` reads as its condition: the vector's length and the map's channels (0 = none). */
export interface ConditionShape {
  vector: number;
  map: number;
}

/**
 * Where a completion's latent comes from (models with a latent z): the encoder reading the given rows only, or
 * the whole test image (a reconstruction through z).
 */
export type LatentSource = 'given rows' | 'whole image';

/** What conditions `count` images drawn from scratch. */
export interface ScratchRequest {
  count: number;
  /** Seed of anything drawn for the condition (a PixelVAE's prior z). */
  seed: number;
  /** Class of each image; required by class-conditional models, ignored by the others. */
  labels?: ArrayLike<number>;
}

/** What conditions completions of `images` [N, H, W, C] (raw 0..255), of which the top `givenRows` rows are given. */
export interface CompletionRequest {
  images: tf.Tensor4D;
  givenRows: number;
  /** Class of each image; required by class-conditional models, ignored by the others. */
  labels?: ArrayLike<number>;
  /** Models with a latent: where z comes from (default 'given rows'). */
  latentFrom?: LatentSource;
}

export interface PixelModel {
  readonly config: ModelConfig;
  readonly params: ParamStore;
  /** The condition `logits` reads. */
  readonly conditionShape: ConditionShape;
  /** Classes a sample can be asked for (class-conditional models); 0 = none. */
  readonly classes: number;
  /** Models with a latent z: where a completion's z can come from (first = default); empty otherwise. */
  readonly latentSources: readonly LatentSource[];
  /**
   * Logits of every subpixel's 256 values: images [N, H, W, C] (raw values 0..255, any dtype)
   * -> [N, H, W, C, 256]. The logits of subpixel (i, j, c) depend only on earlier subpixels (and the condition).
   */
  logits(images: tf.Tensor4D, condition?: Condition): tf.Tensor5D;
  /** What training minimises and evaluation reports, in nats per dimension. */
  objective(): Objective;
  /**
   * The condition of `request.count` images drawn from scratch (class one-hots, a prior z's decoding), or
   * undefined for unconditional models. The caller disposes its tensors.
   */
  scratchCondition(request: ScratchRequest): Condition | undefined;
  /** The condition of completions (class one-hots, z inferred by the encoder); the caller disposes its tensors. */
  completionCondition(request: CompletionRequest): Condition | undefined;
  /** The cached per-subpixel forward pass the fast sampler drives (lib/sample/fast.ts). */
  incremental(batch: IncrementalBatch): Incremental;
}

export function parameterCount(model: PixelModel): number {
  return model.params.count();
}

/** Frees the tensors of a condition (scratchCondition, completionCondition). */
export function disposeCondition(condition: Condition | undefined): void {
  if (condition) tf.dispose([condition.vector, condition.map].filter((t) => t !== undefined) as tf.Tensor[]);
}
