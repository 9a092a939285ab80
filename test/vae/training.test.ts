/** Training the PixelVAE: untrained ELBO, learning on MNIST, flat tensor counts, checkpoints and exact resume. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ModelConfig } from '../../lib/models';
import { PixelVAE } from '../../lib/models/vae';
import { decodeCheckpoint, encodeCheckpoint } from '../../lib/train/checkpoint';
import { readCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint-file';
import { checkpointRun, disposeRun, resumeRun, Run, startRun } from '../../lib/train/run';
import { setUpBackend } from '../helpers';
import { loadMnist, tinyMnist } from '../train/tiny';

before(async () => { await setUpBackend(); });

const tiny: Partial<ModelConfig> = { layers: 2, kernelSize: 3, channels: 4, latentSize: 4, vaeChannels: 8, conditionMapChannels: undefined };

function vaeOf(run: Run): PixelVAE {
  assert.ok(run.model instanceof PixelVAE);
  return run.model;
}

describe('ELBO in bits per dimension', () => {
  test('an untrained model gives about 8 bits/dim plus a small KL on real MNIST test digits', async () => {
    const mnist = await loadMnist();
    for (const kind of ['vae-up', 'vae-straight'] as const) {
      // The VAE parts at their defaults (z 32, widths 16/64/128, map 64); a small PixelCNN.
      const run = startRun(mnist, { kind, layers: 2, kernelSize: 3, channels: 8 }, { batchSize: 32 });
      const { bitsPerDim, parts } = await run.trainer.evaluate(mnist.test, 32);
      const { reconstruction, kl } = parts!;
      assert.ok(Math.abs(bitsPerDim - reconstruction - kl) < 1e-5, 'the parts add up');
      // Uniform over 256 values is exactly 8 bits; small random logits move it a little either way (vae-straight
      // feeds z ~ N(0, I) into every gate, so slightly more). The posterior starts near the prior: KL of some
      // nats per image, i.e. hundredths of a bit per dimension.
      assert.ok(reconstruction > 7.85 && reconstruction < 8.3, `${kind}: reconstruction ${reconstruction} bits/dim`);
      assert.ok(kl > 0 && kl < 0.05, `${kind}: KL ${kl} bits/dim`);
      console.log(`untrained ${kind}: ${bitsPerDim.toFixed(4)} bits/dim = reconstruction ${reconstruction.toFixed(4)} + KL ${kl.toFixed(5)}`);
      disposeRun(run);
    }
  });

  test('a few hundred steps on downsampled MNIST lower the test ELBO', async () => {
    const data = await tinyMnist(2000, 64);
    // 250 steps of 8 images, 14x14 digits.
    const run = startRun(data, { kind: 'vae-up', layers: 3, kernelSize: 3, channels: 16, latentSize: 8, vaeChannels: 32, conditionMapChannels: 8 },
      { batchSize: 8, epochs: 1, testLimit: 64 });
    const before = await run.trainer.evaluate(data.test, 64);
    const history = await run.trainer.run();
    assert.equal(run.trainer.state.step, 250);
    const after = history.epochs[0];
    assert.ok(before.bitsPerDim > 7.9, `untrained: ${before.bitsPerDim}`);
    assert.ok(after.testBitsPerDim! < 2.5, `after 250 steps: ${after.testBitsPerDim} bits/dim (before ${before.bitsPerDim})`);
    const parts = after.testParts!;
    assert.ok(Math.abs(parts.reconstruction + parts.kl - after.testBitsPerDim!) < 1e-5);
    assert.ok(history.steps.every((s) => s.parts && Math.abs(s.parts.reconstruction + s.parts.kl - s.bitsPerDim) < 1e-5), 'every step records its parts');
    console.log(`vae-up 14x14 MNIST: test ELBO ${before.bitsPerDim.toFixed(3)} -> ${after.testBitsPerDim!.toFixed(3)} bits/dim in 250 steps of 8 ` +
      `(reconstruction ${parts.reconstruction.toFixed(3)} + KL ${parts.kl.toFixed(5)}; train KL ${after.trainParts!.kl.toFixed(5)})`);
    disposeRun(run);
  });
});

describe('memory', () => {
  for (const kind of ['vae-up', 'vae-straight'] as const) {
    test(`${kind}: tf.memory().numTensors stays flat over training steps and evaluations`, async () => {
      const data = await tinyMnist(16, 8);
      const run = startRun(data, { kind, ...tiny }, { batchSize: 4, epochs: 10, evaluateEvery: 5 });
      const counts: number[] = [];
      await run.trainer.run({ onBatch: (info) => { if (info.step === 1 || info.step === 40) counts.push(tf.memory().numTensors); } });
      assert.equal(run.trainer.state.step, 40);
      assert.equal(counts[1], counts[0], `tensors after step 1: ${counts[0]}, after step 40: ${counts[1]}`);
      const before = tf.memory().numTensors;
      await run.trainer.evaluate(data.test);
      assert.equal(tf.memory().numTensors, before);
      const vae = vaeOf(run);
      const images = tf.zeros([2, 14, 14, 1]) as tf.Tensor4D;
      const z = vae.encodeTop(images, 7);
      tf.dispose([images, z]);
      assert.equal(tf.memory().numTensors, before, 'encodeTop keeps only its result');
      disposeRun(run);
    });
  }
});

describe('checkpoints', () => {
  test('round trip restores identical encoder, decoder, PixelCNN outputs and loss', async () => {
    const data = await tinyMnist(32, 8);
    const run = startRun(data, { kind: 'vae-up', ...tiny, vaeDepth: 1 }, { batchSize: 8, epochs: 1, limit: 16 });
    await run.trainer.run();
    const bytes = encodeCheckpoint(await checkpointRun(run));
    const restored = await resumeRun(decodeCheckpoint(bytes), data);
    assert.deepEqual(restored.model.config, run.model.config);
    assert.deepEqual(restored.trainer.state, run.trainer.state);
    const [a, b] = [vaeOf(run), vaeOf(restored)];
    const images = tf.tensor4d(data.test.images, [8, 14, 14, 1], 'float32');
    const outputs = async (vae: PixelVAE) => {
      const posterior = vae.encode(images);
      const condition = vae.decoderCondition(posterior.mean);
      const logits = vae.logits(images, condition);
      const values = [await posterior.mean.data(), await posterior.logVar.data(), await condition.map!.data(), await logits.data()];
      tf.dispose([posterior.mean, posterior.logVar, condition.map!, logits]);
      return values;
    };
    const [first, second] = [await outputs(a), await outputs(b)];
    first.forEach((values, k) => assert.deepEqual(second[k], values, `output ${k}`));
    assert.ok(first[1].some((v) => v !== 0), 'trained weights, not zeros');
    const seed = { seed: 5 };
    const labels = tf.tensor1d(data.test.labels, 'int32');
    const [la, lb] = [run.trainer.objective.loss(images, labels, seed), restored.trainer.objective.loss(images, labels, seed)];
    assert.equal((await la.data())[0], (await lb.data())[0]);
    tf.dispose([images, labels, la, lb]);
    disposeRun(run);
    disposeRun(restored);
  });

  test('resuming mid-epoch continues exactly, reparameterisation noise included', async () => {
    const data = await tinyMnist(48, 16);
    const train = { batchSize: 8, epochs: 2, limit: 40, seed: 5 };
    const model = { kind: 'vae-straight' as const, ...tiny, seed: 9 };
    const straight = startRun(data, model, train);
    const reference = await straight.trainer.run();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-resume-'));
    const file = path.join(dir, 'run.ckpt');
    const first = startRun(data, model, train);
    await assert.rejects(first.trainer.run({
      onBatch: async (info) => {
        if (info.step === 7) {
          saveCheckpoint(file, await checkpointRun(first));
          throw new Error('simulated crash');
        }
      },
    }), /simulated crash/);
    const resumed = await resumeRun(readCheckpoint(file), data);
    const history = await resumed.trainer.run();
    assert.equal(history.steps.length, reference.steps.length);
    history.steps.forEach((s, i) => {
      assert.ok(Math.abs(s.bitsPerDim - reference.steps[i].bitsPerDim) < 1e-6, `step ${s.step}: ${s.bitsPerDim} vs ${reference.steps[i].bitsPerDim}`);
      assert.ok(Math.abs(s.parts!.kl - reference.steps[i].parts!.kl) < 1e-6, `step ${s.step} KL`);
    });
    history.epochs.forEach((e, i) => {
      assert.ok(Math.abs(e.trainBitsPerDim - reference.epochs[i].trainBitsPerDim) < 1e-6);
      assert.ok(Math.abs(e.trainParts!.kl - reference.epochs[i].trainParts!.kl) < 1e-6);
      assert.ok(Math.abs(e.testBitsPerDim! - reference.epochs[i].testBitsPerDim!) < 1e-6);
    });
    for (const r of [straight, first, resumed]) disposeRun(r);
  });
});
