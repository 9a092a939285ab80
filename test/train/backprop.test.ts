/**
 * variableGradsFreeing (lib/train/backprop.ts) must give exactly tf.variableGrads's gradients (the same kernels
 * in the same order), leak nothing, and hold less memory during the backward pass: measured inside the last
 * gradient function the backward pass runs, where tfjs still holds every saved activation and every gradient.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, MODEL_KINDS, modelConfig } from '../../lib/models';
import { variableGradsFreeing } from '../../lib/train/backprop';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

/** Bytes held when the backward pass reaches the chain's first op (its gradient runs last), and the gradient. */
function backwardPeak(grads: (f: () => tf.Scalar, variables: tf.Variable[]) => { value: tf.Scalar; grads: tf.NamedTensorMap }): { bytes: number; gradient: number[] } {
  const w = tf.tidy(() => tf.variable(tf.linspace(-1, 1, 4096), true, 'backprop-test-w'));
  let bytesAtEnd = -1;
  const probe = tf.customGrad(((x: tf.Tensor) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => {
      bytesAtEnd = tf.memory().numBytes;
      return dy;
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  const { value, grads: g } = grads(() => tf.tidy(() => {
    let h = probe(w) as tf.Tensor;
    for (let i = 0; i < 20; i++) h = tf.tanh(tf.mul(h, 1.01)); // tanh saves its output
    return tf.sum(h) as tf.Scalar;
  }), [w]);
  const gradient = Array.from(g[w.name].dataSync());
  tf.dispose([value, g[w.name], w]);
  return { bytes: bytesAtEnd, gradient };
}

test('the backward pass frees saved activations and gradients as it goes', () => {
  // Ours first: the process's first gradient, when the engine has never made a tape (once a bug fell back to tfjs then).
  const ours = backwardPeak(variableGradsFreeing);
  const stock = backwardPeak(tf.variableGrads);
  assert.deepEqual(ours.gradient, stock.gradient);
  const tensorBytes = 4096 * 4;
  // tfjs still holds the 20 saved tanh outputs and the 40 gradients of the mul and tanh outputs; we hold the
  // variable, the probe's output and its gradient, and at most a few more.
  console.log(`held at the end: ours ${ours.bytes / tensorBytes}, tfjs ${stock.bytes / tensorBytes} tensors of 4096 floats`);
  assert.ok(stock.bytes >= 60 * tensorBytes, `tf.variableGrads holds ${stock.bytes / tensorBytes} tensors at the end`);
  assert.ok(ours.bytes <= 6 * tensorBytes, `variableGradsFreeing holds ${ours.bytes / tensorBytes} tensors at the end`);
});

for (const kind of MODEL_KINDS) {
  test(`${kind}: the same loss and gradients, bit for bit, as tf.variableGrads; no tensor left behind`, async () => {
    const model = buildModel(modelConfig(
      { kind, layers: 2, kernelSize: 3, channels: 6, seed: 3, ...(kind.startsWith('vae') ? { latentSize: 2, vaeChannels: 4 } : {}) },
      { name: 'tiny', height: 8, width: 8, channels: 1, classes: 3 },
    ));
    const objective = model.objective();
    const images = tf.tensor4d(Array.from({ length: 2 * 64 }, (_, i) => (i * 37) % 256), [2, 8, 8, 1], 'float32');
    const labels = tf.tensor1d([0, 2], 'int32');
    const loss = () => objective.loss(images, labels, { seed: 11, step: 5 });
    const reference = tf.variableGrads(loss, objective.variables);
    const before = tf.memory().numTensors;
    const ours = variableGradsFreeing(loss, objective.variables);
    assert.equal(tf.memory().numTensors, before + 1 + Object.keys(ours.grads).length, 'only the loss and the gradients stay');
    assert.deepEqual(Object.keys(ours.grads).sort(), Object.keys(reference.grads).sort());
    assert.equal((await ours.value.data())[0], (await reference.value.data())[0]);
    let nonZero = 0;
    for (const [name, g] of Object.entries(reference.grads)) {
      const [want, got] = [await g.data(), await ours.grads[name].data()];
      assert.deepEqual(Array.from(got), Array.from(want), `gradient of ${name}`);
      if (want.some((v) => v !== 0)) nonZero++;
    }
    assert.ok(nonZero >= Object.keys(reference.grads).length / 2, `most gradients are non-zero (${nonZero})`);
    tf.dispose([reference.value, ...Object.values(reference.grads), ours.value, ...Object.values(ours.grads), images, labels]);
    model.params.dispose();
  });
}
