/**
 * GFLOP/s of the wasm backend's convolution kernels, stock vs ours (lib/backend/wasm-kernels.ts), on shapes
 * like those of the PixelCNN notebooks. Run: `node --import tsx bench/conv-kernels.ts [--quick] [--cpu]`
 * (--cpu adds the pure-JS cpu backend's kernels as a reference; slow).
 * FLOPs of a convolution, and of each of its gradients: 2 * B * Ho * Wo * Kh * Kw * Ci * Co.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { registerWasmGradientKernels, stockWasmKernel } from '../lib/backend/wasm-kernels';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case { name: string; B: number; H: number; W: number; Ci: number; Co: number; Kh: number; Kw: number; s: number; pad: Pad; depthwise?: boolean }

const CASES: Case[] = [
  { name: 'MNIST 5x5 same 30->30', B: 32, H: 28, W: 28, Ci: 30, Co: 30, Kh: 5, Kw: 5, s: 1, pad: 'same' },
  { name: 'MNIST 3x5 masked-pad 30->30', B: 32, H: 28, W: 28, Ci: 30, Co: 30, Kh: 3, Kw: 5, s: 1, pad: [[0, 0], [2, 0], [2, 2], [0, 0]] },
  { name: 'MNIST 1x1 30->60', B: 32, H: 28, W: 28, Ci: 30, Co: 60, Kh: 1, Kw: 1, s: 1, pad: 'same' },
  { name: 'MNIST 1x1 30->256 logits', B: 64, H: 28, W: 28, Ci: 30, Co: 256, Kh: 1, Kw: 1, s: 1, pad: 'same' },
  { name: 'CIFAR 7x7 same 3->30', B: 16, H: 32, W: 32, Ci: 3, Co: 30, Kh: 7, Kw: 7, s: 1, pad: 'same' },
  { name: 'CIFAR 5x5 same 60->60', B: 16, H: 32, W: 32, Ci: 60, Co: 60, Kh: 5, Kw: 5, s: 1, pad: 'same' },
  { name: '3x3 stride 2 same 16->32', B: 32, H: 28, W: 28, Ci: 16, Co: 32, Kh: 3, Kw: 3, s: 2, pad: 'same' },
  { name: 'batch 1 5x5 same 30->30', B: 1, H: 28, W: 28, Ci: 30, Co: 30, Kh: 5, Kw: 5, s: 1, pad: 'same' },
  { name: 'depthwise 5x5 same 30 x1', B: 32, H: 28, W: 28, Ci: 30, Co: 30, Kh: 5, Kw: 5, s: 1, pad: 'same', depthwise: true },
];

/** Best (minimum) time of one call, over calls made for at least `minSeconds` (and at least 3 calls):
 * the machine is shared, and the minimum is the least disturbed estimate. */
function timeIt(fn: () => void, minSeconds: number): number {
  fn(); // warm-up (XNNPACK operator creation, JIT)
  let best = Infinity, calls = 0;
  const t0 = process.hrtime.bigint();
  while (calls < 3 || Number(process.hrtime.bigint() - t0) / 1e9 < minSeconds) {
    const t = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
    calls++;
  }
  return best;
}

function runKernel(kernel: KernelFunc, inputs: { [k: string]: TensorInfo }, attrs: object): () => void {
  return () => {
    const backend = tf.backend();
    const out = kernel({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
    backend.disposeData(out.dataId);
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const withCpu = process.argv.includes('--cpu');
  const minSeconds = quick ? 0.15 : 0.5;
  tf.enableProdMode();
  registerWasmGradientKernels();
  await tf.setBackend('wasm');
  const rows: string[][] = [['case', 'kernel', 'implementation', 'ms', 'GFLOP/s']];
  for (const c of CASES) {
    const xShape = [c.B, c.H, c.W, c.Ci] as [number, number, number, number];
    const wShape = [c.Kh, c.Kw, c.Ci, c.depthwise ? 1 : c.Co] as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(xShape, wShape, c.s, 1, c.pad, undefined, !!c.depthwise);
    const flops = 2 * c.B * info.outHeight * info.outWidth * c.Kh * c.Kw * c.Ci * (c.depthwise ? 1 : c.Co);
    const measure = async (backendName: string, label: string, impl: string, fn: () => void, seconds = minSeconds) => {
      const t = timeIt(fn, seconds);
      rows.push([c.name, label, `${backendName} ${impl}`, (t * 1e3).toFixed(2), (flops / t / 1e9).toFixed(2)]);
      console.log(rows[rows.length - 1].join(' | '));
    };
    for (const backendName of withCpu ? ['wasm', 'cpu'] : ['wasm']) {
      await tf.setBackend(backendName);
      const x = tf.randomNormal(xShape), w = tf.randomNormal(wShape), dy = tf.randomNormal(info.outShape);
      const fwdName = c.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
      const dxName = c.depthwise ? 'DepthwiseConv2dNativeBackpropInput' : 'Conv2DBackpropInput';
      const dwName = c.depthwise ? 'DepthwiseConv2dNativeBackpropFilter' : 'Conv2DBackpropFilter';
      const common = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      const k = (name: string) => tf.getKernel(name, backendName)!.kernelFunc;
      const secs = backendName === 'cpu' ? 0.01 : minSeconds;
      const impl = backendName === 'cpu' ? 'pure JS' : 'ours';
      await measure(backendName, 'forward', backendName === 'cpu' ? 'pure JS' : 'XNNPACK', runKernel(k(fwdName), { x, filter: w }, common), secs);
      if (backendName === 'wasm' && !c.depthwise) {
        await measure(backendName, 'dX', 'stock C++', runKernel(stockWasmKernel('Conv2DBackpropInput')!, { dy, filter: w }, { ...common, inputShape: xShape }));
      }
      await measure(backendName, 'dX', impl, runKernel(k(dxName), { dy, filter: w }, { ...common, inputShape: xShape }), secs);
      await measure(backendName, 'dW', impl, runKernel(k(dwName), { x, dy }, { ...common, filterShape: wShape }), secs);
      tf.dispose([x, w, dy]);
    }
    await tf.setBackend('wasm');
  }
  // matMul with and without transposes (transposed products are the gradients of dense layers)
  for (const [m, kk, n] of [[1024, 256, 256], [50176, 30, 30]]) {
    const flops = 2 * m * kk * n;
    for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
      const a = tf.randomNormal(ta ? [kk, m] : [m, kk]), b = tf.randomNormal(tb ? [n, kk] : [kk, n]);
      for (const [impl, kernel] of [['stock', stockWasmKernel('BatchMatMul')!], ['ours', tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc]] as const) {
        if (impl === 'stock' && (ta || tb) && m > 4096) continue; // minutes at ~1 GFLOP/s
        const t = timeIt(runKernel(kernel, { a, b }, { transposeA: ta, transposeB: tb }), minSeconds);
        rows.push([`matMul ${m}x${kk}x${n}`, `transposeA=${ta} transposeB=${tb}`, `wasm ${impl}`, (t * 1e3).toFixed(2), (flops / t / 1e9).toFixed(2)]);
        console.log(rows[rows.length - 1].join(' | '));
      }
      tf.dispose([a, b]);
    }
  }
  console.log('\n| ' + rows[0].join(' | ') + ' |\n|' + rows[0].map(() => '---').join('|') + '|');
  for (const r of rows.slice(1)) console.log('| ' + r.join(' | ') + ' |');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
