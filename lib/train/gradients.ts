/**
 * Gradients of a batch computed in chunks: what a training step does when the batch is split into
 * micro-batches (too large for memory) or shared out to worker threads (lib/train/workers.ts), or in one
 * chunk. Each chunk's loss is weighted by its share of the batch, so the summed gradients equal the whole
 * batch's (up to rounding), and chunk `index` draws its loss noise (a PixelVAE's) from
 * `hashSeeds(stepSeed, index)` (a whole-batch chunk: `stepSeed`) wherever it runs: a step gives the same result
 * on one thread or several.
 */
import * as tf from '@tensorflow/tfjs';
import { hashSeeds } from '../data/random';
import { variableGradsFreeing } from './backprop';
import type { Objective } from './objective';

/** Images [N, H, W, C] as raw bytes, and their labels. */
export interface BatchBytes {
  images: Uint8Array;
  labels: Uint8Array;
  /** [H, W, C] of one image. */
  imageShape: [number, number, number];
}

/** Examples [start, start + size) of a batch of `batchSize`; `index` is the chunk's position in the step. */
export interface Chunk {
  start: number;
  size: number;
  index: number;
}

/** Summed gradients of some chunks, and their weighted losses (nats/dim; they add up to the batch's mean). */
export interface ChunkSums<G> {
  grads: G[];
  /** The minimised loss. */
  minimised: number;
  /** The reported value (differs from `minimised` only under a schedule such as a VAE's KL warm-up). */
  nats: number;
  parts?: Record<string, number>;
}

/** Splits a batch of `size` into chunks of at most `micro` examples. */
export function chunksOf(size: number, micro: number): Chunk[] {
  const chunks: Chunk[] = [];
  for (let start = 0, index = 0; start < size; start += micro, index++) chunks.push({ start, size: Math.min(micro, size - start), index });
  return chunks;
}

/**
 * Gradients (one per objective variable, in order) of `chunks` of a batch of `batchSize` whose examples
 * start at `offset` in `batch`. The caller owns the returned tensors.
 */
export async function chunkGradients(
  objective: Objective, batch: BatchBytes, batchSize: number, chunks: Chunk[], stepSeed: number, step: number, offset = 0,
): Promise<ChunkSums<tf.Tensor>> {
  const [height, width, channels] = batch.imageShape;
  const bytesPerImage = height * width * channels;
  const result: ChunkSums<tf.Tensor> = { grads: [], minimised: 0, nats: 0 };
  try {
    for (const chunk of chunks) {
      const weight = chunk.size / batchSize;
      const from = chunk.start - offset;
      const x = tf.tensor4d(batch.images.subarray(from * bytesPerImage, (from + chunk.size) * bytesPerImage), [chunk.size, height, width, channels], 'float32');
      const y = tf.tensor1d(batch.labels.subarray(from, from + chunk.size), 'int32');
      // A chunk that is the whole batch keeps the step's own seed.
      const context = { seed: chunk.size === batchSize ? stepSeed : hashSeeds(stepSeed, chunk.index), step };
      let kept: Record<string, tf.Scalar> | undefined;
      let trueValue: tf.Scalar | undefined;
      let computed: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        computed = variableGradsFreeing(() => tf.tidy(() => {
          if (!objective.terms) return tf.mul(objective.loss(x, y, context), weight) as tf.Scalar;
          const terms = objective.terms(x, y, context);
          kept = {};
          for (const [name, part] of Object.entries(terms.parts)) kept[name] = tf.keep(part);
          if (terms.value) trueValue = tf.keep(terms.value);
          return tf.mul(terms.loss, weight) as tf.Scalar;
        }), objective.variables);
      } catch (error) {
        if (kept) tf.dispose(Object.values(kept));
        if (trueValue) trueValue.dispose();
        throw error;
      } finally {
        tf.dispose([x, y]);
      }
      if (kept) {
        const parts = result.parts ??= {};
        try {
          for (const [name, part] of Object.entries(kept)) parts[name] = (parts[name] ?? 0) + (await part.data())[0] * weight;
        } finally {
          tf.dispose(Object.values(kept));
        }
      }
      const minimised = (await computed.value.data())[0];
      computed.value.dispose();
      // The reported value: the objective's true value when the minimised loss differs (a VAE's KL warm-up).
      const nats = trueValue ? (await trueValue.data())[0] * weight : minimised;
      if (trueValue) trueValue.dispose();
      result.minimised += minimised;
      result.nats += nats;
      const grads = objective.variables.map((v) => computed.grads[v.name]);
      if (result.grads.length === 0) {
        result.grads = grads;
      } else {
        const previous = result.grads;
        result.grads = previous.map((g, i) => tf.add(g, grads[i]));
        tf.dispose([...previous, ...grads]);
      }
    }
    return result;
  } catch (error) {
    tf.dispose(result.grads);
    throw error;
  }
}
