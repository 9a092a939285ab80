/**
 * Our wasm kernels (lib/backend/wasm-kernels.ts) against the pure-JS cpu backend: same inputs, gradients of a
 * weighted sum of conv2d / depthwiseConv2d / conv2dTranspose / matMul outputs through tf.grads, on many
 * shapes, strides and paddings. Relative error = max |wasm - cpu| / max |cpu|, required <= 1e-4.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from '../../lib/backend/wasm-kernels';
import { mulberry32 } from '../../lib/data/random';
import { randomArray, relativeError } from './compare';

const TOL = 1e-4;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Gradients of sum(f(inputs) * weights) w.r.t. every input, on the named backend. */
async function gradsOn(
  backend: string, inputs: { values: Float32Array; shape: number[] }[],
  f: (...ts: tf.Tensor[]) => tf.Tensor, weightSeed: number,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ts = inputs.map((i) => tf.tensor(i.values, i.shape));
    const loss = (...xs: tf.Tensor[]): tf.Scalar => {
      const y = f(...xs);
      const w = tf.tensor(randomArray(mulberry32(weightSeed), y.size), y.shape);
      return tf.sum(tf.mul(y, w));
    };
    return tf.grads(loss)(ts).map((g) => g.dataSync() as Float32Array);
  });
}

async function compare(
  label: string, inputs: { values: Float32Array; shape: number[] }[], f: (...ts: tf.Tensor[]) => tf.Tensor,
  seed: number,
): Promise<void> {
  const want = await gradsOn('cpu', inputs, f, seed);
  const got = await gradsOn('wasm', inputs, f, seed);
  got.forEach((g, i) => {
    const err = relativeError(g, want[i]);
    assert.ok(err <= TOL, `${label}: gradient ${i} relative error ${err.toExponential(2)} > ${TOL}`);
  });
}

const KERNELS: [number, number][] = [
  [1, 1], [1, 3], [3, 1], [2, 2], [2, 5], [3, 3], [3, 5], [5, 3], [4, 4], [5, 5], [7, 7], [1, 7],
];
const STRIDES: (number | [number, number])[] = [1, 2, [1, 2], [2, 1]];

interface ConvCase { B: number; H: number; W: number; C: number; Co: number; Kh: number; Kw: number; s: number | [number, number]; pad: Pad }

function convCases(seed: number, count: number, maxCo: number, depthwise: boolean): ConvCase[] {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  let n = 0;
  while (cases.length < count) {
    const [Kh, Kw] = KERNELS[n % KERNELS.length];
    const s = STRIDES[Math.floor(n / KERNELS.length) % STRIDES.length];
    const padKind = n % 3;
    n++;
    const pad: Pad = padKind === 0 ? 'same' : padKind === 1 ? 'valid'
      : [[0, 0], [int(0, Kh + 1), int(0, Kh)], [int(0, Kw + 1), int(0, Kw)], [0, 0]];
    const c: ConvCase = { B: int(1, 3), H: int(1, 10), W: int(1, 10), C: int(1, 8), Co: int(1, maxCo), Kh, Kw, s, pad };
    const info = tf.backend_util.computeConv2DInfo(
      [c.B, c.H, c.W, c.C], [Kh, Kw, c.C, depthwise ? c.Co : c.Co], s, 1, pad, undefined, depthwise);
    if (info.outHeight <= 0 || info.outWidth <= 0) continue;
    cases.push(c);
  }
  return cases;
}

function inputsFor(c: ConvCase, seed: number, filterLast: number): { values: Float32Array; shape: number[] }[] {
  const rand = mulberry32(seed);
  const xShape = [c.B, c.H, c.W, c.C], wShape = [c.Kh, c.Kw, c.C, filterLast];
  return [
    { values: randomArray(rand, xShape.reduce((a, b) => a * b)), shape: xShape },
    { values: randomArray(rand, wShape.reduce((a, b) => a * b)), shape: wShape },
  ];
}

