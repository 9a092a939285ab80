/**
 * The fused gated activation (lib/ops/gated-activation.ts) against its tf-ops reference (split, tanh, sigmoid,
 * multiply, differentiated by tfjs): on the cpu backend (its JavaScript kernel) and on the native backend (the
 * addon's kernels, whose calls are counted so a fallback cannot pass for them). Values and the gradients of a
 * weighted sum, odd channel counts, batch 1, rank 2 to 4, and extreme inputs (+-20, +-100, 0, -0).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  GATED_ACTIVATION_GRAD_KERNEL, GATED_ACTIVATION_KERNEL, gatedActivation, gatedActivationReference,
} from '../../lib/ops/gated-activation';
import { loadNativeAddon, registerNativeBackend } from '../../lib/backend/native';
import { nativeOrSkip } from '../backend/native-require';
import { mulberry32 } from '../../lib/data/random';
import { relativeError } from '../backend/compare';

const EXTREMES = [0, -0, 20, -20, 100, -100, 1e-6, -1e-6, 0.6249, -0.6251, 3, -3, 9.5, -87.5, 88.5];

/** Inputs with the extremes spread over both halves, the rest uniform in [-scale, scale]. */
function values(shape: number[], seed: number, scale = 4): Float32Array {
  const rand = mulberry32(seed);
  const n = shape.reduce((p, v) => p * v, 1);
  const out = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
  for (let i = 0; i < EXTREMES.length && i * 7 < n; i++) out[(i * 7) % n] = EXTREMES[i];
  return out;
}

/** y = f(x) and d sum(y * w) / dx, read out. */
function forwardAndGrad(f: (x: tf.Tensor) => tf.Tensor, x: Float32Array, shape: number[], seed: number): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const xt = tf.tensor(x, shape);
    const y = f(xt);
    const w = tf.tensor(values(y.shape, seed, 1), y.shape);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), w)))(xt);
    return [y.dataSync() as Float32Array, dx.dataSync() as Float32Array];
  });
}

/** Largest |got - want| over the largest |want| (NaN on one side only fails). */
const SHAPES = [[1, 1, 1, 2], [1, 3, 5, 14], [2, 7, 5, 6], [3, 4, 4, 60], [1, 2, 3, 62], [5, 22], [4, 3, 30]];

/** The fused op matches the reference on `backend`: forward within fwdTol, gradient within gradTol (relative). */
async function compareOnBackend(backend: string, fwdTol: number, gradTol: number): Promise<void> {
  for (const [k, shape] of SHAPES.entries()) {
    const x = values(shape, 100 + k);
    assert.ok(await tf.setBackend('cpu'));
    const [yRef, dxRef] = forwardAndGrad(gatedActivationReference, x, shape, 200 + k);
    assert.ok(await tf.setBackend(backend));
    const [y, dx] = forwardAndGrad(gatedActivation, x, shape, 200 + k);
    const ey = relativeError(y, yRef), edx = relativeError(dx, dxRef);
    assert.ok(ey <= fwdTol, `${backend} [${shape}]: forward relative error ${ey.toExponential(2)} > ${fwdTol}`);
    assert.ok(edx <= gradTol, `${backend} [${shape}]: gradient relative error ${edx.toExponential(2)} > ${gradTol}`);
  }
}

