/**
 * The native backend's kernels (lib/backend/native.ts: oneDNN through native/) against the pure-JS cpu
 * backend: forward values and the gradients of a weighted sum through tf.grads (so Conv2D, both convolution
 * gradients and BatchMatMul with every transpose flag), on the convolutions our models run (gated and simple
 * (k//2+1) x k and gated 1 x (k//2+1) kernels, the blind-spot model's k//2 x k kernels over the rows above, 1x1,
 * the PixelVAE's 3x3; with and without the bias of lib/ops/conv-bias.ts) and on random shapes, strides and paddings with odd sizes and batch 1. Relative error =
 * max |native - cpu| / max |cpu|, required <= 1e-4. Each case also checks that the addon ran it (call counts),
 * so a silent fallback to the wasm kernels cannot pass for native.
 *
 * Skips, saying why, when the addon is not built; fails then under PIXEL_REQUIRE_NATIVE=1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon, nativeKernelNames, registerNativeBackend } from '../../lib/backend/native';
import { conv2dWithBias, ExplicitPadding } from '../../lib/ops/conv-bias';
import { softmaxCrossEntropy, softmaxCrossEntropyReference } from '../../lib/ops/softmax-cross-entropy';
import { nativeOrSkip } from './native-require';
import { mulberry32 } from '../../lib/data/random';
import { randomArray, relativeError } from './compare';

const TOL = 1e-4;
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

type Input = { values: Float32Array; shape: number[] };

/** f(inputs) and the gradients of sum(f(inputs) * weights) w.r.t. every input, on the named backend. */
async function forwardAndGrads(backend: string, inputs: Input[], f: (...ts: tf.Tensor[]) => tf.Tensor, weightSeed: number): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend));
  return tf.tidy(() => {
    const ts = inputs.map((i) => tf.tensor(i.values, i.shape));
    const y = f(...ts);
    const w = tf.tensor(randomArray(mulberry32(weightSeed), y.size), y.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(ts);
    return [y, ...grads].map((g) => g.dataSync() as Float32Array);
  });
}

