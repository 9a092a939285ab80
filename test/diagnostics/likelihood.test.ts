/**
 * The exact likelihood check: pixel by pixel (only the known subpixels given) equals one pass for every
 * correct model, the fast teacher-forced pass equals the naive reference subpixel by subpixel, and a
 * trained leaking model is caught (its one-pass value far too low).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Mulberry32 } from '../../lib/data/random';
import { likelihoodCheck, onePassNats } from '../../lib/diagnostics/likelihood';
import { buildModel, modelConfig, PixelModel } from '../../lib/models';
import { teacherForce } from '../../lib/sample';
import { meanNats } from '../../lib/train/loss';
import { setUpBackend } from '../helpers';
import { conditionFor, HEIGHT, smallModel, TEST_KINDS, testImages, WIDTH } from '../sample/fixtures';

before(async () => { await setUpBackend(); });

const COUNT = 3;

describe('pixel by pixel = one pass for correct models', () => {
  for (const kind of TEST_KINDS) {
    for (const colours of [1, 3]) {
      test(`${kind}, ${colours} colour(s)`, async () => {
        const model = smallModel(kind, colours);
        const images = testImages(COUNT, colours);
        const condition = conditionFor(kind, COUNT);
        const before = tf.memory().numTensors;
        const check = await likelihoodCheck(model, images, { condition });
        assert.equal(tf.memory().numTensors, before);
        assert.equal(check.method, 'fast');
        assert.equal(check.count, COUNT);
        assert.ok(check.agrees && Math.abs(check.difference) < 1e-4, JSON.stringify(check));
        for (let n = 0; n < COUNT; n++) assert.ok(Math.abs(check.perImage.onePass[n] - check.perImage.pixelByPixel[n]) < 1e-4);
        // The sharpened test models are far from uniform: the value is not a trivial 8 bits/dim.
        assert.ok(check.onePassBitsPerDim > 0.1 && Math.abs(check.onePassBitsPerDim - 8) > 0.1, `${check.onePassBitsPerDim}`);
        assert.ok(check.seconds > 0 && check.onePassSeconds > 0);
        model.params.dispose();
      });
    }
  }
});

/** Largest |fast - reference| over every subpixel's nats. */
async function fastVersusReference(model: PixelModel, images: Uint8Array, condition?: ReturnType<typeof conditionFor>): Promise<number> {
  const fast = await teacherForce(model, images, { condition, sampler: 'fast' });
  const reference = await teacherForce(model, images, { condition, sampler: 'reference' });
  assert.equal(fast.sampler, 'fast');
  assert.equal(reference.sampler, 'reference');
  let worst = 0;
  for (let k = 0; k < fast.nats.length; k++) worst = Math.max(worst, Math.abs(fast.nats[k] - reference.nats[k]) / (1 + reference.nats[k]));
  return worst;
}

describe('the fast teacher-forced pass = the naive reference (one full forward per subpixel)', () => {
  for (const colours of [1, 3]) {
    test(`every kind, ${colours} colour(s), the leaking models included`, async () => {
      for (const kind of TEST_KINDS) {
        const model = smallModel(kind, colours);
        const error = await fastVersusReference(model, testImages(2, colours), conditionFor(kind, 2));
        assert.ok(error < 1e-5, `${kind}: relative error ${error}`);
        model.params.dispose();
      }
      for (const kind of ['simple', 'gated'] as const) {
        const model = smallModel(kind, colours, { leak: true });
        const before = tf.memory().numTensors;
        const error = await fastVersusReference(model, testImages(2, colours));
        assert.equal(tf.memory().numTensors, before);
        assert.ok(error < 1e-5, `${kind} leaking: relative error ${error}`);
        model.params.dispose();
      }
    });
  }

  test('likelihoodCheck with the reference method gives the same values', async () => {
    const model = smallModel('gated', 3);
    const images = testImages(2, 3);
    const fast = await likelihoodCheck(model, images);
    const reference = await likelihoodCheck(model, images, { method: 'reference' });
    assert.equal(reference.method, 'reference');
    assert.ok(Math.abs(fast.pixelByPixelBitsPerDim - reference.pixelByPixelBitsPerDim) < 1e-6);
    assert.equal(fast.onePassBitsPerDim, reference.onePassBitsPerDim);
    model.params.dispose();
  });
});

