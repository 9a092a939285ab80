/**
 * A trainer that knows nothing of model internals: it feeds seeded, shuffled batches to an
 * `Objective`, steps Adam, measures train and test bits per dimension, guards against NaN/inf and against
 * finite divergence (lib/train/divergence.ts), and exposes its whole state (step, data position, running sums,
 * history) for exact resumption.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, BatchPosition } from '../data/batches';
import { Dataset, Split } from '../data/dataset';
import { hashSeeds } from '../data/random';
import { TrainConfig } from './config';
import { DivergenceError, DivergenceOptions, DivergenceWarning, DivergenceWatcher } from './divergence';
import { natsToBits } from './loss';
import { BatchBytes, Chunk, chunkGradients, ChunkSums, chunksOf } from './gradients';
import { Objective } from './objective';

/** Named parts of the loss (e.g. a VAE's reconstruction and kl), in bits per dimension. */
export type LossParts = Record<string, number>;

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

export interface EpochRecord {
  epoch: number;
  trainBitsPerDim: number;
  /** Present for epochs that were evaluated. */
  testBitsPerDim?: number;
  /** For objectives with parts (a VAE: reconstruction, kl): the epoch's mean parts in bits/dim. */
  trainParts?: LossParts;
  testParts?: LossParts;
  /** Wall-clock seconds spent on this epoch (training and evaluation). */
  seconds: number;
}

export interface StepRecord {
  step: number;
  bitsPerDim: number;
  /** For objectives with parts: this batch's parts in bits/dim (they add up to bitsPerDim). */
  parts?: LossParts;
}

export interface History {
  epochs: EpochRecord[];
  steps: StepRecord[];
}

/** Everything besides weights and optimizer moments that a resumed run needs. */
export interface TrainerState {
  step: number;
  /** The next batch to train on. */
  position: BatchPosition;
  /** Running sums of the epoch in progress: nats x examples, and examples. */
  epochNats: number;
  epochExamples: number;
  epochSeconds: number;
  history: History;
  /** For objectives with parts: running sums of each part, nats x examples (absent otherwise). */
  epochParts?: Record<string, number>;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  bitsPerDim: number;
  parts?: LossParts;
  /** Present while the divergence watch warns (lib/train/divergence.ts): show it with the progress. */
  divergence?: DivergenceWarning;
}

/** The outcome of one training step or evaluation, in nats per dimension. */
export interface LossValue {
  nats: number;
  /** Parts in nats per dimension, for objectives with parts. */
  parts?: Record<string, number>;
}

export interface TrainCallbacks {
  onBatch?(info: BatchInfo): void | Promise<void>;
  onEpoch?(record: EpochRecord, history: History): void | Promise<void>;
  /**
   * A divergence warning began (or changed kind; see lib/train/divergence.ts), before that step's onBatch; also at
   * the first step of a resumed run when its history leaves one in force. While it lasts, BatchInfo.divergence
   * carries it. When it turns fatal, run() throws a DivergenceError instead.
   */
  onWarning?(warning: DivergenceWarning): void | Promise<void>;
}

