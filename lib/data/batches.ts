/**
 * Seeded, shuffled mini-batch iteration over a `Split`, resumable from a position made of plain numbers.
 *
 * Browser-safe: no Node-only imports.
 *
 * The order of epoch `e` is a permutation of the split drawn from `hashSeeds(seed, e)`: the same seed and
 * epoch always give the same batches, and each epoch has a different order. A position `{ epoch, batchIndex }`
 * (the next batch to produce) is all a checkpoint needs to continue exactly where training stopped.
 */
import type { Split } from './dataset';
import { hashSeeds, permutation } from './random';

/** Where an iteration stands: the next batch to produce is batch `batchIndex` of epoch `epoch`. */
export interface BatchPosition {
  epoch: number;
  batchIndex: number;
}

export interface EpochOptions {
  /** Seed of the run: the order of each epoch is derived from (seed, epoch). */
  seed: number;
  /** Shuffle the examples (default true); false keeps the split's order. */
  shuffle?: boolean;
  /**
   * At most this many examples per epoch: the first `limit` of this epoch's order (so with shuffling each
   * epoch draws a different subset). Default: the whole split.
   */
  limit?: number;
}

export interface BatchOptions extends EpochOptions {
  batchSize: number;
  /** Drop the last batch of an epoch when it is smaller than batchSize (default false). */
  dropRemainder?: boolean;
}

export interface EpochBatchOptions extends BatchOptions {
  /** The epoch to iterate (default 0). */
  epoch?: number;
  /** Start at this batch of the epoch (default 0), to resume from a saved position. */
  startBatch?: number;
}

export interface StreamOptions extends BatchOptions {
  /** Start here (default { epoch: 0, batchIndex: 0 }); iteration then goes on over later epochs forever. */
  from?: BatchPosition;
}

export interface Batch {
  /** `size` images, NHWC bytes, copied out of the split. */
  images: Uint8Array;
  labels: Uint8Array;
  /** Number of examples in this batch (batchSize, or less for the last batch of an epoch). */
  size: number;
  /** The batch's index within its epoch. */
  index: number;
  epoch: number;
  /** Indices into the split of this batch's examples. */
  indices: Uint32Array;
  /** The position just after this batch: save it in a checkpoint to resume with the following batch. */
  next: BatchPosition;
}

function checkInteger(value: number, name: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`batches: ${name} must be an integer >= ${min}; got ${String(value)}`);
  }
}

function exampleBytes(split: Split): number {
  checkInteger(split.count, 'split.count', 0);
  if (split.count === 0) return 0;
  if (split.images.length % split.count !== 0) {
    throw new Error(
      `batches: split.images has ${split.images.length} bytes, not a multiple of split.count = ${split.count}`,
    );
  }
  if (split.labels.length !== split.count) {
    throw new Error(`batches: split.labels has ${split.labels.length} entries; expected split.count = ${split.count}`);
  }
  return split.images.length / split.count;
}

/** The number of examples one epoch uses: min(count, limit). */
export function examplesPerEpoch(count: number, limit?: number): number {
  if (limit === undefined) return count;
  checkInteger(limit, 'limit', 0);
  return Math.min(count, limit);
}

/** The number of batches in one epoch of `count` examples. */
export function batchesPerEpoch(count: number, options: Pick<BatchOptions, 'batchSize' | 'limit' | 'dropRemainder'>): number {
  checkInteger(options.batchSize, 'batchSize', 1);
  const n = examplesPerEpoch(count, options.limit);
  return options.dropRemainder ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
}

/** The order in which epoch `epoch` visits the split: `examplesPerEpoch` indices into it. */
export function epochOrder(count: number, epoch: number, options: EpochOptions): Uint32Array {
  checkInteger(count, 'count', 0);
  checkInteger(epoch, 'epoch', 0);
  checkInteger(options.seed, 'seed', -2147483648);
  const n = examplesPerEpoch(count, options.limit);
  let order: Uint32Array;
  if (options.shuffle === false) {
    order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
  } else {
    order = permutation(count, hashSeeds(options.seed, epoch));
  }
  return order.subarray(0, n);
}

/** Copies the examples at `indices` out of a split into a new batch-shaped pair of arrays. */
export function gather(split: Split, indices: ArrayLike<number>): { images: Uint8Array; labels: Uint8Array } {
  const bytes = exampleBytes(split);
  const images = new Uint8Array(indices.length * bytes);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      throw new Error(`gather: index ${i} is out of range: the split has ${split.count} examples`);
    }
    images.set(split.images.subarray(i * bytes, (i + 1) * bytes), k * bytes);
    labels[k] = split.labels[i];
  }
  return { images, labels };
}

/** The batches of one epoch, in order, starting at batch `startBatch` (default 0). */
export function* batches(split: Split, options: EpochBatchOptions): Generator<Batch, void, undefined> {
  const epoch = options.epoch ?? 0;
  const startBatch = options.startBatch ?? 0;
  checkInteger(startBatch, 'startBatch', 0);
  const perEpoch = batchesPerEpoch(split.count, options);
  exampleBytes(split);
  if (startBatch > perEpoch) {
    throw new Error(`batches: startBatch ${startBatch} is past the end of the epoch (${perEpoch} batches)`);
  }
  const order = epochOrder(split.count, epoch, options);
  for (let b = startBatch; b < perEpoch; b++) {
    const indices = order.slice(b * options.batchSize, Math.min((b + 1) * options.batchSize, order.length));
    const { images, labels } = gather(split, indices);
    const next: BatchPosition = b + 1 < perEpoch ? { epoch, batchIndex: b + 1 } : { epoch: epoch + 1, batchIndex: 0 };
    yield { images, labels, size: indices.length, index: b, epoch, indices, next };
  }
}

/**
 * An endless stream of batches over successive epochs, starting at `from`. Each batch's `next` is the
 * position to save; `batchStream(split, { ...options, from: saved })` continues with the same batches.
 */
export function* batchStream(split: Split, options: StreamOptions): Generator<Batch, never, undefined> {
  const from = options.from ?? { epoch: 0, batchIndex: 0 };
  checkInteger(from.epoch, 'from.epoch', 0);
  checkInteger(from.batchIndex, 'from.batchIndex', 0);
  if (batchesPerEpoch(split.count, options) === 0) {
    throw new Error(
      `batchStream: an epoch has no batches (count ${split.count}, limit ${options.limit}, batchSize ` +
        `${options.batchSize}, dropRemainder ${options.dropRemainder ?? false})`,
    );
  }
  let position = from;
  for (;;) {
    for (const batch of batches(split, { ...options, epoch: position.epoch, startBatch: position.batchIndex })) {
      yield batch;
    }
    position = { epoch: position.epoch + 1, batchIndex: 0 };
  }
}
