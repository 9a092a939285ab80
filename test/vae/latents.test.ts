/**
 * Samples for chosen latents (lib/sample/vae.ts): sampleLatents = the sampler given the decoder's condition of
 * each z repeated, equal seeds and equal z give equal images, interpolation ends at its ends, encoder means; and
 * latentUsage (lib/diagnostics), which tells a decoder that uses z from one that ignores it.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig } from '../../lib/models';
import { PixelVAE } from '../../lib/models/vae';
import { latentUsage } from '../../lib/diagnostics/latent-usage';
import { encoderMeans, interpolateLatents, sampleFast, sampleLatents } from '../../lib/sample';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

const [H, W] = [6, 5];

function tinyVae(kind: 'vae-up' | 'vae-straight'): PixelVAE {
  const vae = buildModel(modelConfig({
    kind, height: H, width: W, layers: 2, kernelSize: 3, channels: 4, latentSize: 3, vaeChannels: 8,
    conditionMapChannels: kind === 'vae-up' ? 2 : undefined, seed: 5,
  })) as PixelVAE;
  // Sharper weights so that z visibly changes the draws (as in sampling.test.ts).
  for (const [name, variable] of vae.params.variables) {
    if (name.endsWith('weight') || name.endsWith('.vector')) tf.tidy(() => variable.assign(tf.mul(variable, name.startsWith('output.') ? 12 : 2.5)));
  }
  return vae;
}

for (const kind of ['vae-up', 'vae-straight'] as const) {
  test(`${kind}: sampleLatents repeats each z samplesPerLatent times, equal to sampling given the decoder's condition`, async () => {
    const vae = tinyVae(kind);
    const before = tf.memory().numTensors;
    const z = tf.tensor2d([[0.5, -1, 2], [-2, 0, 1]]);
    const seeds = [11, 12, 11, 12];
    const result = await sampleLatents(vae, z, { samplesPerLatent: 2, sampleSeeds: seeds });
    assert.equal(result.count, 4);
    const repeated = tf.tensor2d([[0.5, -1, 2], [0.5, -1, 2], [-2, 0, 1], [-2, 0, 1]]);
    const condition = vae.decoderCondition(repeated);
    const expected = await sampleFast(vae.pixelModel, { count: 4, sampleSeeds: seeds, condition: { map: condition.map, vector: condition.vector } });
    assert.deepEqual(result.images, expected.images);
    // Same z and same stream: the same image; the other z with the same stream: another image.
    const size = H * W;
    const image = (k: number) => result.images.subarray(k * size, (k + 1) * size);
    const again = await sampleLatents(vae, z, { samplesPerLatent: 2, sampleSeeds: seeds });
    assert.deepEqual(again.images, result.images);
    assert.notDeepEqual(image(0), image(2), 'z changes the draw');
    tf.dispose([repeated, condition.map!, condition.vector!].filter(Boolean));
    z.dispose();
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    const one = tf.zeros([1, 3]) as tf.Tensor2D;
    await assert.rejects(sampleLatents(vae, one, { samplesPerLatent: 0 }), /samplesPerLatent/);
    one.dispose();
    vae.params.dispose();
  });
}

test('interpolateLatents: evenly spaced, both ends included; encoderMeans = encode().mean', async () => {
  const a = tf.tensor1d([0, 2, -4]);
  const b = tf.tensor2d([[4, 2, 0]]);
  const path = interpolateLatents(a, b, 5);
  assert.deepEqual(path.shape, [5, 3]);
  assert.deepEqual(Array.from(await path.data()), [0, 2, -4, 1, 2, -3, 2, 2, -2, 3, 2, -1, 4, 2, 0]);
  assert.throws(() => interpolateLatents(a, b, 1), /points/);
  tf.dispose([a, b, path]);

  const vae = tinyVae('vae-up');
  const images = new Uint8Array(2 * H * W).map((_, k) => (k * 53) % 256);
  const means = encoderMeans(vae, images, 2);
  const x = tf.tensor4d(images, [2, H, W, 1], 'float32');
  const posterior = vae.encode(x);
  assert.deepEqual(await means.data(), await posterior.mean.data());
  assert.throws(() => encoderMeans(vae, images, 3), /need 3 images/);
  tf.dispose([means, x, posterior.mean, posterior.logVar]);
  vae.params.dispose();
});

for (const kind of ['vae-up', 'vae-straight'] as const) {
  test(`${kind}: latentUsage compares the reconstruction given each image's own z with another image's, and is 0 when z is cut off`, async () => {
    // Wider encoder/decoder than tinyVae (whose 1-channel first decoder block leaves the map constant), only the
    // PixelCNN sharpened.
    const vae = buildModel(modelConfig({
      kind, height: H, width: W, layers: 2, kernelSize: 3, channels: 4, latentSize: 3, vaeChannels: 32,
      conditionMapChannels: kind === 'vae-up' ? 2 : undefined, seed: 5,
    })) as PixelVAE;
    for (const [name, variable] of vae.pixelModel.params.variables) {
      if (name.endsWith('weight') || name.endsWith('.vector')) tf.tidy(() => variable.assign(tf.mul(variable, name.startsWith('output.') ? 12 : 2.5)));
    }
    const count = 5;
    const images = new Uint8Array(count * H * W).map((_, k) => (k * 97 + (k % 7) * 31) % 256);
    const before = tf.memory().numTensors;
    // Batches of 2: 2 + 3 (the last single image is folded in, never paired with itself).
    const usage = await latentUsage(vae, images, count, 2);
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
    assert.equal(usage.images, count);
    assert.ok(usage.ownBitsPerDim > 0 && usage.otherBitsPerDim > 0);
    assert.ok(Math.abs(usage.bitsPerImage) > 0.1, `z matters for this random model: ${usage.bitsPerImage}`);
    assert.ok(Math.abs(usage.bitsPerImage - (usage.otherBitsPerDim - usage.ownBitsPerDim) * H * W) < 1e-9);
    // By hand for the own-z half: the mean over images of -log2 p(x | z = own encoder mean) per subpixel.
    const whole = await latentUsage(vae, images, count, 64);
    assert.ok(Math.abs(whole.ownBitsPerDim - usage.ownBitsPerDim) < 1e-5, 'own z does not depend on the batching');
    // Cut the condition's weights: the PixelCNN no longer sees z, and the right z saves nothing.
    for (const [name, variable] of vae.pixelModel.params.variables) if (/cond/.test(name)) variable.assign(tf.zerosLike(variable));
    const cut = await latentUsage(vae, images, count, 2);
    assert.equal(cut.ownBitsPerDim, cut.otherBitsPerDim);
    assert.equal(cut.bitsPerImage, 0);
    await assert.rejects(latentUsage(vae, images, 1), /at least 2 images/);
    vae.params.dispose();
  });
}
