/**
 * A trainer that knows nothing of model internals: it feeds seeded, shuffled batches to an
 * `Objective`, steps Adam, measures train and test bits per dimension, guards against NaN/inf, and
 * exposes its whole state (step, data position, running sums, history) for exact resumption.
 */
import * as tf from '@tensorflow/tfjs';
import { batches, BatchPosition } from '../data/batches';
import { Dataset, Split } from '../data/dataset';
import { TrainConfig } from './config';
import { natsToBits } from './loss';
import { Objective } from './objective';

export interface EpochRecord {
  epoch: number;
  trainBitsPerDim: number;
  /** Present for epochs that were evaluated. */
  testBitsPerDim?: number;
  /** Wall-clock seconds spent on this epoch (training and evaluation). */
  seconds: number;
}

export interface StepRecord {
  step: number;
  bitsPerDim: number;
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
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  bitsPerDim: number;
}

export interface TrainCallbacks {
  onBatch?(info: BatchInfo): void | Promise<void>;
  onEpoch?(record: EpochRecord, history: History): void | Promise<void>;
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

export class Trainer {
  readonly optimizer: tf.AdamOptimizer;
  state: TrainerState;

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
    const [x, y] = batchTensors(this.dataset, images, labels, size);
    const cost = this.optimizer.minimize(() => this.objective.loss(x, y), true, this.objective.variables);
    tf.dispose([x, y]);
    if (!cost) throw new Error('optimizer returned no cost');
    const nats = (await cost.data())[0];
    cost.dispose();
    if (!Number.isFinite(nats)) {
      const last = this.state.history.steps.at(-1);
      throw new NonFiniteLossError(
        `training loss became ${nats} at epoch ${this.state.position.epoch}, batch ${this.state.position.batchIndex} (step ${this.state.step})` +
        `${last ? `; the last finite loss was ${last.bitsPerDim.toFixed(4)} bits/dim at step ${last.step}` : ''}` +
        `; the weights are no longer usable: lower the learning rate (now ${this.config.learningRate}) and restart from the last checkpoint`);
    }
    return nats;
  }

  /** Bits per dimension of a split (the first `limit` examples), without training. */
  async evaluate(split: Split, limit?: number): Promise<number> {
    let totalNats = 0;
    let examples = 0;
    for (const batch of batches(split, { batchSize: this.config.batchSize, seed: 0, shuffle: false, limit })) {
      const [x, y] = batchTensors(this.dataset, batch.images, batch.labels, batch.size);
      const nats = tf.tidy(() => this.objective.loss(x, y));
      totalNats += (await nats.data())[0] * batch.size;
      examples += batch.size;
      tf.dispose([x, y, nats]);
    }
    return natsToBits(totalNats / examples);
  }

  /** Trains until `config.epochs` epochs are done, continuing from the current state. */
  async run(callbacks: TrainCallbacks = {}): Promise<History> {
    const { config } = this;
    const perEpoch = this.batchesPerEpoch();
    while (this.state.position.epoch < config.epochs) {
      const { epoch, batchIndex } = this.state.position;
      let started = performance.now();
      for (const batch of batches(this.dataset.train, { batchSize: config.batchSize, seed: config.seed, limit: config.limit, epoch, startBatch: batchIndex })) {
        const nats = await this.step(batch.images, batch.labels, batch.size);
        const state = this.state;
        state.step += 1;
        state.position = { epoch, batchIndex: batch.index + 1 };
        state.epochNats += nats * batch.size;
        state.epochExamples += batch.size;
        const bitsPerDim = natsToBits(nats);
        state.history.steps.push({ step: state.step, bitsPerDim });
        const now = performance.now();
        state.epochSeconds += (now - started) / 1000;
        started = now;
        await callbacks.onBatch?.({ epoch, batch: batch.index, batchesPerEpoch: perEpoch, step: state.step, bitsPerDim });
        started = performance.now();
      }
      const evaluateStart = performance.now();
      const record: EpochRecord = { epoch, trainBitsPerDim: natsToBits(this.state.epochNats / this.state.epochExamples), seconds: 0 };
      if ((epoch + 1) % config.evaluateEvery === 0 || epoch + 1 === config.epochs) {
        record.testBitsPerDim = await this.evaluate(this.dataset.test, config.testLimit);
      }
      record.seconds = this.state.epochSeconds + (performance.now() - evaluateStart) / 1000;
      this.state.history.epochs.push(record);
      this.state = { ...this.state, position: { epoch: epoch + 1, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0 };
      await callbacks.onEpoch?.(record, this.state.history);
    }
    return this.state.history;
  }
}
