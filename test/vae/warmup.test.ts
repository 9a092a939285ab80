/**
 * KL warm-up and free bits (VaeObjectiveOptions): off by default; they change only the loss that training
 * minimises, while the reported train bits/dim, the parts and evaluation stay the true negative ELBO.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, gaussianKlPerDim, klWeight, ModelConfig, modelConfig, PixelVAE, vaeObjective } from '../../lib/models';
import { disposeRun, startRun } from '../../lib/train/run';
import { setUpBackend } from '../helpers';
import { tinyMnist } from '../train/tiny';

before(async () => { await setUpBackend(); });

const tiny: Partial<ModelConfig> = { kind: 'vae-up', height: 14, width: 14, layers: 2, kernelSize: 3, channels: 4, latentSize: 4, vaeChannels: 8, conditionMapChannels: 2, seed: 3 };

async function scalar(t: tf.Scalar | undefined): Promise<number> {
  assert.ok(t, 'a tensor');
  return (await t.data())[0];
}

describe('KL warm-up and free bits in the objective', () => {
  test('klWeight rises linearly from 0 to 1 over the warm-up and is 1 outside training or when off', () => {
    assert.deepEqual([0, 25, 50, 100, 400].map((s) => klWeight(100, s)), [0, 0.25, 0.5, 1, 1]);
    assert.equal(klWeight(100, undefined), 1, 'evaluation: no step, full weight');
    assert.equal(klWeight(undefined, 0), 1);
    assert.equal(klWeight(0, 0), 1);
  });

  test('training loss = reconstruction + weight x KL; value and parts stay the true negative ELBO; evaluation is unchanged', async () => {
    const data = await tinyMnist(4, 1);
    const vae = buildModel(modelConfig(tiny)) as PixelVAE;
    const images = tf.tensor4d(data.train.images, [4, 14, 14, 1], 'float32');
    const labels = tf.tensor1d(data.train.labels, 'int32');
    const plain = vaeObjective(vae, 0);
    const warm = vaeObjective(vae, 0, { klWarmupSteps: 100 });
    const reference = plain.terms!(images, labels, { seed: 7, step: 25 });
    assert.equal(reference.value, undefined, 'default: no separate value, the loss is the negative ELBO');
    const [elbo, reconstruction, kl] = [await scalar(reference.loss), await scalar(reference.parts.reconstruction), await scalar(reference.parts.kl)];
    assert.ok(kl > 0);
    for (const [step, weight] of [[0, 0], [25, 0.25], [100, 1]] as const) {
      const terms = warm.terms!(images, labels, { seed: 7, step });
      assert.ok(Math.abs(await scalar(terms.loss) - (reconstruction + weight * kl)) < 1e-6, `step ${step}: loss with KL weight ${weight}`);
      assert.ok(Math.abs(await scalar(terms.value ?? terms.loss) - elbo) < 1e-6, `step ${step}: the reported value is the negative ELBO`);
      assert.equal(await scalar(terms.parts.reconstruction), reconstruction);
      assert.equal(await scalar(terms.parts.kl), kl);
      tf.dispose([terms.loss, terms.value!, ...Object.values(terms.parts)].filter(Boolean));
    }
    const evaluation = warm.terms!(images, labels, { seed: 7 });
    assert.equal(evaluation.value, undefined, 'no step: no schedule');
    assert.ok(Math.abs(await scalar(evaluation.loss) - elbo) < 1e-6);

    // Free bits: each latent dimension's batch-mean KL counts as at least `freeBits` nats.
    // A floor between the smallest and the largest dimension's KL, so it binds for some dimensions and not others.
    const posterior = vae.encode(images);
    const perDim = Array.from(await tf.mean(gaussianKlPerDim(posterior.mean, posterior.logVar), 0).data());
    const floor = (Math.min(...perDim) + Math.max(...perDim)) / 2;
    const free = vaeObjective(vae, 0, { freeBits: floor }).terms!(images, labels, { seed: 7, step: 3 });
    const floored = perDim.reduce((sum, v) => sum + Math.max(v, floor), 0) / 196;
    assert.ok(floored > kl + 1e-3, `the floor binds for some dimensions (KL per dimension ${perDim.map((v) => v.toFixed(3)).join(', ')}; floor ${floor})`);
    assert.ok(Math.abs(await scalar(free.loss) - (reconstruction + floored)) < 1e-6, 'free bits loss');
    assert.ok(Math.abs(await scalar(free.value) - elbo) < 1e-6, 'free bits: reported value is the negative ELBO');
    tf.dispose([images, labels, posterior.mean, posterior.logVar]);
    vae.params.dispose();
  });

  test('options are checked, and rejected for models without a KL term', () => {
    const vae = buildModel(modelConfig(tiny)) as PixelVAE;
    assert.throws(() => vaeObjective(vae, 0, { klWarmupSteps: -1 }), /klWarmupSteps/);
    assert.throws(() => vaeObjective(vae, 0, { freeBits: Number.NaN }), /freeBits/);
    // In the config: checked as model fields; a kind without a KL term has no such field.
    assert.throws(() => modelConfig({ ...tiny, klWarmupSteps: 1.5 }), /klWarmupSteps \(--kl-warmup\) must be a non-negative integer, got 1.5/);
    assert.throws(() => modelConfig({ ...tiny, freeBits: -0.1 }), /freeBits must be a finite number >= 0 \(nats per latent dimension\), got -0.1/);
    assert.throws(() => modelConfig({ kind: 'gated', klWarmupSteps: 10 } as never), /a gated model has no klWarmupSteps/);
    vae.params.dispose();
  });
});

describe('training with KL warm-up', () => {
  test('the first step reports the same true negative ELBO with and without warm-up (also in micro-batches); later steps differ', async () => {
    const data = await tinyMnist(32, 8);
    const train = { batchSize: 8, epochs: 1, limit: 24, testLimit: 8 };
    const plain = startRun(data, tiny, train);
    const warm = startRun(data, { ...tiny, klWarmupSteps: 50 }, train);
    const micro = startRun(data, { ...tiny, klWarmupSteps: 50 }, train);
    micro.trainer.executor.microBatchSize = 3;
    const [a, b, c] = [await plain.trainer.run(), await warm.trainer.run(), await micro.trainer.run()];
    // Step 1 starts from the same weights and noise: the reported value (before the update) must agree, though
    // the warm-up run minimised the reconstruction alone (KL weight 0 at step 0).
    assert.ok(Math.abs(a.steps[0].bitsPerDim - b.steps[0].bitsPerDim) < 1e-6, `${a.steps[0].bitsPerDim} vs ${b.steps[0].bitsPerDim}`);
    for (const history of [b, c]) {
      for (const s of history.steps) {
        assert.ok(Math.abs(s.parts!.reconstruction + s.parts!.kl - s.bitsPerDim) < 1e-5, `step ${s.step}: reported = reconstruction + KL`);
      }
      const e = history.epochs[0];
      assert.ok(Math.abs(e.testParts!.reconstruction + e.testParts!.kl - e.testBitsPerDim!) < 1e-5, 'test: reconstruction + KL');
    }
    assert.notEqual(a.steps[2].bitsPerDim, b.steps[2].bitsPerDim, 'different updates');
    // Micro-batches draw their noise per micro-batch, so only the sum rule is exact; the value is close.
    assert.ok(Math.abs(c.steps[0].bitsPerDim - b.steps[0].bitsPerDim) < 0.05, `micro-batched step 1: ${c.steps[0].bitsPerDim}`);
    for (const run of [plain, warm, micro]) disposeRun(run);
  });
});
