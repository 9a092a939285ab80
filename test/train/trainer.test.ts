/** The trainer, bits/dim, checkpoints and exact resumption, on real (downsampled) MNIST digits. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { decodeCheckpoint, encodeCheckpoint } from '../../lib/train/checkpoint';
import { readCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint-file';
import { checkpointRun, disposeRun, resumeRun, startRun } from '../../lib/train/run';
import { NonFiniteLossError } from '../../lib/train/trainer';
import { setUpBackend } from '../helpers';
import { loadMnist, tinyMnist } from './tiny';

before(async () => { await setUpBackend(); });

const small = { layers: 2, kernelSize: 3, channels: 8 };

describe('bits per dimension', () => {
  test('an untrained model gives about 8 bits/dim on real MNIST test digits', async () => {
    const mnist = await loadMnist();
    for (const kind of ['simple', 'gated'] as const) {
      const run = startRun(mnist, { kind, ...small }, { batchSize: 32 });
      const { bitsPerDim: bits } = await run.trainer.evaluate(mnist.test, 32);
      // Uniform over 256 values is exactly 8 bits; small random logits add a little.
      assert.ok(bits > 7.95 && bits < 8.3, `${kind}: ${bits} bits/dim`);
      disposeRun(run);
    }
  });

  test('a small model overfits a tiny batch to well under 1 bit/dim', async () => {
    const data = await tinyMnist(8, 8);
    const overfit = { ...data, test: data.train };
    const run = startRun(overfit, { kind: 'gated', layers: 3, kernelSize: 3, channels: 16 }, { batchSize: 8, epochs: 250, learningRate: 0.01, evaluateEvery: 250 });
    const history = await run.trainer.run();
    const final = history.epochs.at(-1)!;
    assert.ok(final.testBitsPerDim! < 0.6, `after 250 steps on 8 images: ${final.testBitsPerDim} bits/dim`);
    assert.ok(history.steps[0].bitsPerDim > 7.5, `first step ${history.steps[0].bitsPerDim}`);
    disposeRun(run);
  });
});

describe('checkpoints', () => {
  test('encode/decode round trip keeps every value, config and state', async () => {
    const data = await tinyMnist(32, 8);
    const run = startRun(data, { kind: 'conditional', ...small }, { batchSize: 8, epochs: 1, limit: 16 });
    await run.trainer.run();
    const checkpoint = await checkpointRun(run);
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint));
    assert.deepEqual(decoded.modelConfig, run.model.config);
    assert.deepEqual(decoded.trainConfig, run.trainer.config);
    assert.deepEqual(decoded.trainerState, run.trainer.state);
    assert.equal(decoded.weights.size, run.model.params.variables.size);
    for (const [name, { values }] of checkpoint.weights) assert.deepEqual(decoded.weights.get(name)!.values, values, name);
    assert.equal(decoded.optimizer!.iterations, 2);
    for (const [name, { m, v }] of checkpoint.optimizer!.moments) {
      assert.deepEqual(decoded.optimizer!.moments.get(name)!.m, m);
      assert.deepEqual(decoded.optimizer!.moments.get(name)!.v, v);
      assert.ok(m.some((x) => x !== 0), `Adam's first moment of ${name} should be non-zero after two steps`);
    }
    disposeRun(run);
  });

  test('corrupt and truncated checkpoint files give errors naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
    const file = path.join(dir, 'model.ckpt');
    const data = await tinyMnist(8, 8);
    const run = startRun(data, { kind: 'simple', ...small });
    saveCheckpoint(file, await checkpointRun(run));
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 8));
    assert.throws(() => readCheckpoint(file), (e: Error) => e.message.includes(file) && e.message.includes('truncated'));
    fs.writeFileSync(file, Buffer.from('not a checkpoint at all'));
    assert.throws(() => readCheckpoint(file), (e: Error) => e.message.includes(file) && e.message.includes('magic'));
    assert.throws(() => readCheckpoint(path.join(dir, 'missing.ckpt')), /does not exist/);
    assert.deepEqual(fs.readdirSync(dir), ['model.ckpt'], 'no temp files left behind');
    disposeRun(run);
  });

  test('resuming from a checkpoint written mid-epoch continues exactly as if never stopped', async () => {
    const data = await tinyMnist(48, 16);
    const train = { batchSize: 8, epochs: 2, limit: 40, seed: 5 };
    const model = { kind: 'gated' as const, ...small, seed: 9 };

    const straight = startRun(data, model, train);
    const reference = await straight.trainer.run();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resume-'));
    const file = path.join(dir, 'run.ckpt');
    const first = startRun(data, model, train);
    let stopped = false;
    await assert.rejects(first.trainer.run({
      onBatch: async (info) => {
        if (info.step === 7) { // epoch 1, batch 2 of 5: mid-epoch
          saveCheckpoint(file, await checkpointRun(first));
          stopped = true;
          throw new Error('simulated crash');
        }
      },
    }), /simulated crash/);
    assert.ok(stopped);
    const resumed = await resumeRun(readCheckpoint(file), data);
    const history = await resumed.trainer.run();

    assert.equal(history.steps.length, reference.steps.length);
    history.steps.forEach((s, i) => assert.ok(Math.abs(s.bitsPerDim - reference.steps[i].bitsPerDim) < 1e-6, `step ${s.step}: ${s.bitsPerDim} vs ${reference.steps[i].bitsPerDim}`));
    history.epochs.forEach((e, i) => {
      assert.ok(Math.abs(e.trainBitsPerDim - reference.epochs[i].trainBitsPerDim) < 1e-6);
      assert.ok(Math.abs(e.testBitsPerDim! - reference.epochs[i].testBitsPerDim!) < 1e-6);
    });
    for (const r of [straight, first, resumed]) disposeRun(r);
  });
});

describe('guards', () => {
  test('a NaN loss stops training with a clear error', async () => {
    const data = await tinyMnist(16, 8);
    const run = startRun(data, { kind: 'simple', ...small }, { batchSize: 8, epochs: 1 });
    run.model.params.get('output.bias').assign(tf.fill([256], NaN));
    await assert.rejects(run.trainer.run(), (e: Error) => e instanceof NonFiniteLossError && /NaN/.test(e.message) && /learning rate/.test(e.message));
    disposeRun(run);
  });

  test('tf.memory().numTensors stays flat over 100 training steps', async () => {
    const data = await tinyMnist(16, 8);
    const run = startRun(data, { kind: 'conditional', layers: 2, kernelSize: 3, channels: 4 }, { batchSize: 4, epochs: 25, evaluateEvery: 100 });
    const counts: number[] = [];
    await run.trainer.run({ onBatch: (info) => { if (info.step === 1 || info.step === 100) counts.push(tf.memory().numTensors); } });
    assert.equal(run.trainer.state.step, 100);
    assert.equal(counts[1], counts[0], `tensors after step 1: ${counts[0]}, after step 100: ${counts[1]}`);
    disposeRun(run);
  });
});