/** Random binary images: each pixel 255 with probability 0.3, else 0 (about 0.88 bits/dim of entropy). */
function binaryImages(count: number): Uint8Array {
  const rng = new Mulberry32(3);
  return Uint8Array.from({ length: count * HEIGHT * WIDTH }, () => (rng.next() < 0.3 ? 255 : 0));
}

async function train(model: PixelModel, images: Uint8Array, steps: number): Promise<void> {
  const optimizer = tf.train.adam(0.02);
  const x = tf.tensor4d(Float32Array.from(images), [images.length / (HEIGHT * WIDTH), HEIGHT, WIDTH, 1]);
  for (let s = 0; s < steps; s++) optimizer.minimize(() => meanNats(model.logits(x), x), false, model.params.list());
  x.dispose();
  optimizer.dispose();
}

test('a trained leaking model "wins" in one pass and is exposed pixel by pixel; a correct one agrees', async () => {
  const images = binaryImages(8);
  for (const kind of ['simple', 'gated'] as const) {
    const results: Record<string, Awaited<ReturnType<typeof likelihoodCheck>>> = {};
    for (const leak of [true, false]) {
      const model = buildModel(modelConfig({ kind, leak, colours: 1, kernelSize: 3, layers: 2, channels: 8, height: HEIGHT, width: WIDTH, seed: 5 }));
      await train(model, images, 80);
      results[leak ? 'leaking' : 'correct'] = await likelihoodCheck(model, images);
      model.params.dispose();
    }
    const { leaking, correct } = results;
    const summary = `${kind}: leaking ${leaking.onePassBitsPerDim} vs ${leaking.pixelByPixelBitsPerDim}, correct ${correct.onePassBitsPerDim} vs ${correct.pixelByPixelBitsPerDim} bits/dim (one pass vs pixel by pixel)`;
    // Measured after 80 steps (simple / gated): leaking one pass ~0.01 bits/dim, pixel by pixel ~2-2.6; correct ~0.8 both ways.
    assert.ok(leaking.onePassBitsPerDim < correct.onePassBitsPerDim - 0.3, summary);
    assert.ok(!leaking.agrees && leaking.difference > 1, summary);
    assert.ok(correct.agrees && Math.abs(correct.difference) < 1e-4, summary);
    assert.ok(leaking.pixelByPixelBitsPerDim > correct.pixelByPixelBitsPerDim, summary);
  }
});

test('one pass in batches of 1 = one batch (conditions sliced per image)', async () => {
  for (const kind of ['conditional', 'conditional-map'] as const) {
    const model = smallModel(kind, 3);
    const images = testImages(COUNT, 3);
    const whole = await onePassNats(model, images, conditionFor(kind, COUNT));
    const single = await onePassNats(model, images, conditionFor(kind, COUNT), 1);
    for (let k = 0; k < whole.length; k++) assert.ok(Math.abs(whole[k] - single[k]) < 1e-4, `${kind} at ${k}: ${whole[k]} vs ${single[k]}`);
    model.params.dispose();
  }
});

test('images that do not fit the model are errors naming the problem', async () => {
  const model = smallModel('simple', 1);
  await assert.rejects(likelihoodCheck(model, new Uint8Array(HEIGHT * WIDTH + 1)), /positive multiple of H\*W\*C = 42/);
  await assert.rejects(teacherForce(model, Float32Array.from({ length: HEIGHT * WIDTH }, () => 0.5)), /images\[0\] = 0.5 is not an integer 0..255/);
  await assert.rejects(onePassNats(model, new Uint8Array(HEIGHT * WIDTH), undefined, 0), /batchSize/);
  const conditional = smallModel('conditional', 1);
  await assert.rejects(likelihoodCheck(conditional, testImages(2, 1)), /condition.labels or condition.vector/);
  model.params.dispose();
  conditional.params.dispose();
});
