/**
 * Measuring an objective: the seeds of its loss noise (a VAE's reparameterisation) in training and evaluation,
 * mean bits per dimension of summed parts, and the bits per dimension of a whole split (Trainer.evaluate), which
 * stops between batches when its AbortSignal fires.
 */
import * as tf from '@tensorflow/tfjs';
import { batches } from '../data/batches';
import { Dataset, Split } from '../data/dataset';
import { hashSeeds } from '../data/random';
import { natsToBits } from './loss';
import { Objective } from './objective';
import { eventLoopTurns, StoppedError } from './stop';
import type { LossParts } from './trainer';

/** Tags that keep the loss-noise seeds apart from other uses of the same run seed. */
const TRAIN_NOISE = 0x6e6f6973;
const TEST_NOISE = 0x74657374;

/** Seed of the loss noise (a VAE's reparameterisation) for training step `step` of a run with data seed `seed`. */
export function trainNoiseSeed(seed: number, step: number): number {
  return hashSeeds(seed, TRAIN_NOISE, step);
}

/** Seed of the loss noise for evaluation batch `batch`: fixed, so evaluations of any run are comparable. */
export function testNoiseSeed(batch: number): number {
  return hashSeeds(TEST_NOISE, batch);
}

/** Sums of nats x examples -> mean bits per dimension. */
export function meanBits(sums: Record<string, number>, examples: number): LossParts {
  const bits: LossParts = {};
  for (const [name, value] of Object.entries(sums)) bits[name] = natsToBits(value / examples);
  return bits;
}

function batchTensors(dataset: Dataset, images: Uint8Array, labels: Uint8Array, size: number): [tf.Tensor4D, tf.Tensor1D] {
  return [
    tf.tensor4d(images, [size, dataset.height, dataset.width, dataset.channels], 'float32'), // [size, H, W, C]
    tf.tensor1d(labels, 'int32'), // [size]
  ];
}

/** Reads scalar parts (nats/dim) asynchronously and disposes them. */
async function readParts(parts: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  try {
    for (const [name, part] of Object.entries(parts)) values[name] = (await part.data())[0];
  } finally {
    tf.dispose(Object.values(parts));
  }
  return values;
}

export interface SplitBits {
  bitsPerDim: number;
  /** For objectives with parts: the mean of each part in bits/dim. */
  parts?: LossParts;
}

export interface SplitOptions {
  batchSize: number;
  /** Only the first `limit` examples. */
  limit?: number;
  /** Checked before each batch: once aborted, throws a StoppedError. */
  signal?: AbortSignal;
}

/** Bits per dimension of `split` under `objective` (in order, fixed noise seeds, so any run's values compare). */
export async function evaluateSplit(objective: Objective, dataset: Dataset, split: Split, options: SplitOptions): Promise<SplitBits> {
  let totalNats = 0;
  let examples = 0;
  const partSums: Record<string, number> = {};
  const turn = eventLoopTurns();
  for (const batch of batches(split, { batchSize: options.batchSize, seed: 0, shuffle: false, limit: options.limit })) {
    await turn();
    if (options.signal?.aborted) throw new StoppedError('evaluation');
    const [x, y] = batchTensors(dataset, batch.images, batch.labels, batch.size);
    const context = { seed: testNoiseSeed(batch.index) };
    let nats: tf.Scalar;
    let parts: Record<string, number> | undefined;
    try {
      if (objective.terms) {
        const terms = tf.tidy(() => objective.terms!(x, y, context));
        parts = await readParts(terms.parts);
        // No step in the context, so no schedule: loss is the true value; prefer `value` should one come anyway.
        if (terms.value) {
          terms.loss.dispose();
          nats = terms.value;
        } else {
          nats = terms.loss;
        }
      } else {
        nats = tf.tidy(() => objective.loss(x, y, context));
      }
    } finally {
      tf.dispose([x, y]);
    }
    totalNats += (await nats.data())[0] * batch.size;
    nats.dispose();
    for (const [name, value] of Object.entries(parts ?? {})) partSums[name] = (partSums[name] ?? 0) + value * batch.size;
    examples += batch.size;
  }
  return { bitsPerDim: natsToBits(totalNats / examples), parts: objective.terms ? meanBits(partSums, examples) : undefined };
}
