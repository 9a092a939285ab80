/**
 * The wasm kernels that replace slow stock ones outside the convolutions (lib/backend/wasm-kernels.ts:
 * Identity, Sum over leading axes, Slice, SplitV) and the fused softmax cross-entropy
 * (lib/ops/softmax-cross-entropy.ts): values and gradients against the pure-JS cpu backend running the stock
 * kernels and the op's reference form.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmGradientKernels } from '../../lib/backend/wasm-kernels';
import { softmaxCrossEntropy, softmaxCrossEntropyReference } from '../../lib/ops/softmax-cross-entropy';

function random(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Runs `f` on a backend and returns its outputs as arrays with their shapes. */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => [f()].flat());
  const result = await Promise.all(outs.map(async (t) => ({ shape: t.shape, values: (await t.data()) as Float32Array })));
  tf.dispose(outs);
  return result;
}

function assertClose(got: { shape: number[]; values: Float32Array }[], want: { shape: number[]; values: Float32Array }[], tolerance: number, what: string): void {
  assert.equal(got.length, want.length, what);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, want[i].shape, `${what}: output ${i} shape`);
    const scale = Math.max(1e-6, ...Array.from(want[i].values, Math.abs));
    for (let j = 0; j < g.values.length; j++) {
      assert.ok(Math.abs(g.values[j] - want[i].values[j]) <= tolerance * scale, `${what}: output ${i}[${j}] ${g.values[j]} vs ${want[i].values[j]}`);
    }
  });
}

async function sameOnBoth(f: () => tf.Tensor | tf.Tensor[], what: string, tolerance = 1e-6): Promise<void> {
  assertClose(await on('wasm', f), await on('cpu', f), tolerance, what);
}

describe('fast wasm kernels vs the cpu backend', () => {
  before(async () => {
    tf.enableProdMode();
    registerWasmGradientKernels();
    assert.ok(await tf.setBackend('wasm'));
  });

  test('Slice: every combination of offsets and sizes on a 4-d tensor, a 1-d one and empty results', async () => {
    const x = () => tf.tensor(random(1, 3 * 4 * 5 * 6), [3, 4, 5, 6]);
    const cases: [number[], number[]][] = [
      [[0, 0, 0, 0], [3, 4, 5, 6]], [[0, 0, 0, 3], [-1, -1, -1, 3]], [[1, 2, 3, 1], [2, 2, 2, 5]], [[0, 1, 0, 0], [3, 3, 5, 6]],
      [[2, 0, 0, 0], [1, 4, 5, 6]], [[0, 0, 4, 5], [3, 4, 1, 1]], [[0, 0, 0, 0], [0, 4, 5, 6]], [[1, 1, 1, 1], [1, 1, 1, 1]],
    ];
    for (const [begin, size] of cases) await sameOnBoth(() => tf.slice(x(), begin, size), `slice ${begin} ${size}`, 0);
    await sameOnBoth(() => tf.slice(tf.tensor(random(2, 9)), [2], [5]), '1-d slice', 0);
    await sameOnBoth(() => tf.slice(tf.tensor([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]), 'int32 slice (stock kernel)', 0);
  });

  test('SplitV: even and uneven splits along each axis, and their gradient (a concat)', async () => {
    for (let axis = 0; axis < 4; axis++) {
      const x = () => tf.tensor(random(3 + axis, 4 * 4 * 6 * 8), [4, 4, 6, 8]);
      await sameOnBoth(() => tf.split(x(), 2, axis), `split in 2 on axis ${axis}`, 0);
      const d = [4, 4, 6, 8][axis];
      await sameOnBoth(() => tf.split(x(), [1, d - 2, 1], axis), `split 1+${d - 2}+1 on axis ${axis}`, 0);
    }
    const weights = random(9, 4 * 4 * 6 * 4);
    await sameOnBoth(() => tf.grad((x: tf.Tensor) => {
      const [a, b] = tf.split(x, 2, -1);
      return tf.sum(tf.mul(tf.mul(tf.tanh(a), tf.sigmoid(b)), tf.tensor(weights, [4, 4, 6, 4])));
    })(tf.tensor(random(8, 4 * 4 * 6 * 8), [4, 4, 6, 8])), 'gradient of the gated activation', 1e-5);
  });

  test('Sum over a block of axes before the last (bias gradients) matches, in double-precision accumulation; other axes use the stock kernel', async () => {
    const x = () => tf.tensor(random(4, 64 * 7 * 7 * 12, 3), [64, 7, 7, 12]);
    for (const axes of [[0], [0, 1], [0, 1, 2], [1, 2], [1], [2], [3], [2, 3], [0, 2], [0, 1, 2, 3], [2, 0, 1]]) {
      await sameOnBoth(() => tf.sum(x(), axes), `sum over ${axes}`, 1e-5);
      await sameOnBoth(() => tf.sum(x(), axes, true), `sum over ${axes}, keepDims`, 1e-5);
    }
    await sameOnBoth(() => tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(x(), b))))(tf.tensor(random(5, 12), [12])), 'bias gradient', 1e-5);
    await sameOnBoth(() => tf.grad((b: tf.Tensor) => tf.sum(tf.square(tf.add(x(), b))))(tf.tensor(random(6, 64 * 12), [64, 1, 1, 12])), 'per-image bias gradient', 1e-5);
  });

  test('Tanh (through the sigmoid, a series near 0) is within 1e-6 relative over the whole range, and its gradient matches', async () => {
    const edge = [0, -0, 1e-30, -1e-7, 0.2499, 0.2501, -0.25, 0.5, -3, 9, 20, -40, 1e4, -Infinity, Infinity];
    const values = Float32Array.from([...edge, ...random(11, 4000, 6), ...random(12, 1000, 0.1)]);
    const wasm = await on('wasm', () => tf.tanh(tf.tensor(values)));
    await tf.setBackend('cpu');
    const exact = values.map(Math.tanh);
    wasm[0].values.forEach((v, i) => {
      const want = exact[i];
      // within 1e-6 relative: a few float32 ulps
      assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want) + 1e-45, `tanh(${values[i]}) = ${v}, want ${want}`);
    });
    const nan = await on('wasm', () => tf.tanh(tf.tensor([NaN])));
    assert.ok(Number.isNaN(nan[0].values[0]), 'NaN stays NaN');
    await sameOnBoth(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(x), tf.tensor(random(13, 500)))))(tf.tensor(random(14, 500, 4))), 'tanh gradient', 1e-5);
  });

  test('Identity shares memory: a clone survives its source being disposed, and a variable\'s assign leaves clones alone', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const source = tf.tensor([1, 2, 3, 4]);
    const before = backend.numDataIds();
    const copy = tf.clone(source);
    assert.equal(backend.numDataIds(), before, 'no new buffer');
    source.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3, 4]);
    const variable = tf.variable(copy);
    const snapshot = tf.clone(variable);
    variable.assign(tf.tensor([5, 6, 7, 8]));
    assert.deepEqual(Array.from(await snapshot.data()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(await variable.data()), [5, 6, 7, 8]);
    tf.dispose([copy, variable, snapshot]);
  });
});