describe('gated activation op', () => {
  before(() => tf.enableProdMode());

  test('cpu: the fused kernel runs, its forward is bit-identical to the reference and its gradient equal within 1e-6', async () => {
    assert.ok(await tf.setBackend('cpu'));
    assert.ok(tf.getKernel(GATED_ACTIVATION_KERNEL, 'cpu') && tf.getKernel(GATED_ACTIVATION_GRAD_KERNEL, 'cpu'));
    // The op must be the fused kernel here, not the reference: a profile names the kernel and no Tanh.
    const profile = await tf.profile(() => gatedActivation(tf.ones([1, 2, 2, 4])));
    assert.ok(profile.kernelNames.includes(GATED_ACTIVATION_KERNEL) && !profile.kernelNames.includes('Tanh'), `kernels run: ${profile.kernelNames}`);
    (profile.result as tf.Tensor).dispose();
    await compareOnBackend('cpu', 0, 1e-6);
  });

  test('known values: halves are [a | b] per row, gradient laid out the same way', async () => {
    assert.ok(await tf.setBackend('cpu'));
    const a = [0.5, -1], b = [2, 0], w = [0.3, -0.7];
    const [y, dx] = tf.tidy(() => {
      const x = tf.tensor([...a, ...b], [1, 4]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gatedActivation(v), tf.tensor(w, [1, 2]))))(x);
      return [gatedActivation(x).dataSync(), g.dataSync()];
    });
    const t = a.map(Math.tanh), s = b.map((v) => 1 / (1 + Math.exp(-v)));
    const want = [t[0] * s[0], t[1] * s[1]];
    y.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-7, `y[${i}] = ${v}, want ${want[i]}`));
    const wantDx = [
      w[0] * (1 - t[0] ** 2) * s[0], w[1] * (1 - t[1] ** 2) * s[1],
      w[0] * t[0] * s[0] * (1 - s[0]), w[1] * t[1] * s[1] * (1 - s[1]),
    ];
    dx.forEach((v, i) => assert.ok(Math.abs(v - wantDx[i]) < 1e-7, `dx[${i}] = ${v}, want ${wantDx[i]}`));
  });

  test('an odd last axis is refused, naming the shape', async () => {
    assert.ok(await tf.setBackend('cpu'));
    assert.throws(() => gatedActivation(tf.zeros([2, 3])), /gatedActivation: the input's last axis must have an even size.*\[2,3\]/);
  });

  test('tf.memory() stays flat over repeated forward and backward passes (cpu and native)', async (t) => {
    const backends = ['cpu'];
    if (registerNativeBackend().available) backends.push('native');
    else t.diagnostic('native backend unavailable: checked on cpu only');
    for (const backend of backends) {
      assert.ok(await tf.setBackend(backend));
      const x = tf.randomNormal([2, 5, 5, 8]);
      const step = () => tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(gatedActivation(v)))(x).sum().dataSync()[0]);
      step();
      const mem = tf.memory();
      for (let i = 0; i < 3; i++) step();
      assert.equal(tf.memory().numTensors, mem.numTensors, backend);
      assert.equal(tf.memory().numBytes, mem.numBytes, backend);
      x.dispose();
    }
  });

  test('native: the addon\'s gate and gateGrad run and match the cpu reference within 2e-6', async (t) => {
    if (!nativeOrSkip(t)) return;
    registerNativeBackend();
    const addon = loadNativeAddon().addon as unknown as Record<string, (...args: unknown[]) => unknown>;
    const calls = { gate: 0, gateGrad: 0 };
    const original = { gate: addon.gate, gateGrad: addon.gateGrad };
    for (const name of ['gate', 'gateGrad'] as const) {
      addon[name] = (...args: unknown[]) => {
        calls[name]++;
        return original[name](...args);
      };
    }
    try {
      await compareOnBackend('native', 2e-6, 2e-6);
      assert.ok(calls.gate >= SHAPES.length && calls.gateGrad >= SHAPES.length, `addon calls ${JSON.stringify(calls)}`);
      // A large tensor takes the multi-threaded path (small ones stay on one thread).
      await compareOnBackendLarge();
      // NaN stays NaN.
      const y = tf.tidy(() => gatedActivation(tf.tensor([NaN, 1, 1, NaN], [1, 4])).dataSync());
      assert.ok(Number.isNaN(y[0]) && Number.isNaN(y[1]), `gate of NaN: ${y}`);
    } finally {
      Object.assign(addon, original);
    }
  });
});

async function compareOnBackendLarge(): Promise<void> {
  const shape = [4, 28, 28, 60];
  const x = values(shape, 7, 6);
  assert.ok(await tf.setBackend('cpu'));
  const [yRef, dxRef] = forwardAndGrad(gatedActivationReference, x, shape, 8);
  assert.ok(await tf.setBackend('native'));
  const [y, dx] = forwardAndGrad(gatedActivation, x, shape, 8);
  assert.ok(relativeError(y, yRef) <= 2e-6, `large forward: ${relativeError(y, yRef)}`);
  assert.ok(relativeError(dx, dxRef) <= 2e-6, `large gradient: ${relativeError(dx, dxRef)}`);
}