describe('wasm gradient kernels vs cpu backend', () => {
  before(async () => {
    tf.enableProdMode();
    registerWasmGradientKernels();
    registerWasmGradientKernels(); // idempotent
    assert.ok(await tf.setBackend('wasm'));
    assert.ok(await tf.setBackend('cpu'));
  });
  after(() => {
    tf.disposeVariables();
  });

  test('registers every kernel for wasm', () => {
    for (const k of WASM_GRADIENT_KERNELS) assert.ok(tf.getKernel(k, 'wasm'), `${k} not registered`);
  });

  test('conv2d: gradients w.r.t. input and filter on 72 shapes', async () => {
    const cases = convCases(1, 72, 8, false);
    for (const [i, c] of cases.entries()) {
      await compare(`conv2d ${JSON.stringify(c)}`, inputsFor(c, 100 + i, c.Co),
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 200 + i);
    }
  });

  test('conv2d: PixelCNN-style masked padding and larger channel counts', async () => {
    const cases: ConvCase[] = [
      { B: 2, H: 8, W: 8, C: 16, Co: 32, Kh: 3, Kw: 5, s: 1, pad: [[0, 0], [2, 0], [2, 2], [0, 0]] },
      { B: 2, H: 8, W: 8, C: 16, Co: 32, Kh: 2, Kw: 5, s: 1, pad: [[0, 0], [1, 0], [2, 2], [0, 0]] },
      { B: 3, H: 7, W: 7, C: 12, Co: 12, Kh: 1, Kw: 3, s: 1, pad: [[0, 0], [0, 0], [2, 0], [0, 0]] },
      { B: 1, H: 9, W: 9, C: 30, Co: 30, Kh: 1, Kw: 1, s: 1, pad: 'same' },
      { B: 2, H: 9, W: 9, C: 3, Co: 20, Kh: 7, Kw: 7, s: 1, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
      // C < Co, C >= 8: dW packs x instead of dy (every padding it accepts, and the fallbacks)
      { B: 3, H: 7, W: 8, C: 8, Co: 20, Kh: 1, Kw: 3, s: 1, pad: [[0, 0], [0, 0], [2, 0], [0, 0]] },
      { B: 2, H: 6, W: 7, C: 9, Co: 16, Kh: 3, Kw: 3, s: 1, pad: 'same' },
      { B: 2, H: 6, W: 7, C: 9, Co: 16, Kh: 3, Kw: 2, s: 1, pad: 'valid' },
      { B: 2, H: 6, W: 7, C: 10, Co: 11, Kh: 2, Kw: 5, s: 1, pad: [[0, 0], [1, 1], [0, 4], [0, 0]] },
      { B: 2, H: 6, W: 7, C: 10, Co: 11, Kh: 3, Kw: 3, s: 1, pad: [[0, 0], [3, 0], [0, 1], [0, 0]] },
      { B: 2, H: 7, W: 7, C: 8, Co: 12, Kh: 3, Kw: 3, s: 2, pad: 'same' },
    ];
    for (const [i, c] of cases.entries()) {
      await compare(`conv2d ${JSON.stringify(c)}`, inputsFor(c, 300 + i, c.Co),
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 400 + i);
    }
  });

  test('depthwiseConv2d: gradients w.r.t. input and filter on 36 shapes', async () => {
    const cases = convCases(2, 36, 3, true);
    for (const [i, c] of cases.entries()) {
      await compare(`depthwiseConv2d ${JSON.stringify(c)}`, inputsFor(c, 500 + i, c.Co),
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 600 + i);
    }
  });

  test('conv2dTranspose (forward runs Conv2DBackpropInput) and its gradients', async () => {
    const rand = mulberry32(3);
    const specs: { B: number; H: number; W: number; Cin: number; Cout: number; K: [number, number]; s: number; pad: 'same' | 'valid' }[] = [
      { B: 2, H: 4, W: 5, Cin: 3, Cout: 2, K: [3, 3], s: 2, pad: 'same' },
      { B: 1, H: 3, W: 3, Cin: 2, Cout: 4, K: [2, 5], s: 2, pad: 'valid' },
      { B: 3, H: 5, W: 4, Cin: 4, Cout: 3, K: [3, 1], s: 1, pad: 'same' },
    ];
    for (const [i, sp] of specs.entries()) {
      const size = (n: number, k: number) => (sp.pad === 'same' ? n * sp.s : (n - 1) * sp.s + k);
      const outShape: [number, number, number, number] = [sp.B, size(sp.H, sp.K[0]), size(sp.W, sp.K[1]), sp.Cout];
      const outInfo = tf.backend_util.computeConv2DInfo(outShape, [sp.K[0], sp.K[1], sp.Cout, sp.Cin], sp.s, 1, sp.pad);
      assert.deepEqual([outInfo.outHeight, outInfo.outWidth], [sp.H, sp.W]);
      const x = { values: randomArray(rand, sp.B * sp.H * sp.W * sp.Cin), shape: [sp.B, sp.H, sp.W, sp.Cin] };
      const w = { values: randomArray(rand, sp.K[0] * sp.K[1] * sp.Cout * sp.Cin), shape: [sp.K[0], sp.K[1], sp.Cout, sp.Cin] };
      await compare(`conv2dTranspose ${JSON.stringify(sp)}`, [x, w],
        (a, b) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, outShape, sp.s, sp.pad), 700 + i);
    }
  });

  test('matMul with every transpose combination, batched and broadcast', async () => {
    const rand = mulberry32(4);
    const arr = (shape: number[]) => ({ values: randomArray(rand, shape.reduce((a, b) => a * b)), shape });
    let seed = 800;
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a2 = arr(ta ? [7, 5] : [5, 7]), b2 = arr(tb ? [3, 7] : [7, 3]);
        await compare(`matMul 2D ta=${ta} tb=${tb}`, [a2, b2], (a, b) => tf.matMul(a, b, ta, tb), seed++);
        // a batch of matrices times one matrix (tf's gradient does not reduce a broadcast b: only d/da)
        const a3 = arr(ta ? [2, 7, 5] : [2, 5, 7]), b3 = arr(tb ? [3, 7] : [7, 3]);
        await compare(`matMul 3D x 2D ta=${ta} tb=${tb}`, [a3],
          (a) => tf.matMul(a, tf.tensor(b3.values, b3.shape), ta, tb), seed++);
        const bb = arr(tb ? [2, 3, 7] : [2, 7, 3]);
        await compare(`matMul batched ta=${ta} tb=${tb}`, [a3, bb], (a, b) => tf.matMul(a, b, ta, tb), seed++);
      }
    }
    // an empty inner dimension gives zeros (XNNPACK refuses it)
    await tf.setBackend('wasm');
    const z = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
    assert.deepEqual(Array.from(z.dataSync()), new Array(12).fill(0));
    z.dispose();
  });

  test('a small conv net trains identically (Adam, 3 steps) on wasm and cpu', async () => {
    const rand = mulberry32(5);
    const xv = randomArray(rand, 2 * 6 * 6 * 2);
    const labels = Array.from({ length: 2 * 6 * 6 }, (_, i) => i % 4);
    const init = {
      w1: randomArray(rand, 3 * 3 * 2 * 8), w2: randomArray(rand, 2 * 3 * 8 * 8), w3: randomArray(rand, 8 * 4),
      b1: randomArray(rand, 8),
    };
    const run = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const w1 = tf.variable(tf.tensor4d(init.w1, [3, 3, 2, 8]).mul(0.3));
      const w2 = tf.variable(tf.tensor4d(init.w2, [2, 3, 8, 8]).mul(0.3));
      const w3 = tf.variable(tf.tensor2d(init.w3, [8, 4]).mul(0.3));
      const b1 = tf.variable(tf.tensor1d(init.b1).mul(0.1));
      const x = tf.tensor4d(xv, [2, 6, 6, 2]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
      const opt = tf.train.adam(0.01);
      for (let step = 0; step < 3; step++) {
        opt.minimize(() => {
          const h1 = tf.relu(tf.add(tf.conv2d(x, w1 as tf.Variable<tf.Rank.R4>, 1, 'same'), b1)) as tf.Tensor4D;
          const h2 = tf.tanh(tf.conv2d(h1, w2 as tf.Variable<tf.Rank.R4>, 1, [[0, 0], [1, 0], [1, 1], [0, 0]]));
          const logits = tf.matMul(tf.reshape(h2, [-1, 8]), w3);
          return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
        });
      }
      const out = [w1, w2, w3, b1].map((v) => v.dataSync() as Float32Array);
      tf.dispose([w1, w2, w3, b1, x, y]);
      opt.dispose();
      return out;
    };
    const want = await run('cpu');
    const got = await run('wasm');
    got.forEach((g, i) => {
      const err = relativeError(g, want[i]);
      assert.ok(err <= TOL, `variable ${i}: relative error ${err.toExponential(2)}`);
    });
  });

  test('unsupported layouts and dilations fail with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 5, 5, 2]), dy = tf.ones([1, 5, 5, 3]);
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] } as unknown as tf.NamedAttrMap),
      /only dataFormat 'NHWC'/);
    const dyd = tf.ones([1, 5, 5, 2]);
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyd },
        { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 2, 1] } as unknown as tf.NamedAttrMap),
      /only dilation 1/);
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyd, filter: tf.ones([3, 3, 2, 1]) },
        { strides: 1, pad: 'same', dilations: [1, 2], inputShape: [1, 5, 5, 2] } as unknown as tf.NamedAttrMap),
      /only dilation 1/);
    tf.dispose([x, dy, dyd]);
  });

  test('kernels do not leak wasm memory', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 7, 7, 3]) as tf.Tensor4D, w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const dw = tf.randomNormal([3, 3, 3, 2]) as tf.Tensor4D;
    const step = () => tf.tidy(() => {
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, [[0, 0], [4, 1], [0, 3], [0, 0]]).sum())([x, w]);
      const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same').sum())([x, dw]);
      const g3 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, true, true).sum())([tf.ones([4, 3]), tf.ones([5, 4])]);
      return [...g1, ...g2, ...g3].map((g) => g.sum().dataSync()[0]);
    });
    step();
    const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    for (let i = 0; i < 3; i++) step();
    const afterIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    assert.equal(afterIds, before);
    tf.dispose([x, w, dw]);
  });
});
