/**
 * Micro-batches in the trainer: gradients accumulated over parts of a batch give the same Adam step as the
 * whole batch, and running out of wasm memory halves the micro-batch and retries instead of failing.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Dataset } from '../../lib/data/dataset';
import { buildModel, modelConfig } from '../../lib/models';
import { trainConfig } from '../../lib/train/config';
import type { Objective } from '../../lib/train/objective';
import { Trainer } from '../../lib/train/trainer';
import { isOutOfMemory } from '../../lib/train/step-executor';
import { setUpBackend } from '../helpers';
import { tinyMnist } from './tiny';

before(async () => { await setUpBackend(); });

const small = { height: 14, width: 14, colours: 1, layers: 2, kernelSize: 3, channels: 8 };

/** Adam's first moments after one step: 0.1 x the gradient of every variable, by name. */
async function firstMoments(trainer: Trainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const weights = await trainer.optimizer.getWeights();
  for (const { name, tensor } of weights) {
    // Variable names carry a per-instance suffix (layer0.weight_6oy7jk/m): key by the parameter's name.
    if (name.endsWith('/m')) out.set(name.replace(/_[a-z0-9]+\/m$/, ''), (await tensor.data()) as Float32Array);
  }
  weights[0].tensor.dispose(); // the iteration count, made fresh by getWeights
  return out;
}

function assertClose(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, x] of a) {
    const y = b.get(name)!;
    const scale = Math.max(1e-6, ...Array.from(x, Math.abs));
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-4 * scale, `${what}: ${name}[${i}] ${x[i]} vs ${y[i]}`);
  }
}

async function oneStep(data: Dataset, kind: 'simple' | 'gated' | 'vae-straight', micro: number | undefined, wrap?: (o: Objective) => Objective) {
  const model = buildModel(modelConfig({ ...small, kind, ...(kind === 'vae-straight' ? { vaeChannels: 16, latentSize: 4 } : {}) }));
  const objective = model.objective();
  const trainer = new Trainer(wrap ? wrap(objective) : objective, data, trainConfig({ batchSize: 8 }));
  trainer.executor.microBatchSize = micro;
  const changes: number[] = [];
  trainer.executor.onMicroBatchChange = (size) => changes.push(size);
  const loss = await trainer.step(data.train.images.subarray(0, 8 * 196), data.train.labels.subarray(0, 8), 8);
  const moments = await firstMoments(trainer);
  const weights = await Promise.all(model.params.list().map((v) => v.data()));
  trainer.optimizer.dispose();
  model.params.dispose();
  return { loss, moments, weights, changes, trainer };
}

describe('micro-batches', () => {
  test('accumulated gradients of uneven micro-batches (3 + 3 + 2) equal the whole batch\'s, for simple and gated models', async () => {
    const data = await tinyMnist(8, 8);
    for (const kind of ['simple', 'gated'] as const) {
      const tensors = tf.memory().numTensors;
      const whole = await oneStep(data, kind, undefined);
      const split = await oneStep(data, kind, 3);
      assert.ok(Math.abs(whole.loss.nats - split.loss.nats) < 1e-4, `${kind}: loss ${whole.loss.nats} vs ${split.loss.nats}`);
      assertClose(whole.moments, split.moments, kind);
      assert.equal(split.trainer.executor.microBatchSize, 3);
      assert.equal(tf.memory().numTensors, tensors, `${kind}: no tensors leak`);
    }
  });

  test('running out of wasm memory halves the micro-batch until the step fits, with the same result', async () => {
    const data = await tinyMnist(8, 8);
    const oom = new Error('wasm backend out of memory: could not allocate 15728640 bytes for a [64,32,32,60] float32 tensor.');
    oom.name = 'WasmBackendError';
    assert.ok(isOutOfMemory(oom));
    assert.ok(!isOutOfMemory(new Error('out of memory')), 'only the wasm backend\'s errors');
    const failAbove2 = (o: Objective): Objective => ({
      variables: o.variables,
      loss: (images, labels, context) => {
        const loss = o.loss(images, labels, context); // the forward pass is recorded before the failure
        if (images.shape[0] > 2) throw oom;
        return loss;
      },
    });
    const tensors = tf.memory().numTensors;
    const whole = await oneStep(data, 'gated', undefined);
    const retried = await oneStep(data, 'gated', undefined, failAbove2);
    assert.deepEqual(retried.changes, [4, 2]);
    assert.equal(retried.trainer.executor.microBatchSize, 2);
    assert.ok(Math.abs(whole.loss.nats - retried.loss.nats) < 1e-4, `loss ${whole.loss.nats} vs ${retried.loss.nats}`);
    assertClose(whole.moments, retried.moments, 'after retries');
    assert.equal(tf.memory().numTensors, tensors, 'no tensors leak from the failed attempts');
    // Other errors are not retried.
    await assert.rejects(oneStep(data, 'gated', undefined, (o) => ({ ...o, loss: () => { throw new Error('boom'); } })), /boom/);
  });

  test('a PixelVAE\'s loss parts still add up to the loss when split', async () => {
    const data = await tinyMnist(8, 8);
    const split = await oneStep(data, 'vae-straight', 3);
    const parts = split.loss.parts!;
    assert.deepEqual(Object.keys(parts).sort(), ['kl', 'reconstruction']);
    assert.ok(Math.abs(parts.kl + parts.reconstruction - split.loss.nats) < 1e-5, JSON.stringify({ parts, nats: split.loss.nats }));
  });
});