export function initialTrainerState(): TrainerState {
  return { step: 0, position: { epoch: 0, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0, history: { epochs: [], steps: [] } };
}

export class NonFiniteLossError extends Error {}

/** A share of one step's gradient work for a helper thread: chunks of the batch, at these weights. */
export interface HelperJob {
  /** The objective's variables, in order. */
  weights: Float32Array[];
  /** The examples the chunks cover, from `offset` (in the step's batch) on. */
  batch: BatchBytes;
  offset: number;
  batchSize: number;
  chunks: Chunk[];
  stepSeed: number;
  step: number;
}

/** Threads that compute gradients for the trainer (lib/train/workers.ts); the trainer knows only this. */
export interface GradientHelpers {
  readonly count: number;
  /** Helper `helper` (0 <= helper < count) computes the job's chunks: gradients per variable, summed, weighted. */
  compute(helper: number, job: HelperJob): Promise<ChunkSums<Float32Array>>;
  /** Stops the threads. */
  terminate(): Promise<void>;
}

function batchTensors(dataset: Dataset, images: Uint8Array, labels: Uint8Array, size: number): [tf.Tensor4D, tf.Tensor1D] {
  return [
    tf.tensor4d(images, [size, dataset.height, dataset.width, dataset.channels], 'float32'),
    tf.tensor1d(labels, 'int32'),
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

/** Sums of nats x examples -> mean bits per dimension. */
function meanBits(sums: Record<string, number>, examples: number): LossParts {
  const bits: LossParts = {};
  for (const [name, value] of Object.entries(sums)) bits[name] = natsToBits(value / examples);
  return bits;
}

/**
 * True for the errors a too-large batch causes: the wasm backend's `WasmBackendError` for an exhausted heap or
 * an XNNPACK operator that could not get memory (status 6). Matched by name so this module does not load the
 * wasm backend.
 */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.name === 'WasmBackendError' && /out of memory|status 6\b/.test(error.message);
}

/**
 * Frees what a failed gradient computation leaves behind. tfjs keeps (tf.keep) the tensors each recorded op
 * saves for its gradient, and frees them only when the backward pass completes: an error in the forward or
 * backward pass leaks all of them (gigabytes for a large batch, so a retry with a smaller batch would run out of
 * memory too). Only acts outside any gradient computation.
 */
export function releaseFailedTape(): void {
  const state = (tf.engine() as unknown as { state?: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number } }).state;
  if (!state || state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const tensor of node.saved ?? []) tensor.dispose();
  state.activeTape = null;
}

export class Trainer {
  readonly optimizer: tf.AdamOptimizer;
  state: TrainerState;
  /**
   * Largest micro-batch a training step computes gradients for at once; undefined = the whole batch. Halved
   * automatically when a step runs out of memory (see `stepWithParts`).
   */
  microBatchSize?: number;
  /** Called when an out-of-memory error made the trainer halve `microBatchSize`. */
  onMicroBatchChange?: (microBatchSize: number, cause: Error) => void;
  /**
   * Threads that compute a share of each step's gradients (see `startGradientWorkers`); undefined = all on
   * this thread. The batch is then split into 1 + count chunks (or more, of `microBatchSize`).
   */
  helpers?: GradientHelpers;
  /** Thresholds of the divergence watch (lib/train/divergence.ts, DEFAULT_DIVERGENCE_OPTIONS for the rest). */
  divergence: Partial<DivergenceOptions> = {};

  constructor(
    readonly objective: Objective,
    readonly dataset: Dataset,
    readonly config: TrainConfig,
    state?: TrainerState,
  ) {
    this.optimizer = tf.train.adam(config.learningRate);
    this.state = state ?? initialTrainerState();
  }

  batchesPerEpoch(): number {
    const examples = Math.min(this.dataset.train.count, this.config.limit ?? Infinity);
    return Math.ceil(examples / this.config.batchSize);
  }

  /** One Adam step on one batch; returns the batch's loss in nats per dimension (before the step). */
  async step(images: Uint8Array, labels: Uint8Array, size: number): Promise<number> {
    return (await this.stepWithParts(images, labels, size)).nats;
  }

  /**
   * `step`, also returning the loss's parts for objectives that have them.
   *
   * Chunks: with `helpers` the batch is split into one chunk per thread (this one and each helper), computed
   * at once. Micro-batches: when the backend runs out of memory for a chunk (the wasm backend's 4 GiB heap
   * throws a `WasmBackendError`), the step is retried with chunks of half the size (again, down to 1). Chunk
   * gradients are accumulated, weighted by their share of the batch, before one Adam step: the same update as
   * the whole batch, up to rounding. The size that worked is kept in `microBatchSize` for later steps; set it
   * yourself to split from the start. (A PixelVAE's noise is then drawn per chunk, from seeds derived from the
   * step's seed and the chunk's index, wherever the chunk is computed.)
   */
  async stepWithParts(images: Uint8Array, labels: Uint8Array, size: number): Promise<LossValue> {
    for (;;) {
      const shares = 1 + (this.helpers?.count ?? 0);
      const micro = Math.min(this.microBatchSize ?? size, size, Math.ceil(size / shares));
      try {
        return await this.chunkedStep(images, labels, size, micro);
      } catch (error) {
        releaseFailedTape();
        if (!isOutOfMemory(error) || micro <= 1) throw error;
        this.microBatchSize = Math.ceil(micro / 2);
        this.onMicroBatchChange?.(this.microBatchSize, error as Error);
      }
    }
  }

  /**
   * One Adam step on gradients accumulated over chunks of at most `micro` examples (one chunk when `micro` is the
   * batch): in turn on this thread, or shared out to the helper threads (this thread takes the first group of
   * chunks, each helper the next).
   */
  private async chunkedStep(images: Uint8Array, labels: Uint8Array, size: number, micro: number): Promise<LossValue> {
    const objective = this.objective;
    const stepSeed = trainNoiseSeed(this.config.seed, this.state.step);
    const step = this.state.step;
    const batch: BatchBytes = { images, labels, imageShape: [this.dataset.height, this.dataset.width, this.dataset.channels] };
    const chunks = chunksOf(size, micro);
    const helpers = this.helpers;
    const parties = 1 + (helpers?.count ?? 0);
    const groups: Chunk[][] = Array.from({ length: parties }, () => []);
    chunks.forEach((chunk, j) => groups[Math.floor((j * parties) / chunks.length)].push(chunk));

    let remote: Promise<ChunkSums<Float32Array>[]> | undefined;
    if (helpers && groups.slice(1).some((group) => group.length > 0)) {
      const weights = await Promise.all(objective.variables.map(async (v) => (await v.data()) as Float32Array));
      const bytesPerImage = images.length / size;
      remote = Promise.all(groups.slice(1).filter((group) => group.length > 0).map((group, helper) => {
        const from = group[0].start, to = group[group.length - 1].start + group[group.length - 1].size;
        return helpers.compute(helper, {
          weights, batchSize: size, chunks: group, offset: from, stepSeed, step,
          batch: { ...batch, images: images.slice(from * bytesPerImage, to * bytesPerImage), labels: labels.slice(from, to) },
        });
      }));
      // Handled below, after this thread's share; marked handled now so that an early failure is not reported
      // as an unhandled rejection while this thread is still computing.
      remote.catch(() => undefined);
    }
    let local: ChunkSums<tf.Tensor> | undefined;
    let localError: unknown;
    try {
      local = await chunkGradients(objective, batch, size, groups[0], stepSeed, step);
    } catch (error) {
      localError = error;
    }
    // Wait for the helpers even when this thread failed, so that no result arrives after the step.
    let helperSums: ChunkSums<Float32Array>[] = [];
    try {
      if (remote) helperSums = await remote;
    } catch (error) {
      localError ??= error;
    }
    if (localError) {
      if (local) tf.dispose(local.grads);
      throw localError;
    }
    const sums = local!;
    try {
      let parts = sums.parts;
      for (const remoteSums of helperSums) {
        sums.minimised += remoteSums.minimised;
        sums.nats += remoteSums.nats;
        if (remoteSums.parts) {
          parts ??= {};
          for (const [name, value] of Object.entries(remoteSums.parts)) parts[name] = (parts[name] ?? 0) + value;
        }
        const previous = sums.grads;
        sums.grads = previous.map((g, i) => tf.tidy(() => tf.add(g, tf.tensor(remoteSums.grads[i], g.shape, 'float32'))));
        tf.dispose(previous);
      }
      this.checkFinite(sums.minimised);
      this.checkFinite(sums.nats);
      this.optimizer.applyGradients(objective.variables.map((v, i) => ({ name: v.name, tensor: sums.grads[i] })));
      return { nats: sums.nats, parts };
    } finally {
      tf.dispose(sums.grads);
    }
  }

  /**
   * Throws a NonFiniteLossError for the step in progress. Steps are numbered as in the history (the first is step
   * 1): this one is `state.step + 1`, and every completed step passed this check, so the last finite one is
   * `state.step`. Its loss is named only when the history holds that step. No advice about checkpoints: the
   * trainer does not know whether one exists (the caller adds it).
   */
  private checkFinite(nats: number): void {
    if (!Number.isFinite(nats)) {
      const { step, position } = this.state;
      const last = this.state.history.steps.at(-1);
      const lastFinite = step === 0 ? '; no step had completed'
        : `; the last finite step was step ${step}${last?.step === step ? ` (${last.bitsPerDim.toFixed(4)} bits/dim)` : ''}`;
      throw new NonFiniteLossError(
        `training loss became ${nats} at step ${step + 1} (epoch ${position.epoch}, batch ${position.batchIndex})${lastFinite}` +
        `; the weights are no longer usable: lower the learning rate (now ${this.config.learningRate})`);
    }
  }

  /** Bits per dimension of a split (the first `limit` examples), without training. */
  async evaluate(split: Split, limit?: number): Promise<number> {
    return (await this.evaluateWithParts(split, limit)).bitsPerDim;
  }

  /** `evaluate`, also returning the mean parts (bits/dim) for objectives that have them. */
  async evaluateWithParts(split: Split, limit?: number): Promise<{ bitsPerDim: number; parts?: LossParts }> {
    let totalNats = 0;
    let examples = 0;
    const partSums: Record<string, number> = {};
    const objective = this.objective;
    for (const batch of batches(split, { batchSize: this.config.batchSize, seed: 0, shuffle: false, limit })) {
      const [x, y] = batchTensors(this.dataset, batch.images, batch.labels, batch.size);
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

  /** Trains until `config.epochs` epochs are done, continuing from the current state. */
  async run(callbacks: TrainCallbacks = {}): Promise<History> {
    const { config } = this;
    const perEpoch = this.batchesPerEpoch();
    // Replaying the history makes a resumed run's watch continue exactly where it stopped.
    const watcher = new DivergenceWatcher(this.divergence);
    for (const s of this.state.history.steps) watcher.observe(s.step, s.bitsPerDim);
    let announced = false;
    while (this.state.position.epoch < config.epochs) {
      const { epoch, batchIndex } = this.state.position;
      let started = performance.now();
      for (const batch of batches(this.dataset.train, { batchSize: config.batchSize, seed: config.seed, limit: config.limit, epoch, startBatch: batchIndex })) {
        const { nats, parts } = await this.stepWithParts(batch.images, batch.labels, batch.size);
        const state = this.state;
        state.step += 1;
        state.position = { epoch, batchIndex: batch.index + 1 };
        state.epochNats += nats * batch.size;
        state.epochExamples += batch.size;
        const bitsPerDim = natsToBits(nats);
        const record: StepRecord = { step: state.step, bitsPerDim };
        if (parts) {
          const sums = state.epochParts ??= {};
          for (const [name, value] of Object.entries(parts)) sums[name] = (sums[name] ?? 0) + value * batch.size;
          record.parts = meanBits(parts, 1);
        }
        state.history.steps.push(record);
        const now = performance.now();
        state.epochSeconds += (now - started) / 1000;
        started = now;
        const verdict = watcher.observe(state.step, bitsPerDim);
        if (verdict.status === 'fatal') throw new DivergenceError(verdict.warning, config.learningRate);
        const divergence = verdict.status === 'warning' ? verdict.warning : undefined;
        if (verdict.status === 'warning' && (verdict.isNew || !announced)) await callbacks.onWarning?.(verdict.warning);
        announced = true;
        await callbacks.onBatch?.({
          epoch, batch: batch.index, batchesPerEpoch: perEpoch, step: state.step, bitsPerDim,
          ...(record.parts ? { parts: record.parts } : {}), ...(divergence ? { divergence } : {}),
        });
        started = performance.now();
      }
      const evaluateStart = performance.now();
      const record: EpochRecord = { epoch, trainBitsPerDim: natsToBits(this.state.epochNats / this.state.epochExamples), seconds: 0 };
      if (this.state.epochParts) record.trainParts = meanBits(this.state.epochParts, this.state.epochExamples);
      if ((epoch + 1) % config.evaluateEvery === 0 || epoch + 1 === config.epochs) {
        const test = await this.evaluateWithParts(this.dataset.test, config.testLimit);
        record.testBitsPerDim = test.bitsPerDim;
        if (test.parts) record.testParts = test.parts;
      }
      record.seconds = this.state.epochSeconds + (performance.now() - evaluateStart) / 1000;
      this.state.history.epochs.push(record);
      this.state = { ...this.state, position: { epoch: epoch + 1, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0 };
      if (this.state.epochParts) this.state.epochParts = {};
      await callbacks.onEpoch?.(record, this.state.history);
      // Every await in a step resolves at once, so Node's nextTick and immediate queues would wait for the whole run,
      // holding whatever a library deferred there (pngjs's stream parser held each grid's pixels: +4 MB per epoch).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.state.history;
  }
}
