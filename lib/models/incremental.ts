/**
 * The cached forward pass a model offers the fast sampler (PixelModel.incremental), and what the sampler's
 * driver (lib/sample/fast.ts) needs from a model-specific incremental evaluator. The driver
 * walks the pixels in raster order from the first one anything is drawn at; per pixel it calls
 * `beginPixel`, then `step` for each colour that is drawn (and always for the last colour, with `store`,
 * so the caches receive the pixel's final hidden activations), `storeInput` once its colours are final, then
 * `endPixel`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Condition } from './layers';
import type { ConditionShape } from './model';
import { RowCache, SCALED_VALUES } from './row-cache';

/** The images being sampled, as an incremental evaluator reads them (lib/sample/plan.ts's SamplePlan is one). */
export interface IncrementalBatch {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly colours: number;
  /** height * width * colours. */
  readonly imageSize: number;
  /** count * imageSize raw values (NHWC), filled in as sampling proceeds. */
  readonly images: Uint8Array;
  /** The condition of each image: [count, vector] and [count, H, W, map] (ConditionShape), undefined when none. */
  readonly vector: Float32Array | undefined;
  readonly map: Float32Array | undefined;
}

/** The batch's condition as tensors for `logits` (the caller disposes them), or undefined. */
export function batchCondition(batch: IncrementalBatch, shape: ConditionShape): Condition | undefined {
  const { count, height, width } = batch;
  if (!batch.vector && !batch.map) return undefined;
  return {
    vector: batch.vector ? tf.tensor2d(batch.vector, [count, shape.vector]) : undefined,
    map: batch.map ? tf.tensor4d(batch.map, [count, height, width, shape.map]) : undefined,
  };
}

/** Logits of one colour for the whole batch: sample n's 256 logits start at n * stride + offset. */
export interface StepLogits {
  data: Float32Array;
  stride: number;
  offset: number;
}

export interface Incremental {
  /**
   * True when the network's first layer sees the subpixel it predicts (the diagnostics' leaking model): a
   * pixel's hidden activations change with its last colour, so the driver steps once more after the pixel's
   * colours are final to refresh the caches; every proper model's activations are final before that.
   */
  readonly refreshAfterPixel: boolean;
  /** Fills the caches for the state just before pixel (i0, j0) from one full forward pass (given pixels). */
  prime(i0: number, j0: number): Promise<void>;
  /** Work done once per row before its pixels (the gated model's vertical stack). */
  beginRow(i: number): Promise<void>;
  /** Records the final colours of pixel (i, j) as the first layer's input (after its last draw). */
  storeInput(i: number, j: number): void;
  /** Per-pixel work that does not depend on the pixel's own colours. */
  beginPixel(i: number, j: number): void;
  /**
   * Evaluates every layer at (i, j) from the pixel's current colours; returns the logits of colour c when
   * `logits`, and with `store` writes the pixel's hidden activations into the caches (the caller guarantees
   * they are final then: only the last colour is still undrawn, and no layer's output at (i, j) sees it).
   */
  step(i: number, j: number, c: number, logits: boolean, store: boolean): Promise<StepLogits | undefined>;
  endPixel(): void;
  /** Frees every tensor the evaluator holds. */
  dispose(): void;
}

/** The network inputs of pixel (i, j) of every sample, [N * C] (scaled like scalePixels). */
export function pixelInputs(plan: IncrementalBatch, i: number, j: number): Float32Array {
  const { count, colours, imageSize } = plan;
  const out = new Float32Array(count * colours);
  const base = (i * plan.width + j) * colours;
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < colours; c++) out[n * colours + c] = SCALED_VALUES[plan.images[n * imageSize + base + c]];
  }
  return out;
}

/** Owns tensors created once per sampling run (weights in matrix form), freed with `dispose`. */
export class TensorPool {
  private readonly owned: tf.Tensor[] = [];
  keep<T extends tf.Tensor>(tensor: T): T {
    this.owned.push(tensor);
    return tensor;
  }
  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
  }
}

/**
 * Finishes one `Incremental.step`: reads the step's joined output with one transfer (the hidden activations
 * of layers 1..L-1 at (i, j) when `store`, `channels` columns each, then the logits when `logits`), writes the
 * hidden activations into `caches[1..L-1]` (the next layers' input caches) and returns where the logits are.
 */
export async function finishStep(
  joined: tf.Tensor2D | undefined, caches: RowCache[], channels: number, i: number, j: number, logits: boolean, store: boolean,
): Promise<StepLogits | undefined> {
  if (!joined) return undefined;
  let data: Float32Array;
  try {
    data = (await joined.data()) as Float32Array;
  } finally {
    joined.dispose();
  }
  const [count, stride] = joined.shape;
  const stored = caches.length - 1;
  if (store) {
    for (let l = 0; l < stored; l++) {
      for (let n = 0; n < count; n++) caches[l + 1].setPixel(n, i, j, data, n * stride + l * channels);
    }
  }
  return logits ? { data, stride, offset: store ? stored * channels : 0 } : undefined;
}
