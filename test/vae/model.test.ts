/**
 * The PixelVAE model: config validation, the PixelCNN part's causality given a fixed decoder condition,
 * gradients reaching the encoder, the negative ELBO's units, and half-image encoding for completions.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, Condition, gaussianKl, modelConfig, ModelInput, parameterCount, PixelVAE, reparameterise, vaeObjective } from '../../lib/models';
import { subpixelNats } from '../../lib/train/loss';
import { setUpBackend } from '../helpers';
import { tinyMnist } from '../train/tiny';

before(async () => { await setUpBackend(); });

const SIZE = 9;
const INPUTS = 4;

function vae(overrides: ModelInput & { kind: 'vae-up' | 'vae-straight' }): PixelVAE {
  const model = buildModel(modelConfig({ layers: 2, kernelSize: 3, channels: 4, latentSize: 3, vaeChannels: 8, seed: 3, ...overrides } as ModelInput));
  assert.ok(model instanceof PixelVAE);
  return model;
}

describe('config', () => {
  test('VAE options are validated with errors naming the field', () => {
    assert.throws(() => modelConfig({ kind: 'vae-up', latentSize: 0 }), /latentSize \(--zsize\) must be a positive integer, got 0/);
    assert.throws(() => modelConfig({ kind: 'vae-up', vaeDepth: -1 }), /vaeDepth \(--vae-depth\) must be a non-negative integer, got -1/);
    assert.throws(() => modelConfig({ kind: 'vae-straight', vaeChannels: 2.5 }), /vaeChannels \(--vae-channels\) must be a positive integer, got 2.5/);
    // The PixelCNN's condition follows from the kind: z itself (vae-straight) or the decoder's map (vae-up).
    assert.throws(() => modelConfig({ kind: 'vae-straight', latentSize: 8, conditionSize: 10 } as never), /a vae-straight model has no conditionSize \(got 10\)/);
    assert.throws(() => modelConfig({ kind: 'vae-up', conditionMapChannels: 0 }), /conditionMapChannels must be a positive integer, got 0/);
    assert.throws(() => modelConfig({ kind: 'vae-up', conditionSize: 10 } as never), /a vae-up model has no conditionSize \(got 10\)/);
    // Defaults: the original's z size 32, depth 0, map of 64 channels; KL warm-up and free bits off.
    assert.deepEqual(modelConfig({ kind: 'vae-up' }), {
      kind: 'vae-up', height: 28, width: 28, colours: 1, seed: 0, layers: 5, kernelSize: 5, channels: 30,
      latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0, klWarmupSteps: 0, freeBits: 0, conditionMapChannels: 64,
    });
    const straight = vae({ kind: 'vae-straight', latentSize: 5 });
    assert.deepEqual(straight.conditionShape, { vector: 5, map: 0 });
    straight.params.dispose();
  });

  test('posteriorLogVarInit: q(z|x) starts with that log-variance (same means, log-variances shifted by it); checked', async () => {
    assert.throws(() => modelConfig({ kind: 'vae-up', posteriorLogVarInit: Number.NaN }), /posteriorLogVarInit must be a finite number \(the log-variance q\(z\|x\) starts with\), got NaN/);
    assert.equal((modelConfig({ kind: 'vae-up' }) as { posteriorLogVarInit: number }).posteriorLogVarInit, 0);
    const images = tf.tidy(() => tf.floor(tf.randomUniform([INPUTS, 14, 14, 1], 0, 256, 'float32', 5)) as tf.Tensor4D);
    for (const kind of ['vae-up', 'vae-straight'] as const) {
      const wide = vae({ kind, height: 14, width: 14 });
      const narrow = vae({ kind, height: 14, width: 14, posteriorLogVarInit: -4 });
      const a = wide.encode(images);
      const b = narrow.encode(images);
      const [meanA, meanB, logVarA, logVarB] = await Promise.all([a.mean.data(), b.mean.data(), a.logVar.data(), b.logVar.data()]);
      assert.deepEqual(Array.from(meanB), Array.from(meanA), `${kind}: the same means`);
      for (let k = 0; k < logVarA.length; k++) assert.ok(Math.abs(logVarB[k] - (logVarA[k] - 4)) < 1e-5, `${kind}: log-variance ${k}: ${logVarB[k]} vs ${logVarA[k]} - 4`);
      tf.dispose([a.mean, a.logVar, b.mean, b.logVar]);
      wide.params.dispose();
      narrow.params.dispose();
    }
    images.dispose();
  });

  test('one ParamStore holds encoder, decoder and PixelCNN weights, and frees them all', async () => {
    const before = tf.memory().numTensors;
    const model = vae({ kind: 'vae-up', height: 14, width: 14, vaeDepth: 1 });
    const names = [...model.params.variables.keys()];
    assert.ok(names.some((n) => n.startsWith('encoder.deep0')) && names.some((n) => n.startsWith('decoder.deep0')));
    assert.ok(names.includes('layer0.hcond.map.weight'), 'the PixelCNN takes the decoder map');
    assert.equal(parameterCount(model), parameterCount(model.pixelModel) + names.filter((n) => /^(en|de)coder\./.test(n)).reduce((s, n) => s + model.params.get(n).size, 0));
    const straight = vae({ kind: 'vae-straight', height: 14, width: 14 });
    assert.ok(![...straight.params.variables.keys()].some((n) => n.startsWith('decoder.')), 'vae-straight has no decoder weights');
    assert.equal(straight.pixelModel.conditionShape.vector, 3);
    model.params.dispose();
    straight.params.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('shapes for image sizes that do not halve evenly (9, 14, 28 x 12)', () => {
    for (const [height, width] of [[9, 9], [14, 14], [28, 12]]) {
      const model = vae({ kind: 'vae-up', height, width, conditionMapChannels: 5 });
      const images = tf.zeros([2, height, width, 1]) as tf.Tensor4D;
      const { mean, logVar } = model.encode(images);
      assert.deepEqual([mean.shape, logVar.shape], [[2, 3], [2, 3]]);
      const condition = model.decoderCondition(mean);
      assert.deepEqual(condition.map!.shape, [2, height, width, 5]);
      const logits = model.logits(images, condition);
      assert.deepEqual(logits.shape, [2, height, width, 1, 256]);
      assert.throws(() => model.logits(images), /needs the decoder condition/);
      tf.dispose([images, mean, logVar, condition.map!, logits]);
      model.params.dispose();
    }
  });
});

/** max over inputs of |d logits(i, j, c, :) . r / d x| as an [H, W, C] array; the condition comes from `condition`. */
async function gradientMap(model: PixelVAE, i: number, j: number, c: number, condition: (x: tf.Tensor4D) => Condition): Promise<Float32Array> {
  const { colours } = model.config;
  const x = tf.randomUniform([INPUTS, SIZE, SIZE, colours], 0, 255, 'float32', 7);
  const projection = tf.randomNormal([256], 0, 1, 'float32', 11);
  const grad = tf.grad((input: tf.Tensor) => {
    const logits = model.logits(input as tf.Tensor4D, condition(input as tf.Tensor4D));
    const one = tf.slice(logits, [0, i, j, c, 0], [INPUTS, 1, 1, 1, 256]).reshape([INPUTS, 256]);
    return tf.sum(tf.mul(one, projection));
  })(x);
  const magnitude = tf.max(tf.abs(grad), 0);
  const data = (await magnitude.data()) as Float32Array;
  tf.dispose([x, projection, grad, magnitude]);
  return data;
}

