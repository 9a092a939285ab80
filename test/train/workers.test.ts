/**
 * Data-parallel training in worker threads (lib/train/workers.ts): a step shared between the main thread and
 * helper workers equals the same step computed on one thread in the same chunks, the main thread's tensors stay
 * flat, and errors in a worker (NaN loss, a dead worker) reach the caller.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Dataset } from '../../lib/data/dataset';
import { ModelConfig } from '../../lib/models';
import { disposeRun, Run, startRun } from '../../lib/train/run';
import { NonFiniteLossError } from '../../lib/train/trainer';
import { GradientHelpers } from '../../lib/train/step-executor';
import { defaultWorkerCount, startGradientWorkers } from '../../lib/train/workers';
import { setUpBackend } from '../helpers';
import { tinyMnist } from './tiny';

let backend: string;
before(async () => { backend = await setUpBackend(); });

const small: Partial<ModelConfig> = { layers: 2, kernelSize: 3, channels: 8 };
const BATCH = 8;

/** Trains `steps` steps of batch 8 and returns each step's loss and the final weights. */
async function train(data: Dataset, model: Partial<ModelConfig>, steps: number, setUp: (run: Run) => Promise<void>) {
  const run = startRun(data, { ...small, ...model }, { batchSize: BATCH });
  try {
    await setUp(run);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < steps; s++) {
      const images = data.train.images.subarray(s * BATCH * 196, (s + 1) * BATCH * 196);
      const { nats } = await run.trainer.step(images, data.train.labels.subarray(s * BATCH, (s + 1) * BATCH), BATCH);
      run.trainer.state.step += 1;
      losses.push(nats);
      counts.push(tf.memory().numTensors);
    }
    const weights = await Promise.all(run.model.params.list().map(async (v) => (await v.data()) as Float32Array));
    return { losses, weights, counts };
  } finally {
    disposeRun(run);
  }
}

function assertClose(a: Float32Array[], b: Float32Array[], tolerance: number, what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((x, v) => {
    assert.equal(x.length, b[v].length);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - b[v][i]) <= tolerance, `${what}: variable ${v}[${i}] ${x[i]} vs ${b[v][i]}`);
  });
}

describe('gradient workers', () => {
  let data: Dataset;
  before(async () => { data = await tinyMnist(4 * BATCH, 8); });

  for (const model of [{ kind: 'gated' }, { kind: 'conditional' }, { kind: 'vae-straight', vaeChannels: 16, latentSize: 4 }] as Partial<ModelConfig>[]) {
    test(`${model.kind}: 3 steps with one helper worker equal 3 steps on one thread in the same two chunks`, async () => {
      const oneThread = await train(data, model, 3, async (run) => { run.trainer.executor.microBatchSize = BATCH / 2; });
      const shared = await train(data, model, 3, async (run) => {
        const workers = await startGradientWorkers(run, 1);
        assert.equal(workers?.count, 1);
        assert.match(workers!.backends[0], new RegExp(`^${backend}`), 'the worker runs the main thread\'s backend');
      });
      for (let s = 0; s < 3; s++) assert.ok(Math.abs(oneThread.losses[s] - shared.losses[s]) < 1e-5, `step ${s}: ${oneThread.losses[s]} vs ${shared.losses[s]}`);
      assert.notEqual(shared.losses[0], shared.losses[2], 'the weights moved');
      assertClose(oneThread.weights, shared.weights, 1e-5, `${model.kind} weights after 3 steps`);
      assert.equal(new Set(shared.counts).size, 1, `main-thread tensors flat across steps: ${shared.counts}`);
    });
  }

  test('a NaN loss computed in a worker stops training with the trainer\'s error', async () => {
    const run = startRun(data, { ...small, kind: 'gated' }, { batchSize: BATCH });
    try {
      const workers = (await startGradientWorkers(run, 1))!;
      // Only the worker computes with NaN weights (its copy of them, poisoned on the way): this thread's own chunk
      // stays finite, so the error can only come from the worker's loss.
      const helpers: GradientHelpers = {
        count: 1,
        compute: (helper, job) => workers.compute(helper, { ...job, weights: job.weights.map((w) => new Float32Array(w.length).fill(NaN)) }),
        terminate: () => workers.terminate(),
      };
      run.trainer.executor.helpers = helpers;
      await assert.rejects(
        run.trainer.step(data.train.images.subarray(0, BATCH * 196), data.train.labels.subarray(0, BATCH), BATCH),
        (error: Error) => error instanceof NonFiniteLossError && /training loss became NaN/.test(error.message));
    } finally {
      disposeRun(run);
    }
  });

  test('a worker that has stopped fails the step with a message naming it', async () => {
    const run = startRun(data, { ...small, kind: 'simple' }, { batchSize: BATCH });
    try {
      const workers = (await startGradientWorkers(run, 1))!;
      await workers.terminate();
      await assert.rejects(
        run.trainer.step(data.train.images.subarray(0, BATCH * 196), data.train.labels.subarray(0, BATCH), BATCH),
        /gradient worker 0 was stopped \(its run was disposed/);
    } finally {
      disposeRun(run);
    }
  });

  test('default count: one per extra core for single-threaded backends, none otherwise; PIXEL_WORKERS overrides', () => {
    const cores = require('os').availableParallelism() as number;
    assert.equal(defaultWorkerCount('wasm', {}), cores - 1);
    assert.equal(defaultWorkerCount('cpu', {}), cores - 1);
    assert.equal(defaultWorkerCount('webgpu', {}), 0);
    assert.equal(defaultWorkerCount('tensorflow', {}), 0);
    assert.equal(defaultWorkerCount('webgpu', { PIXEL_WORKERS: '3' }), 3);
    assert.equal(defaultWorkerCount('wasm', { PIXEL_WORKERS: '0' }), 0);
    assert.throws(() => defaultWorkerCount('wasm', { PIXEL_WORKERS: 'two' }), /PIXEL_WORKERS="two": expected a whole number >= 0/);
  });
});
