/**
 * `Sum` over leading axes for the wasm backend. The stock kernel reduces only innermost axes, so it first
 * transposes a tensor reduced over its leading axes: the common case in training, where every bias gradient
 * sums dy [N, H, W, C] over N, H and W. Summing rows in place is ~4x faster here. Other reductions go to the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { f32, KernelArgs, stockKernels, WasmBackendLike } from './wasm-kernel-util';

export function leadingAxesSum(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  const { axis, keepDims } = (args.attrs ?? {}) as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return stockKernels.get('Sum')!.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const kept = x.shape.slice(axes.length);
  const rows = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const width = kept.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
  const acc = new Float64Array(width); // many rows: accumulate in double precision
  const values = f32(backend, x);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) acc[c] += values[base + c];
  }
  f32(backend, out).set(acc);
  return out;
}
