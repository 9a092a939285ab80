/**
 * `Slice` for the wasm backend as block copies. The stock kernel copies element by element with index
 * arithmetic (~12 ms for a [64, 28, 28, 30] half of a gated layer's features); every slice here is a set of
 * contiguous runs (whole rows for a row shift, channel groups for the gate's split, which the stock `SplitV`
 * makes of slices), copied with `TypedArray.set`. Non-float32 tensors go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { f32, KernelArgs, stockKernels, WasmBackendLike } from './wasm-kernel-util';

export function blockSlice(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return stockKernels.get('Slice')!.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const { begin, size } = (args.attrs ?? {}) as unknown as { begin: number | number[]; size: number | number[] };
  const [start, extent] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, start, extent);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(extent, 'float32');
  const rank = x.shape.length;
  // Fold trailing axes that are taken whole into one contiguous run.
  let run = 1;
  let inner = rank;
  while (inner > 0 && start[inner - 1] === 0 && extent[inner - 1] === x.shape[inner - 1]) run *= x.shape[--inner];
  if (inner > 0) run *= extent[--inner]; // the innermost partial axis: a run of extent[inner] x (folded)
  const strides = new Array<number>(rank).fill(1);
  for (let a = rank - 2; a >= 0; a--) strides[a] = strides[a + 1] * x.shape[a + 1];
  const source = f32(backend, x), target = f32(backend, out);
  const outerAxes = inner; // axes 0 .. inner-1 are iterated; axis `inner` starts the run
  const index = new Array<number>(outerAxes).fill(0);
  const runStart = start.slice(0, rank).reduce((offset, s, a) => (a >= inner ? offset + s * strides[a] : offset), 0);
  let written = 0;
  for (;;) {
    let offset = runStart;
    for (let a = 0; a < outerAxes; a++) offset += (start[a] + index[a]) * strides[a];
    target.set(source.subarray(offset, offset + run), written);
    written += run;
    let a = outerAxes - 1;
    while (a >= 0 && ++index[a] === extent[a]) index[a--] = 0;
    if (a < 0) break;
  }
  return out;
}

/** `SplitV` as block slices (the stock kernel calls the stock slice directly, so it needs replacing too). */
export function blockSplitV(args: KernelArgs): TensorInfo[] {
  const { x } = args.inputs;
  const { numOrSizeSplits, axis } = (args.attrs ?? {}) as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, splitAxis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[splitAxis] = s;
    const piece = blockSlice({ inputs: { x }, backend: args.backend, attrs: { begin: [...begin], size } as unknown as KernelArgs['attrs'] });
    begin[splitAxis] += s;
    return piece;
  });
}