describe('causality of the PixelCNN given a fixed decoder condition', () => {
  for (const kind of ['vae-up', 'vae-straight'] as const) for (const colours of [1, 3]) for (const k of [3, 5]) {
    test(`${kind}, ${colours} colour(s), k=${k}: zero gradient at and after (i, j, c), non-zero at earlier pixels nearby`, async () => {
      const layers = 2;
      const model = vae({ kind, colours, kernelSize: k, layers, channels: 4 * colours, height: SIZE, width: SIZE, conditionMapChannels: kind === 'vae-up' ? 3 : undefined });
      const z = model.priorLatent(INPUTS, 5);
      const fixed = model.decoderCondition(z); // computed once, outside the gradient: independent of the input
      const reach = layers * Math.floor(k / 2);
      for (const [i, j] of [[4, 4], [0, 0], [0, 5], [8, 8], [2, 7]]) for (let c = 0; c < colours; c++) {
        const grad = await gradientMap(model, i, j, c, () => fixed);
        const leaks: string[] = [];
        const missing: string[] = [];
        for (let r = 0; r < SIZE; r++) for (let q = 0; q < SIZE; q++) for (let ch = 0; ch < colours; ch++) {
          const g = grad[(r * SIZE + q) * colours + ch];
          const earlier = r < i || (r === i && q < j) || (r === i && q === j && ch < c);
          // The gated PixelCNN's receptive field: the reach*... rows above within `reach` columns, `reach` to the left.
          const inField = (r < i && i - r <= reach + 1 && Math.abs(q - j) <= reach) || (r === i && q < j && j - q <= reach) || (r === i && q === j && ch < c);
          if (!earlier && g !== 0) leaks.push(`(${r},${q},${ch})`);
          if (inField && g === 0) missing.push(`(${r},${q},${ch})`);
        }
        assert.deepEqual(leaks, [], `output (${i},${j},${c}) sees the present or future`);
        assert.deepEqual(missing, [], `output (${i},${j},${c}) misses earlier subpixels nearby`);
      }
      // Sanity check of the check: with the condition encoded from the same input, the future leaks in.
      const encoded = await gradientMap(model, 4, 4, 0, (x) => model.decoderCondition(model.encode(x).mean));
      assert.ok(encoded.some((g, s) => Math.floor(s / colours) > 4 * SIZE + 4 && g !== 0), 'the encoder path sees the whole image');
      tf.dispose([z, fixed.map, fixed.vector]);
      model.params.dispose();
    });
  }
});

