/**
 * The simple PixelCNN computes each masked k x k convolution over its top k//2+1 rows only (the rows below are masked out):
 * its logits must equal the original formulation, a full k x k convolution with the masked kernel, on the
 * same weights.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig } from '../../lib/models';
import { applyConv, scalePixels, toLogits } from '../../lib/models/layers';
import { SimplePixelCNN } from '../../lib/models/simple';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

/** The original: relu(masked full conv) per layer, then the 1x1 output. */
function fullMaskedLogits(model: SimplePixelCNN, images: tf.Tensor4D): tf.Tensor5D {
  return tf.tidy(() => {
    let x = scalePixels(images);
    for (const conv of model.hidden) x = tf.relu(applyConv(conv, x));
    return toLogits(applyConv(model.output, x), model.config.colours);
  });
}

test('cropped masked convolutions give the full masked kernels\' logits (1 and 3 colours, k 1, 3, 5, 7; one-row images)', async () => {
  const cases = [
    { colours: 1, kernelSize: 5, height: 7, width: 6 }, { colours: 3, kernelSize: 3, height: 5, width: 5 },
    { colours: 3, kernelSize: 5, height: 6, width: 4 }, { colours: 1, kernelSize: 7, height: 8, width: 8 },
    { colours: 1, kernelSize: 1, height: 4, width: 4 }, { colours: 3, kernelSize: 5, height: 1, width: 5 },
  ];
  for (const c of cases) {
    const model = buildModel(modelConfig({ kind: 'simple', layers: 3, channels: 6, seed: 3, ...c })) as SimplePixelCNN;
    const images = tf.randomUniform([2, c.height, c.width, c.colours], 0, 256, 'int32', 5).toFloat() as tf.Tensor4D;
    // Non-zero biases, so that a bias added twice (or not at all) would show.
    for (const conv of model.hidden) conv.bias.assign(tf.randomNormal(conv.bias.shape, 0, 0.5, 'float32', 9));
    const cropped = (await model.logits(images).data()) as Float32Array;
    const full = (await fullMaskedLogits(model, images).data()) as Float32Array;
    const scale = Math.max(...Array.from(full, Math.abs));
    let worst = 0;
    for (let i = 0; i < full.length; i++) worst = Math.max(worst, Math.abs(cropped[i] - full[i]));
    assert.ok(scale > 0.01, 'logits are not trivially zero');
    assert.ok(worst <= 1e-5 * scale, `${JSON.stringify(c)}: max difference ${worst} (scale ${scale})`);
    images.dispose();
    model.params.dispose();
  }
});
