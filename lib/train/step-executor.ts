/**
 * The work of one training step, apart from the training loop (lib/train/trainer.ts): the batch's gradients in
 * chunks, shared with helper threads (lib/train/workers.ts) and split smaller when the backend runs out of memory,
 * added up, checked, and one Adam step taken.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchBytes, Chunk, chunkGradients, ChunkSums, chunksOf } from './gradients';
import type { Objective } from './objective';

/** The outcome of one training step or evaluation, in nats per dimension. */
export interface LossValue {
  nats: number;
  /** Parts in nats per dimension, for objectives with parts. */
  parts?: Record<string, number>;
}

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

/** What a step needs from the loop: its number, its loss-noise seed, and the loop's check of the loss. */
export interface StepContext {
  step: number;
  seed: number;
  /** Throws when the summed loss (nats/dim) is not finite; called before the Adam step is taken. */
  checkFinite(nats: number): void;
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

export class StepExecutor {
  /**
   * Largest micro-batch a training step computes gradients for at once; undefined = the whole batch. Halved
   * automatically when a step runs out of memory (see `step`).
   */
  microBatchSize?: number;
  /** Called when an out-of-memory error made the trainer halve `microBatchSize`. */
  onMicroBatchChange?: (microBatchSize: number, cause: Error) => void;
  /**
   * Threads that compute a share of each step's gradients (see `startGradientWorkers`); undefined = all on
   * this thread. The batch is then split into 1 + count chunks (or more, of `microBatchSize`).
   */
  helpers?: GradientHelpers;

  constructor(readonly objective: Objective, readonly optimizer: tf.Optimizer) {}

  /**
   * One Adam step on one batch of `size` examples; returns its loss (and parts) in nats per dimension, before the step.
   *
   * Chunks: with `helpers` the batch is split into one chunk per thread (this one and each helper), computed
   * at once. Micro-batches: when the backend runs out of memory for a chunk (the wasm backend's 4 GiB heap
   * throws a `WasmBackendError`), the step is retried with chunks of half the size (again, down to 1). Chunk
   * gradients are accumulated, weighted by their share of the batch, before one Adam step: the same update as
   * the whole batch, up to rounding. The size that worked is kept in `microBatchSize` for later steps; set it
   * yourself to split from the start. (A PixelVAE's noise is then drawn per chunk, from seeds derived from the
   * step's seed and the chunk's index, wherever the chunk is computed.)
   */
  async step(batch: BatchBytes, size: number, context: StepContext): Promise<LossValue> {
    for (;;) {
      const shares = 1 + (this.helpers?.count ?? 0);
      const micro = Math.min(this.microBatchSize ?? size, size, Math.ceil(size / shares));
      try {
        return await this.chunkedStep(batch, size, micro, context);
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
  private async chunkedStep(batch: BatchBytes, size: number, micro: number, { step, seed: stepSeed, checkFinite }: StepContext): Promise<LossValue> {
    const objective = this.objective;
    const { images, labels } = batch;
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
      checkFinite(sums.minimised);
      checkFinite(sums.nats);
      this.optimizer.applyGradients(objective.variables.map((v, i) => ({ name: v.name, tensor: sums.grads[i] })));
      return { nats: sums.nats, parts };
    } finally {
      tf.dispose(sums.grads);
    }
  }
}
