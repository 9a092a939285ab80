/**
 * Sampling can be stopped while it runs: both samplers give the event loop a turn every few milliseconds, so a
 * timer (or a kernel interrupt's SIGINT listener) that aborts the signal runs mid-sampling, and the sampler stops
 * at the next pixel instead of finishing the images.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig } from '../../lib/models';
import { sample } from '../../lib/sample';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

for (const sampler of ['fast', 'reference'] as const) {
  test(`the ${sampler} sampler stops soon after a timer aborts its signal`, async () => {
    const model = buildModel(modelConfig({ kind: 'gated', layers: 3, kernelSize: 3, channels: 16, height: 28, width: 28 }));
    const tensors = tf.memory().numTensors;
    const controller = new AbortController();
    let pixels = 0;
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('stop requested')), 100);
    await assert.rejects(
      sample(model, { count: 4, seed: 1, sampler, signal: controller.signal, onProgress: (p) => { pixels = p.done; } }),
      /stop requested/,
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(pixels > 0 && pixels < 4 * 28 * 28, `stopped part-way (${pixels} subpixels drawn)`);
    assert.ok(seconds < 5, `stopped within seconds (${seconds.toFixed(1)} s)`);
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left behind');
    model.params.dispose();
  });
}
