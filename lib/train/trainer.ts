/**
 * The training loop, which knows nothing of model internals: it feeds seeded, shuffled batches of an `Objective`
 * to its step executor (lib/train/step-executor.ts: chunks, helper threads, out-of-memory splitting, the Adam
 * step), measures train and test bits per dimension, guards against NaN/inf and against finite divergence
 * (lib/train/divergence.ts), and exposes its whole state (step, data position, running sums, history) for exact
 * resumption.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, BatchPosition } from '../data/batches';
import { Dataset, Split } from '../data/dataset';
import { hashSeeds } from '../data/random';
import { TrainConfig } from './config';
import { DivergenceError, DivergenceOptions, DivergenceWarning, DivergenceWatcher } from './divergence';
import { natsToBits } from './loss';
import { LossValue, StepExecutor } from './step-executor';
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


export type { LossValue } from './step-executor';

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

export class Trainer {
  readonly optimizer: tf.AdamOptimizer;
  state: TrainerState;
  /** Computes each step's gradients (chunks, helper threads, out-of-memory splitting) and takes the Adam step. */
  readonly executor: StepExecutor;
  /** Thresholds of the divergence watch (lib/train/divergence.ts, DEFAULT_DIVERGENCE_OPTIONS for the rest). */
  divergence: Partial<DivergenceOptions> = {};

  constructor(
    readonly objective: Objective,
    readonly dataset: Dataset,
    readonly config: TrainConfig,
    state?: TrainerState,
  ) {
    this.optimizer = tf.train.adam(config.learningRate);
    this.executor = new StepExecutor(objective, this.optimizer);
    this.state = state ?? initialTrainerState();
  }

  batchesPerEpoch(): number {
    const examples = Math.min(this.dataset.train.count, this.config.limit ?? Infinity);
    return Math.ceil(examples / this.config.batchSize);
  }

  /** One Adam step on one batch; returns the batch's loss (and its parts) in nats per dimension, before the step. */
  async step(images: Uint8Array, labels: Uint8Array, size: number): Promise<LossValue> {
    const step = this.state.step;
    return this.executor.step({ images, labels, imageShape: [this.dataset.height, this.dataset.width, this.dataset.channels] }, size, {
      step, seed: trainNoiseSeed(this.config.seed, step), checkFinite: (nats) => this.checkFinite(nats),
    });
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

  /** Bits per dimension of a split (the first `limit` examples), and the mean parts for objectives that have them. */
  async evaluate(split: Split, limit?: number): Promise<{ bitsPerDim: number; parts?: LossParts }> {
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
        const { nats, parts } = await this.step(batch.images, batch.labels, batch.size);
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
        const test = await this.evaluate(this.dataset.test, config.testLimit);
        record.testBitsPerDim = test.bitsPerDim;
        if (test.parts) record.testParts = test.parts;
      }
      record.seconds = this.state.epochSeconds + (performance.now() - evaluateStart) / 1000;
      this.state.history.epochs.push(record);
      this.state = { ...this.state, position: { epoch: epoch + 1, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0 };
      if (this.state.epochParts) this.state.epochParts = {};
      await callbacks.onEpoch?.(record, this.state.history);
      // Every await in a step resolves at once, so Node's nextTick and timer queues would wait for the whole run,
      // holding whatever a library deferred there (pngjs's stream parser held each grid's pixels: +4 MB per epoch).
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return this.state.history;
  }
}
