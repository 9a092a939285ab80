/**
 * Sampling the PixelVAE's decoder with lib/sample: the fast sampler on `vae.pixelModel` against the reference
 * sampler, given z from the prior (samples) or from `encodeTop` (completions), for both variants.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig } from '../../lib/models';
import { PixelVAE } from '../../lib/models/vae';
import { sampleFast, sampleReference, SampleCondition } from '../../lib/sample';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

const [HEIGHT, WIDTH, COUNT] = [6, 7, 3];

function tinyVae(kind: 'vae-up' | 'vae-straight', colours: number): PixelVAE {
  const model = buildModel(modelConfig({
    kind, colours, height: HEIGHT, width: WIDTH, layers: 2, kernelSize: 3, channels: 4 * colours, latentSize: 3, vaeChannels: 8,
    conditionMapChannels: kind === 'vae-up' ? 2 : undefined, seed: 4,
  })) as PixelVAE;
  // Peaked, context-dependent output distributions (as in test/sample/fixtures.ts), so that wrong logits
  // would change the draws rather than being hidden by the uniforms.
  for (const [name, variable] of model.pixelModel.params.variables) {
    if (!name.endsWith('weight') && !name.endsWith('.vector')) continue;
    tf.tidy(() => variable.assign(tf.mul(variable, name.startsWith('output.') ? 12 : 2.5)));
  }
  return model;
}

function images(colours: number): Uint8Array {
  const out = new Uint8Array(COUNT * HEIGHT * WIDTH * colours);
  for (let k = 0; k < out.length; k++) out[k] = (k * 37 + (k % 11) * 19) % 256;
  return out;
}

async function conditionOf(vae: PixelVAE, z: tf.Tensor2D): Promise<SampleCondition> {
  const condition = vae.decoderCondition(z);
  const result = { map: condition.map && await condition.map.data(), vector: condition.vector && await condition.vector.data() };
  tf.dispose([condition.map!, condition.vector!].filter(Boolean));
  return vae.config.kind === 'vae-up' ? { map: result.map! } : { vector: result.vector! };
}

describe('sampling the PixelVAE decoder', () => {
  for (const kind of ['vae-up', 'vae-straight'] as const) for (const colours of [1, 3]) {
    test(`${kind}, ${colours} colour(s): fast = reference for samples (z from the prior) and completions (z from encodeTop)`, async () => {
      const vae = tinyVae(kind, colours);
      const before = tf.memory().numTensors;
      const prior = vae.priorLatent(COUNT, 1);
      const condition = await conditionOf(vae, prior);
      const fast = await sampleFast(vae.pixelModel, { condition, seed: 3 });
      const reference = await sampleReference(vae.pixelModel, { condition, seed: 3 });
      assert.deepEqual(fast.images, reference.images);
      // The VAE itself is a PixelModel whose logits are its PixelCNN's given the condition.
      const viaVae = await sampleReference(vae, { condition, seed: 3 });
      assert.deepEqual(viaVae.images, fast.images);
      // The condition matters: another z, other samples (same uniforms).
      const other = vae.priorLatent(COUNT, 2);
      const otherSamples = await sampleFast(vae.pixelModel, { condition: await conditionOf(vae, other), seed: 3 });
      assert.notDeepEqual(otherSamples.images, fast.images);

      // Completions: z inferred from the top 3 rows, those rows given.
      const given = images(colours);
      const x = tf.tensor4d(given, [COUNT, HEIGHT, WIDTH, colours], 'float32');
      const z = vae.encodeTop(x, 3);
      const completion = await conditionOf(vae, z);
      const fastCompletion = await sampleFast(vae.pixelModel, { condition: completion, given: { images: given, rows: 3 }, seed: 4 });
      const referenceCompletion = await sampleReference(vae.pixelModel, { condition: completion, given: { images: given, rows: 3 }, seed: 4 });
      assert.deepEqual(fastCompletion.images, referenceCompletion.images);
      const size = HEIGHT * WIDTH * colours;
      for (let n = 0; n < COUNT; n++) {
        assert.deepEqual(fastCompletion.images.subarray(n * size, n * size + 3 * WIDTH * colours), given.subarray(n * size, n * size + 3 * WIDTH * colours));
      }
      tf.dispose([prior, other, x, z]);
      assert.equal(tf.memory().numTensors, before);
      vae.params.dispose();
    });
  }
});
