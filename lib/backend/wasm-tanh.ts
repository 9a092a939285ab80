/**
 * `Tanh` for the wasm backend through XNNPACK's vectorised sigmoid: tanh(x) = 2 sigmoid(2x) - 1. The stock
 * kernel is a scalar loop of std::tanh, ~4x slower than the sigmoid, and the gated activation runs it on half
 * of every layer's features. Near 0 the difference 2s - 1 would lose relative precision, so |x| < 1/4 takes
 * tanh's Taylor series to x^13 (the first omitted term is below 1e-9 relative there); elsewhere the result is
 * within 1e-6 relative (a few float32 ulps, like the sigmoid's own).
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { f32, KernelArgs, stockKernels, WasmBackendLike, wasmKernel } from './wasm-kernel-util';

const SERIES_BELOW = 1 / 4;
/** Taylor coefficients of tanh: x, x^3, ..., x^13. */
const C3 = -1 / 3, C5 = 2 / 15, C7 = -17 / 315, C9 = 62 / 2835, C11 = -1382 / 155925, C13 = 21844 / 6081075;

export function sigmoidTanh(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== 'float32') return stockKernels.get('Tanh')!.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const doubled = backend.makeOutput(x.shape, 'float32');
  try {
    {
      const xs = f32(backend, x), ds = f32(backend, doubled);
      for (let i = 0; i < xs.length; i++) ds[i] = 2 * xs[i];
    }
    const out = wasmKernel('Sigmoid')({ inputs: { x: doubled }, backend, attrs: {} }) as TensorInfo;
    // Views only now: the sigmoid's allocation may have grown (and so detached) the heap.
    const xs = f32(backend, x), ys = f32(backend, out);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (v > -SERIES_BELOW && v < SERIES_BELOW) {
        const v2 = v * v;
        ys[i] = v * (1 + v2 * (C3 + v2 * (C5 + v2 * (C7 + v2 * (C9 + v2 * (C11 + v2 * C13))))));
      } else {
        ys[i] = 2 * ys[i] - 1;
      }
    }
    return out;
  } finally {
    backend.disposeData(doubled.dataId);
  }
}
