/**
 * The training loop, which knows nothing of model internals: it feeds seeded, shuffled batches of an `Objective`
 * to its step executor (lib/train/step-executor.ts: chunks, helper threads, out-of-memory splitting, the Adam
 * step), measures train and test bits per dimension (./evaluate.ts), guards against NaN/inf and against finite divergence
 * (lib/train/divergence.ts), and exposes its whole state (step, data position, running sums, history) for exact
 * resumption. A run stops early at a step boundary when its AbortSignal fires (a notebook's Kernel -> Interrupt).
 */
import * as tf from '@tensorflow/tfjs';
import { batches, BatchPosition } from '../data/batches';
import { Dataset, Split } from '../data/dataset';
import { TrainConfig } from './config';
import { DivergenceError, DivergenceOptions, DivergenceWarning, DivergenceWatcher } from './divergence';
import { evaluateSplit, meanBits, SplitBits, trainNoiseSeed } from './evaluate';
import { natsToBits } from './loss';
import { LossValue, StepExecutor } from './step-executor';
import { Objective } from './objective';
import { eventLoopTurns, StoppedError } from './stop';

export { StoppedError } from './stop';
export { testNoiseSeed, trainNoiseSeed } from './evaluate';

/** Named parts of the loss (e.g. a VAE's reconstruction and kl), in bits per dimension. */
export type LossParts = Record<string, number>;

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

export interface RunOptions {
  /**
   * Once aborted, run() stops at the next step boundary (before the next step, or the epoch's evaluation) and
   * resolves with the history so far: the state is that of the last completed step (mid-epoch: its data position
   * and running sums), so a checkpoint of it resumes exactly. `Trainer.finished` tells a stop from the end.
   * run() and evaluate() give the event loop a turn every TURN_EVERY_MS (./stop.ts), so a SIGINT listener that
   * aborts the signal runs while they work.
   */
  signal?: AbortSignal;
}

export function initialTrainerState(): TrainerState {
  return { step: 0, position: { epoch: 0, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0, history: { epochs: [], steps: [] } };
}

export class NonFiniteLossError extends Error {}

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

  /** Whether every configured epoch is done (false after a run stopped by its signal). */
  get finished(): boolean {
    return this.state.position.epoch >= this.config.epochs;
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

  /**
   * Bits per dimension of a split (the first `limit` examples), and the mean parts for objectives that have them.
   * Throws a StoppedError between batches once `options.signal` is aborted.
   */
  async evaluate(split: Split, limit?: number, options: RunOptions = {}): Promise<SplitBits> {
    return evaluateSplit(this.objective, this.dataset, split, { batchSize: this.config.batchSize, limit, signal: options.signal });
  }

  /** Trains until `config.epochs` epochs are done (or `options.signal` stops it), continuing from the current state. */
  async run(callbacks: TrainCallbacks = {}, options: RunOptions = {}): Promise<History> {
    const { config } = this;
    const { signal } = options;
    const perEpoch = this.batchesPerEpoch();
    const turn = eventLoopTurns();
    // Replaying the history makes a resumed run's watch continue exactly where it stopped.
    const watcher = new DivergenceWatcher(this.divergence);
    for (const s of this.state.history.steps) watcher.observe(s.step, s.bitsPerDim);
    let announced = false;
    while (this.state.position.epoch < config.epochs) {
      const { epoch, batchIndex } = this.state.position;
      let started = performance.now();
      for (const batch of batches(this.dataset.train, { batchSize: config.batchSize, seed: config.seed, limit: config.limit, epoch, startBatch: batchIndex })) {
        if (signal?.aborted) return this.state.history;
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
        await turn();
        started = performance.now();
      }
      if (signal?.aborted) return this.state.history;
      const evaluateStart = performance.now();
      const record: EpochRecord = { epoch, trainBitsPerDim: natsToBits(this.state.epochNats / this.state.epochExamples), seconds: 0 };
      if (this.state.epochParts) record.trainParts = meanBits(this.state.epochParts, this.state.epochExamples);
      if ((epoch + 1) % config.evaluateEvery === 0 || epoch + 1 === config.epochs) {
        let test: SplitBits;
        try {
          test = await this.evaluate(this.dataset.test, config.testLimit, { signal });
        } catch (error) {
          // Stopped before the epoch closed: the state still ends the epoch's last step, so resuming evaluates it.
          if (error instanceof StoppedError) return this.state.history;
          throw error;
        }
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
