/**
 * What every registered model kind must satisfy, run over `MODEL_KINDS` so a new kind is covered by adding it
 * to the registry: its logits are causal in raster order, R then G then B (checked with gradients, given the
 * condition its own scratchCondition makes), and its fast sampler (the cached forward it offers through
 * `incremental`) draws exactly the images of the naive reference sampler, from scratch and completing images.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, disposeCondition, MODEL_KINDS, modelConfig, PixelModel } from '../../lib/models';
import { sample } from '../../lib/sample';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

const SIZE = 6;
const COLOURS = 3;
const CLASSES = 4;

function tinyModel(kind: (typeof MODEL_KINDS)[number]): PixelModel {
  return buildModel(modelConfig(
    { kind, layers: 2, kernelSize: 3, channels: 12, seed: 7, ...(kind.startsWith('vae') ? { latentSize: 3, vaeChannels: 8 } : {}) },
    { name: 'tiny', height: SIZE, width: SIZE, channels: COLOURS, classes: CLASSES },
  ));
}

/**
 * Whether the weighted logits of subpixel `target` of each image depend on each subpixel of that image: the
 * gradient's absolute values summed over the batch, in raster order [H * W * C]. (A batch, because in one
 * image a ReLU can be off for every channel at one pixel of a tiny random model, cutting every path.)
 */
function inputGradient(model: PixelModel, images: tf.Tensor4D, target: number, seed: number): Float32Array {
  const count = images.shape[0];
  const condition = model.scratchCondition({ count, seed, labels: Array.from({ length: count }, (_, n) => n % CLASSES) });
  try {
    return tf.tidy(() => {
      const weights = tf.randomNormal([256], 0, 1, 'float32', target); // [256]
      const gradient = tf.grad((x: tf.Tensor) => {
        const logits = model.logits(x as tf.Tensor4D, condition); // [N, H, W, C, 256]
        const flat = tf.reshape(logits, [count, SIZE * SIZE * COLOURS, 256]); // [N, H*W*C, 256]
        return tf.sum(tf.mul(tf.slice(flat, [0, target, 0], [count, 1, 256]), weights));
      })(images); // [N, H, W, C]
      return tf.sum(tf.abs(tf.reshape(gradient, [count, -1])), 0).dataSync() as Float32Array; // [H*W*C]
    });
  } finally {
    disposeCondition(condition);
  }
}

for (const kind of MODEL_KINDS) {
  describe(`every kind: ${kind}`, () => {
    test('logits of a subpixel depend on earlier subpixels only (gradients)', () => {
      const model = tinyModel(kind);
      const images = tf.tidy(() => tf.floor(tf.randomUniform([4, SIZE, SIZE, COLOURS], 0, 256, 'float32', 11)) as tf.Tensor4D);
      try {
        // The first subpixel, a green one mid-image and the last blue one.
        for (const target of [0, (2 * SIZE + 3) * COLOURS + 1, SIZE * SIZE * COLOURS - 1]) {
          const gradient = inputGradient(model, images, target, 5);
          const late = Array.from(gradient.subarray(target)).findIndex((g) => g !== 0);
          assert.equal(late, -1, `${kind}: subpixel ${target} sees subpixel ${target + late}`);
          if (target > 0) assert.ok(gradient.subarray(0, target).some((g) => g !== 0), `${kind}: subpixel ${target} sees nothing before it`);
        }
      } finally {
        images.dispose();
        model.params.dispose();
      }
    });

    test('the fast sampler draws what the reference sampler draws, from scratch and completing', async () => {
      const model = tinyModel(kind);
      const tensorsBefore = tf.memory().numTensors;
      const count = 2;
      const given = Uint8Array.from({ length: count * SIZE * SIZE * COLOURS }, (_, k) => (k * 37) % 256);
      const images = tf.tensor4d(given, [count, SIZE, SIZE, COLOURS], 'float32');
      const conditions = [
        model.scratchCondition({ count, seed: 3, labels: [0, 3] }),
        model.completionCondition({ images, givenRows: 2, labels: [2, 1] }),
      ];
      images.dispose();
      try {
        for (const [index, condition] of conditions.entries()) {
          const options = { count, seed: 9, condition, ...(index === 1 ? { given: { images: given, rows: 2 } } : {}) };
          const fast = await sample(model, { ...options, sampler: 'fast' });
          const reference = await sample(model, { ...options, sampler: 'reference' });
          assert.deepEqual(Array.from(fast.images), Array.from(reference.images), `${kind}: ${index === 0 ? 'samples' : 'completions'} differ`);
        }
      } finally {
        conditions.forEach(disposeCondition);
      }
      assert.equal(tf.memory().numTensors, tensorsBefore, `${kind}: sampling leaks tensors`);
      model.params.dispose();
    });
  });
}