describe('softmax cross-entropy', () => {
  const rows = 2 * 5 * 5 * 3;
  const logits = () => tf.tensor(random(6, rows * 256, 6), [2, 5, 5, 3, 256]);
  const labels = () => tf.tensor(Array.from({ length: rows }, (_, i) => (i * 97) % 256), [2, 5, 5, 3], 'float32');
  const weights = random(7, rows);

  test('the fused wasm kernel gives the reference\'s nats and gradients', async () => {
    await tf.setBackend('wasm');
    assert.ok(tf.getKernel('PixelSoftmaxCrossEntropy', 'wasm'), 'registered on wasm');
    const fused = await on('wasm', () => {
      const nats = softmaxCrossEntropy(logits(), labels());
      const grad = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropy(l, labels()), tf.tensor(weights, labels().shape))))(logits());
      return [nats, grad];
    });
    const reference = await on('cpu', () => {
      assert.equal(tf.getKernel('PixelSoftmaxCrossEntropy', 'cpu'), undefined, 'cpu runs the reference form');
      const nats = softmaxCrossEntropyReference(logits(), labels());
      const grad = tf.grad((l: tf.Tensor) => tf.sum(tf.mul(softmaxCrossEntropyReference(l, labels()), tf.tensor(weights, labels().shape))))(logits());
      return [nats, grad];
    });
    assertClose(fused, reference, 1e-5, 'fused vs reference');
    assert.ok(fused[0].values.every((v) => v > 0), 'nats are positive');
  });

  test('large logits do not overflow, and bad labels or shapes are errors', async () => {
    await tf.setBackend('wasm');
    const [nats] = await on('wasm', () => softmaxCrossEntropy(tf.tensor([[1000, 0, -1000], [0, 0, 0]]), tf.tensor([0, 2], [2], 'int32')));
    assert.ok(Math.abs(nats.values[0]) < 1e-6 && Math.abs(nats.values[1] - Math.log(3)) < 1e-6, `${nats.values}`);
    assert.throws(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 4]), tf.tensor([1, 4], [2], 'int32'))), /label 4 of row 1 is outside 0\.\.3/);
    assert.throws(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 4]), tf.zeros([3]))), /labels of shape \[3\] do not match logits \[2,4\]/);
  });
});
