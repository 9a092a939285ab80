/** sampleGrid: the layout of samples and completions, both samplers agreeing, and the rendered PNG. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { buildModel, disposeCondition, modelConfig, requirePixelVAE } from '../../lib/models';
import { gridGeometry, gridPng } from '../../lib/render/grid';
import { sampleFast, sampleGrid, streamSeeds } from '../../lib/sample';
import { setUpBackend } from '../helpers';
import { HEIGHT, sharpen, smallModel, testImages, WIDTH } from './fixtures';

before(async () => { await setUpBackend(); });

describe('sampleGrid', () => {
  test('12 x 12: 72 samples, then 12 test images x 6 completions with their top rows kept; fast = reference', async () => {
    const model = smallModel('gated', 1);
    const tests = testImages(12, 1);
    const before = tf.memory().numTensors;
    const fast = await sampleGrid(model, tests, { seed: 5 });
    const reference = await sampleGrid(model, tests, { seed: 5, sampler: 'reference' });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(fast.count, 144);
    assert.deepEqual(fast.images, reference.images);
    assert.equal(fast.givenRows, 3);
    const size = HEIGHT * WIDTH;
    for (let k = 72; k < 144; k++) {
      const test = (k - 72) % 12;
      assert.deepEqual(fast.images.subarray(k * size, k * size + 3 * WIDTH), tests.subarray(test * size, test * size + 3 * WIDTH), `cell ${k}`);
    }
    // Completions of one test image differ from each other below the given rows.
    assert.notDeepEqual(fast.images.subarray(72 * size + 3 * WIDTH, 73 * size), fast.images.subarray(84 * size + 3 * WIDTH, 85 * size));

    const png = PNG.sync.read(Buffer.from(gridPng(fast, { ...fast.layout, scale: 2 })));
    const g = gridGeometry(fast, { ...fast.layout, scale: 2 });
    assert.deepEqual([png.width, png.height], [g.width, g.height]);
    // Cell (7, 4) = image 88, pixel (5, 6).
    const v = fast.images[88 * size + 5 * WIDTH + 6];
    const o = ((g.cellY[7] + 2 * 5 + 1) * png.width + g.cellX[4] + 2 * 6 + 1) * 4;
    assert.deepEqual(Array.from(png.data.subarray(o, o + 4)), [v, v, v, 255]);
    // The section break between the halves.
    const b = ((g.cellY[5] + g.cellHeight + 1) * png.width + g.cellX[0]) * 4;
    assert.deepEqual(Array.from(png.data.subarray(b, b + 4)), [220, 40, 40, 255]);
    model.params.dispose();
  });

  test('class-conditional models: columns of the sampled half are classes; test labels required', async () => {
    const model = smallModel('conditional', 1);
    const tests = testImages(4, 1);
    await assert.rejects(sampleGrid(model, tests, { rows: 2, cols: 4 }), /labels.test/);
    const grid = await sampleGrid(model, tests, { rows: 2, cols: 4, labels: { test: [2, 1, 2, 0] } });
    assert.equal(grid.count, 8);
    // The same as sampling the cells directly with labels 0 1 2 0 (column mod 3 classes), then the test labels.
    const given = new Uint8Array(8 * HEIGHT * WIDTH);
    const mask = new Uint8Array(8 * HEIGHT * WIDTH);
    for (let k = 4; k < 8; k++) {
      given.set(tests.subarray((k - 4) * HEIGHT * WIDTH, (k - 4) * HEIGHT * WIDTH + 3 * WIDTH), k * HEIGHT * WIDTH);
      mask.fill(1, k * HEIGHT * WIDTH, k * HEIGHT * WIDTH + 3 * WIDTH);
    }
    const direct = await sampleFast(model, { sampleSeeds: streamSeeds(0, 8), condition: { labels: [0, 1, 2, 0, 2, 1, 2, 0] }, given: { images: given, mask } });
    assert.deepEqual(grid.images, direct.images);
    model.params.dispose();
  });

  test('PixelVAE: the sampled half decodes prior z from the grid\'s seed, the completions z encoded from the given rows', async () => {
    for (const kind of ['vae-up', 'vae-straight'] as const) {
      const model = buildModel(modelConfig({
        kind, latentSize: 3, vaeChannels: 8, layers: 2, kernelSize: 3, channels: 4, height: HEIGHT, width: WIDTH, seed: 5,
        ...(kind === 'vae-up' ? { conditionMapChannels: 2 } : {}),
      }));
      const vae = requirePixelVAE(model, 'grid test');
      // Peaked PixelCNN outputs, and encoder means of order 1 (at the initial scale they are ~0.03, too close to
      // each other for a wrong z to show), so that the samples depend on every cell's z.
      sharpen(vae.pixelModel);
      const encoderOutput = model.params.get('encoder.output.weight');
      tf.tidy(() => encoderOutput.assign(tf.mul(encoderOutput, 30)));
      const tests = testImages(3, 1);
      const before = tf.memory().numTensors;
      const grid = await sampleGrid(model, tests, { rows: 4, cols: 3, seed: 9, givenRows: 2 });
      assert.equal(tf.memory().numTensors, before, `${kind}: tensors leaked`);
      // The same cells sampled directly: z of the top half from the prior (seed 9), of the bottom half the
      // encoder's mean for test image k % 3's top two rows.
      const condition = tf.tidy(() => {
        const encoded = vae.encodeTop(tf.tensor4d(tests, [3, HEIGHT, WIDTH, 1], 'float32'), 2); // [3, Z]
        const z = tf.concat([vae.priorLatent(6, 9), tf.tile(encoded, [2, 1])], 0) as tf.Tensor2D; // [12, Z]
        return vae.decoderCondition(z);
      });
      const given = new Uint8Array(12 * HEIGHT * WIDTH);
      const mask = new Uint8Array(12 * HEIGHT * WIDTH);
      for (let k = 6; k < 12; k++) {
        given.set(tests.subarray((k % 3) * HEIGHT * WIDTH, (k % 3) * HEIGHT * WIDTH + 2 * WIDTH), k * HEIGHT * WIDTH);
        mask.fill(1, k * HEIGHT * WIDTH, k * HEIGHT * WIDTH + 2 * WIDTH);
      }
      const direct = await sampleFast(model, { sampleSeeds: streamSeeds(9, 12), condition, given: { images: given, mask } });
      disposeCondition(condition);
      assert.deepEqual(grid.images, direct.images, kind);
      model.params.dispose();
    }
  });
});