/** Addon calls by entry point, counted by wrapping the addon's functions (the kernels look them up per call). */
const calls: Record<string, number> = {};
function countCalls(): void {
  const addon = loadNativeAddon().addon as unknown as Record<string, unknown>;
  for (const [name, fn] of Object.entries(addon)) {
    if (typeof fn !== 'function' || name === 'info' || (fn as { counted?: boolean }).counted) continue;
    const wrapped = (...args: unknown[]) => {
      const key = name === 'conv2d' ? `conv2d:${String(args[0])}` : name;
      calls[key] = (calls[key] ?? 0) + 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
    (wrapped as { counted?: boolean }).counted = true;
    addon[name] = wrapped;
  }
}

async function compare(label: string, inputs: Input[], f: (...ts: tf.Tensor[]) => tf.Tensor, seed: number, expectCalls: string[]): Promise<void> {
  const want = await forwardAndGrads('cpu', inputs, f, seed);
  const before = { ...calls };
  const got = await forwardAndGrads('native', inputs, f, seed);
  for (const k of expectCalls) assert.ok((calls[k] ?? 0) > (before[k] ?? 0), `${label}: the addon's ${k} did not run (fell back to wasm?)`);
  got.forEach((g, i) => {
    const err = relativeError(g, want[i]);
    assert.ok(err <= TOL, `${label}: ${i === 0 ? 'forward output' : `gradient ${i - 1}`} relative error ${err.toExponential(2)} > ${TOL}`);
  });
}

interface ConvCase { B: number; H: number; W: number; C: number; Co: number; Kh: number; Kw: number; s: number | [number, number]; pad: Pad }

function convInputs(c: ConvCase, seed: number): Input[] {
  const rand = mulberry32(seed);
  const xShape = [c.B, c.H, c.W, c.C], wShape = [c.Kh, c.Kw, c.C, c.Co];
  return [
    { values: randomArray(rand, xShape.reduce((a, b) => a * b)), shape: xShape },
    { values: randomArray(rand, wShape.reduce((a, b) => a * b)), shape: wShape },
  ];
}

const CONV_CALLS = ['conv2d:0', 'conv2d:1', 'conv2d:2'];

/** The convolutions the models run, for kernel size k (stride 1, explicit padding). */
function modelCases(k: number, B: number, H: number, W: number, C: number, Co: number): ConvCase[] {
  const p = Math.floor(k / 2);
  return [
    // gated vertical stack and the simple model's masked kernel: (k//2+1) x k over the current row and those above
    { B, H, W, C, Co, Kh: p + 1, Kw: k, s: 1, pad: [[0, 0], [p, 0], [p, p], [0, 0]] },
    // blind-spot vertical stack: k//2 x k over the rows above
    { B, H, W, C, Co, Kh: p, Kw: k, s: 1, pad: [[0, 0], [p, 0], [p, p], [0, 0]] },
    // gated horizontal stack: 1 x (k//2+1)
    { B, H, W, C, Co, Kh: 1, Kw: p + 1, s: 1, pad: [[0, 0], [0, 0], [p, 0], [0, 0]] },
    // links, outputs, condition maps: 1x1
    { B, H, W, C, Co, Kh: 1, Kw: 1, s: 1, pad: [[0, 0], [0, 0], [0, 0], [0, 0]] },
    // PixelVAE blocks: 3x3, padded 1
    { B, H, W, C, Co, Kh: 3, Kw: 3, s: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  ];
}

describe('native kernels vs cpu backend', () => {
  let available = false;
  before(async () => {
    tf.enableProdMode();
    available = registerNativeBackend().available;
    if (!available) return;
    countCalls();
    assert.ok(await tf.setBackend('native'));
    assert.ok(await tf.setBackend('cpu'));
  });
  after(() => tf.disposeVariables());

  test('the addon reports oneDNN, threads and ISA, and the backend lists its native kernels', (t) => {
    const s = nativeOrSkip(t);
    if (!s) return;
    assert.match(s.info!.onednn, /^\d+\.\d+\.\d+$/);
    assert.ok(s.info!.threads >= 1);
    assert.ok(s.info!.isa.length > 0);
    for (const k of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul']) {
      assert.ok(nativeKernelNames().includes(k), `${k} is not a native kernel`);
      assert.ok(tf.getKernel(k, 'native'), `${k} not registered for native`);
    }
    // everything the wasm backend has, native has too
    const wasm = tf.getKernelsForBackend('wasm').map((k) => k.kernelName);
    const missing = wasm.filter((k) => !tf.getKernel(k, 'native'));
    assert.deepEqual(missing, []);
  });

  test('model convolutions (k = 3, 5, 7; odd channel counts; batch 1 and 2): forward and both gradients', async (t) => {
    if (!nativeOrSkip(t)) return;
    let seed = 1;
    for (const k of [3, 5, 7]) {
      for (const [B, C, Co] of [[1, 1, 7], [2, 3, 30], [1, 15, 9], [2, 30, 60]]) {
        for (const c of modelCases(k, B, 7, 9, C, Co)) {
          await compare(`conv2d ${JSON.stringify(c)}`, convInputs(c, seed), (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 1000 + seed, CONV_CALLS);
          seed++;
        }
      }
    }
  });

  test('conv2dWithBias (FusedConv2D: the bias added in oneDNN) and its gradients (x, w and the bias): model convolutions, k = 3, 5', async (t) => {
    if (!nativeOrSkip(t)) return;
    let seed = 200;
    for (const k of [3, 5]) {
      for (const [B, C, Co] of [[1, 1, 7], [2, 30, 60]]) {
        for (const c of modelCases(k, B, 6, 7, C, Co)) {
          const bias: Input = { values: randomArray(mulberry32(seed + 50), Co), shape: [Co] };
          const pad = c.pad as ExplicitPadding;
          await compare(`conv2dWithBias ${JSON.stringify(c)}`, [...convInputs(c, seed), bias],
            (x, w, b) => conv2dWithBias(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, pad), 1000 + seed, ['conv2d:3', 'conv2d:1', 'conv2d:2', 'sumRows']);
          seed++;
        }
      }
    }
  });

  test('PIXEL_NATIVE_CONV_LAYOUT=blocked (oneDNN\'s reordered layouts; the default is NHWC): model convolutions, k = 5', async (t) => {
    if (!nativeOrSkip(t)) return;
    const saved = process.env.PIXEL_NATIVE_CONV_LAYOUT;
    process.env.PIXEL_NATIVE_CONV_LAYOUT = 'blocked';
    try {
      let seed = 300;
      for (const [B, C, Co] of [[1, 3, 30], [2, 30, 60]]) {
        for (const c of modelCases(5, B, 7, 9, C, Co)) {
          await compare(`blocked conv2d ${JSON.stringify(c)}`, convInputs(c, seed), (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 1000 + seed, CONV_CALLS);
          seed++;
        }
      }
    } finally {
      if (saved === undefined) delete process.env.PIXEL_NATIVE_CONV_LAYOUT;
      else process.env.PIXEL_NATIVE_CONV_LAYOUT = saved;
    }
  });

  test('random shapes, strides and paddings: forward and both gradients', async (t) => {
    if (!nativeOrSkip(t)) return;
    const KERNELS: [number, number][] = [[1, 1], [1, 3], [3, 1], [2, 2], [2, 5], [3, 3], [3, 5], [5, 3], [4, 4], [5, 5], [7, 7], [1, 7]];
    const STRIDES: (number | [number, number])[] = [1, 2, [1, 2], [2, 1], 3];
    const rand = mulberry32(7);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    let n = 0, done = 0;
    while (done < 60) {
      const [Kh, Kw] = KERNELS[n % KERNELS.length];
      const s = STRIDES[Math.floor(n / KERNELS.length) % STRIDES.length];
      const padKind = n % 3;
      n++;
      const pad: Pad = padKind === 0 ? 'same' : padKind === 1 ? 'valid'
        : [[0, 0], [int(0, Kh + 1), int(0, Kh)], [int(0, Kw + 1), int(0, Kw)], [0, 0]];
      const c: ConvCase = { B: int(1, 3), H: int(1, 11), W: int(1, 11), C: int(1, 9), Co: int(1, 13), Kh, Kw, s, pad };
      const info = tf.backend_util.computeConv2DInfo([c.B, c.H, c.W, c.C], [Kh, Kw, c.C, c.Co], s, 1, pad);
      if (info.outHeight <= 0 || info.outWidth <= 0) continue;
      await compare(`conv2d ${JSON.stringify(c)}`, convInputs(c, 5000 + n), (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad), 6000 + n, CONV_CALLS);
      done++;
    }
  });

  test('conv2dTranspose (its forward pass is Conv2DBackpropInput) and its gradients', async (t) => {
    if (!nativeOrSkip(t)) return;
    const rand = mulberry32(3);
    for (const [i, sp] of [
      { B: 2, H: 4, W: 5, Cin: 3, Cout: 2, K: [3, 3], s: 2, pad: 'same' },
      { B: 1, H: 3, W: 3, Cin: 2, Cout: 4, K: [2, 5], s: 2, pad: 'valid' },
      { B: 3, H: 5, W: 4, Cin: 4, Cout: 3, K: [3, 1], s: 1, pad: 'same' },
    ].entries() as IterableIterator<[number, { B: number; H: number; W: number; Cin: number; Cout: number; K: [number, number]; s: number; pad: 'same' | 'valid' }]>) {
      const size = (n: number, k: number) => (sp.pad === 'same' ? n * sp.s : (n - 1) * sp.s + k);
      const outShape: [number, number, number, number] = [sp.B, size(sp.H, sp.K[0]), size(sp.W, sp.K[1]), sp.Cout];
      const x = { values: randomArray(rand, sp.B * sp.H * sp.W * sp.Cin), shape: [sp.B, sp.H, sp.W, sp.Cin] };
      const w = { values: randomArray(rand, sp.K[0] * sp.K[1] * sp.Cout * sp.Cin), shape: [sp.K[0], sp.K[1], sp.Cout, sp.Cin] };
      await compare(`conv2dTranspose ${JSON.stringify(sp)}`, [x, w],
        (a, b) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, outShape, sp.s, sp.pad), 700 + i, CONV_CALLS);
    }
  });

  test('matMul with every transpose combination, batched and broadcast', async (t) => {
    if (!nativeOrSkip(t)) return;
    const rand = mulberry32(4);
    const arr = (shape: number[]) => ({ values: randomArray(rand, shape.reduce((a, b) => a * b)), shape });
    let seed = 800;
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a2 = arr(ta ? [7, 5] : [5, 7]), b2 = arr(tb ? [3, 7] : [7, 3]);
        await compare(`matMul 2D ta=${ta} tb=${tb}`, [a2, b2], (a, b) => tf.matMul(a, b, ta, tb), seed++, ['matMul']);
        const a1 = arr(ta ? [9, 1] : [1, 9]), b1 = arr(tb ? [4, 9] : [9, 4]); // batch-1 row vector (a condition)
        await compare(`matMul 1-row ta=${ta} tb=${tb}`, [a1, b1], (a, b) => tf.matMul(a, b, ta, tb), seed++, ['matMul']);
        const a3 = arr(ta ? [2, 7, 5] : [2, 5, 7]), b3 = arr(tb ? [3, 7] : [7, 3]);
        await compare(`matMul 3D x 2D ta=${ta} tb=${tb}`, [a3], (a) => tf.matMul(a, tf.tensor(b3.values, b3.shape), ta, tb), seed++, ['matMul']);
        const bb = arr(tb ? [2, 3, 7] : [2, 7, 3]);
        await compare(`matMul batched ta=${ta} tb=${tb}`, [a3, bb], (a, b) => tf.matMul(a, b, ta, tb), seed++, ['matMul']);
      }
    }
  });

  test('kernels keep no buffers: live data ids and tf.memory() stay flat over repeated gradient steps', async (t) => {
    if (!nativeOrSkip(t)) return;
    await tf.setBackend('native');
    const x = tf.randomNormal([2, 7, 7, 3]) as tf.Tensor4D, w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const step = () => tf.tidy(() => {
      const g1 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, [[0, 0], [2, 0], [1, 1], [0, 0]]).sum())([x, w]);
      const g2 = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, true, true).sum())([tf.ones([4, 3]), tf.ones([5, 4])]);
      return [...g1, ...g2].map((g) => g.sum().dataSync()[0]);
    });
    step();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds(), mem = tf.memory();
    for (let i = 0; i < 3; i++) step();
    assert.equal(backend.numDataIds(), ids);
    assert.equal(tf.memory().numTensors, mem.numTensors);
    assert.equal(tf.memory().numBytes, mem.numBytes);
    tf.dispose([x, w]);
  });

  test('Tanh and Sigmoid: within 1e-6 relative of Math over the whole range (NaN stays NaN), gradients match cpu', async (t) => {
    if (!nativeOrSkip(t)) return;
    const edge = [0, -0, 1e-30, -1e-7, 0.2499, -0.25, 0.5, -3, 9, 20, -40, 88, -104, 1e4, -Infinity, Infinity, NaN];
    const rand = mulberry32(21);
    const values = Float32Array.from([...edge, ...Array.from({ length: 5000 }, () => (rand() * 2 - 1) * 12), ...Array.from({ length: 999 }, () => (rand() * 2 - 1) * 0.1)]);
    const exact = { tanh: Math.tanh, sigmoid: (v: number) => 1 / (1 + Math.exp(-v)) };
    for (const kind of ['tanh', 'sigmoid'] as const) {
      const before = calls.eltwise ?? 0;
      await tf.setBackend('native');
      const got = tf.tidy(() => tf[kind](tf.tensor(values)).dataSync());
      assert.ok((calls.eltwise ?? 0) > before, `${kind}: the addon did not run`);
      got.forEach((v, i) => {
        const want = Math.fround(exact[kind](values[i]));
        if (Number.isNaN(want)) assert.ok(Number.isNaN(v), `${kind}(NaN) = ${v}`);
        else assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want) + 1e-38, `${kind}(${values[i]}) = ${v}, want ${want}`);
      });
      const x = { values: Float32Array.from({ length: 777 }, () => (rand() * 2 - 1) * 4), shape: [7, 111] };
      await compare(`${kind} gradient`, [x], (a) => tf[kind](a), 31, ['eltwise']);
    }
  });

  test('Sum over a block of axes before the last (bias gradients, per-image condition biases) natively, other reductions on wasm, all equal to cpu', async (t) => {
    if (!nativeOrSkip(t)) return;
    const rand = mulberry32(22);
    const x = { values: randomArray(rand, 64 * 7 * 7 * 12), shape: [64, 7, 7, 12] };
    // axes -> the addon's sumRows calls for the forward sum (0: the wasm kernel)
    const cases: [number[], number][] = [
      [[0], 1], [[0, 1], 1], [[0, 1, 2], 1], [[2, 0, 1], 1], [[1, 2], 1], [[1], 1], [[2], 1],
      [[3], 0], [[2, 3], 0], [[0, 2], 0], [[0, 1, 2, 3], 0],
    ];
    for (const [axes, sumRowsCalls] of cases) {
      for (const keep of [false, true]) {
        const label = `sum over ${axes}${keep ? ', keepDims' : ''}`;
        await tf.setBackend('native');
        const before = calls.sumRows ?? 0;
        tf.tidy(() => tf.sum(tf.tensor(x.values, x.shape), axes, keep).dataSync());
        assert.equal((calls.sumRows ?? 0) - before, sumRowsCalls, `${label}: sumRows calls`);
        await compare(label, [x], (a) => tf.sum(a, axes, keep), 40, sumRowsCalls > 0 ? ['sumRows'] : []);
      }
    }
    await compare('bias gradient', [{ values: randomArray(rand, 12), shape: [12] }],
      (b) => tf.sum(tf.square(tf.add(tf.tensor(x.values, x.shape), b)), [0, 1, 2]), 41, ['sumRows']);
    // A class-conditional layer: a per-image bias [N, 1, 1, C] added to every position; its gradient sums over H, W
    await compare('per-image bias gradient', [{ values: randomArray(rand, 64 * 12), shape: [64, 1, 1, 12] }],
      (b) => tf.sum(tf.square(tf.add(tf.tensor(x.values, x.shape), b)), [0, 1, 2]), 42, ['sumRows', 'add']);
  });

  test('Add: same shapes and broadcasts over one block of axes (a bias, a per-image bias) natively and bit-equal to cpu; other broadcasts and int32 on wasm', async (t) => {
    if (!nativeOrSkip(t)) return;
    const rand = mulberry32(24);
    const arr = (shape: number[]) => ({ values: randomArray(rand, shape.reduce((p, v) => p * v, 1)), shape });
    const addOn = async (backend: string, x: Input, y: Input) => {
      assert.ok(await tf.setBackend(backend));
      return tf.tidy(() => tf.add(tf.tensor(x.values, x.shape), tf.tensor(y.values, y.shape)).dataSync() as Float32Array);
    };
    // [5,17,19,31] and [64,7,7,12] are over the addon's one-thread limit (32768 elements), the rest under it
    const cases: [number[], number[], boolean][] = [
      [[5, 17, 19, 31], [5, 17, 19, 31], true], [[2, 7, 9, 30], [2, 7, 9, 30], true], [[1, 3, 1, 5], [1, 3, 1, 5], true], [[7], [7], true],
      [[5, 17, 19, 31], [31], true], [[31], [5, 17, 19, 31], true], [[64, 7, 7, 12], [1, 1, 12], true], [[1, 4, 5, 30], [30], true],
      [[2, 3, 5], [3, 5], true], [[2, 3], [1, 2, 3], true], [[5, 17, 19, 31], [], true], [[1, 1, 17], [1, 1, 1, 17], true],
      [[64, 7, 7, 12], [64, 1, 1, 12], true], [[3, 4, 5, 6], [3, 1, 1, 6], true], [[3, 1, 5, 6], [3, 1, 1, 6], true], [[2, 3, 4, 5], [2, 3, 1, 5], true],
      [[3, 4, 5, 6], [4, 1, 6], false], [[3, 4, 5, 6], [3, 1, 5, 1], false], [[3, 1, 6], [1, 4, 1], false],
    ];
    for (const [i, [as, bs, native]] of cases.entries()) {
      const x = arr(as), y = arr(bs);
      const want = await addOn('cpu', x, y);
      const before = calls.add ?? 0;
      const got = await addOn('native', x, y);
      assert.equal((calls.add ?? 0) - before, native ? 1 : 0, `[${as}] + [${bs}]: addon add calls`);
      assert.equal(got.length, want.length, `[${as}] + [${bs}]: size`);
      const bad = got.findIndex((v, k) => !Object.is(v, want[k]));
      assert.equal(bad, -1, `[${as}] + [${bs}]: element ${bad} is ${got[bad]}, cpu has ${want[bad]}`);
      // (not the scalar's: its gradient sums all 50,065 elements on wasm, in float32, further from cpu than TOL)
      if (native && bs.length > 0) await compare(`add [${as}] + [${bs}] gradients`, [x, y], (p, q) => tf.add(p, q), 60 + i, ['add']);
    }
    const before = calls.add ?? 0;
    await tf.setBackend('native');
    const ints = tf.tidy(() => tf.add(tf.tensor([1, 2, 3], [3], 'int32'), tf.tensor([4], [1], 'int32')).dataSync());
    assert.deepEqual([...ints], [5, 6, 7]);
    assert.equal(calls.add ?? 0, before, 'int32 Add must stay on wasm');
  });

  test('fused softmax cross-entropy: the reference\'s nats and gradients; large logits; bad labels are errors', async (t) => {
    if (!nativeOrSkip(t)) return;
    const rand = mulberry32(23);
    const rows = 2 * 5 * 5 * 3;
    const logits = { values: Float32Array.from({ length: rows * 256 }, () => (rand() * 2 - 1) * 6), shape: [2, 5, 5, 3, 256] };
    const labels = Array.from({ length: rows }, (_, i) => (i * 97) % 256);
    const want = await forwardAndGrads('cpu', [logits], (l) => softmaxCrossEntropyReference(l, tf.tensor(labels, [2, 5, 5, 3], 'int32')), 50);
    const before = calls.softmaxCrossEntropy ?? 0;
    const got = await forwardAndGrads('native', [logits], (l) => softmaxCrossEntropy(l, tf.tensor(labels, [2, 5, 5, 3], 'int32')), 50);
    assert.ok((calls.softmaxCrossEntropy ?? 0) > before, 'the addon did not run');
    got.forEach((g, i) => assert.ok(relativeError(g, want[i]) <= 1e-5, `${i === 0 ? 'nats' : 'gradient'}: relative error ${relativeError(g, want[i])}`));
    const nats = tf.tidy(() => softmaxCrossEntropy(tf.tensor([[1000, 0, -1000], [0, 0, 0]]), tf.tensor([0, 2], [2], 'int32')).dataSync());
    assert.ok(Math.abs(nats[0]) < 1e-6 && Math.abs(nats[1] - Math.log(3)) < 1e-6, `${nats}`);
    assert.throws(() => tf.tidy(() => softmaxCrossEntropy(tf.zeros([2, 4]), tf.tensor([1, 4], [2], 'int32'))), /label 4 of row 1 is outside 0\.\.3/);
  });
});