describe('the negative ELBO', () => {
  for (const kind of ['vae-up', 'vae-straight'] as const) {
    test(`${kind}: gradients reach every encoder (and decoder) variable`, async () => {
      const data = await tinyMnist(8, 1);
      const model = vae({ kind, height: 14, width: 14, vaeDepth: 1 });
      const objective = vaeObjective(model);
      const images = tf.tensor4d(data.train.images, [8, 14, 14, 1], 'float32');
      const labels = tf.tensor1d(data.train.labels, 'int32');
      const { value, grads } = tf.variableGrads(() => objective.loss(images, labels, { seed: 1 }), model.params.list());
      const byId = new Map(model.params.list().map((v) => [v.name, v]));
      const checked: string[] = [];
      for (const [name, variable] of model.params.variables) {
        if (!/^(en|de)coder\./.test(name)) continue;
        const g = grads[variable.name];
        assert.ok(g && byId.has(variable.name), name);
        const largest = (await tf.max(tf.abs(g)).data())[0];
        assert.ok(largest > 0, `no gradient reaches ${name}`);
        checked.push(name);
      }
      assert.ok(checked.some((n) => n.startsWith('encoder.block0.conv0')) && checked.includes('encoder.output.weight'));
      if (kind === 'vae-up') assert.ok(checked.includes('decoder.output.weight') && checked.includes('decoder.input.weight'));
      tf.dispose([value, images, labels, ...Object.values(grads)]);
      model.params.dispose();
    });
  }

  test('loss = reconstruction + kl, both nats per dimension of the same z draw', async () => {
    const data = await tinyMnist(4, 1);
    const model = vae({ kind: 'vae-up', height: 14, width: 14 });
    const objective = vaeObjective(model);
    const images = tf.tensor4d(data.train.images, [4, 14, 14, 1], 'float32');
    const labels = tf.tensor1d(data.train.labels, 'int32');
    const terms = objective.terms!(images, labels, { seed: 42 });
    const [loss, reconstruction, kl] = await Promise.all([terms.loss.data(), terms.parts.reconstruction.data(), terms.parts.kl.data()]);
    assert.ok(Math.abs(loss[0] - reconstruction[0] - kl[0]) < 1e-6);
    // Recomputed by hand: per image, -log p(x|z) summed over the 196 subpixels plus KL, both in nats.
    const posterior = model.encode(images);
    const z = reparameterise(posterior, 42);
    const condition = model.decoderCondition(z);
    const nll = tf.sum(subpixelNats(model.logits(images, condition), images), [1, 2, 3]);
    const perImage = tf.add(nll, gaussianKl(posterior.mean, posterior.logVar));
    const expected = (await tf.mean(perImage).data())[0] / 196;
    assert.ok(Math.abs(loss[0] - expected) < 1e-5, `loss ${loss[0]} vs hand-computed ${expected}`);
    const single = (await objective.loss(images, labels, { seed: 42 }).data())[0];
    assert.equal(single, loss[0], 'the same seed gives the same loss');
    const other = (await objective.loss(images, labels, { seed: 43 }).data())[0];
    assert.notEqual(other, loss[0], 'another seed draws another z');
    model.params.dispose();
  });
});

describe('encoding half images for completions', () => {
  test('encodeTop ignores the rows below `rows` and uses the rows above', async () => {
    const data = await tinyMnist(4, 1);
    const model = vae({ kind: 'vae-up', height: 14, width: 14 });
    const images = tf.tensor4d(data.train.images, [4, 14, 14, 1], 'float32');
    const noisy = new Float32Array(data.train.images);
    for (let n = 0; n < 4; n++) for (let s = 7 * 14; s < 14 * 14; s++) noisy[n * 196 + s] = (s * 37 + n) % 256;
    const changedBottom = tf.tensor4d(noisy, [4, 14, 14, 1]);
    const a = model.encodeTop(images, 7);
    const b = model.encodeTop(changedBottom, 7);
    assert.deepEqual(await a.data(), await b.data());
    const full = model.encode(images).mean;
    assert.notDeepEqual(await a.data(), await full.data(), 'the hidden rows are zeroed before encoding');
    // Zeroing is what encodeTop documents: the same as encoding the image with its bottom rows set to 0.
    const zeroed = new Float32Array(data.train.images);
    for (let n = 0; n < 4; n++) zeroed.fill(0, n * 196 + 7 * 14, (n + 1) * 196);
    const direct = model.encode(tf.tensor4d(zeroed, [4, 14, 14, 1])).mean;
    assert.deepEqual(await a.data(), await direct.data());
    const drawn = model.encodeTop(images, 7, 3);
    assert.notDeepEqual(await drawn.data(), await a.data(), 'a seed draws from the posterior instead of taking its mean');
    assert.throws(() => model.encodeTop(images, 15), /rows must be an integer in 0..14/);
    model.params.dispose();
  });
});
