/** BatchMatMul for the wasm backend with transposes made explicit, so every product reaches XNNPACK. See wasm-kernels.ts for the design. */
import * as tf from '@tensorflow/tfjs';
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { KernelArgs, Temps, WasmBackendLike, relabel, stockKernels, wasmKernel, zerosOutput } from './wasm-kernel-util';

/**
 * The stock wasm BatchMatMul reaches XNNPACK only for an untransposed product of two single matrices; with a
 * transpose flag (every matMul gradient) or a batch of matrices it runs a scalar loop (~2 GFLOP/s). Here
 * transposed operands are transposed explicitly first (wasm Transpose kernel, O(size)), and a batch of
 * matrices times one matrix becomes one tall matrix product. Other batched products keep the stock path.
 */
export function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as { transposeA?: boolean; transposeB?: boolean };
  const stock = stockKernels.get('BatchMatMul')!.kernelFunc;
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const ra = a.shape.length, rb = b.shape.length;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, v) => p * v, 1), batchB = outerB.reduce((p, v) => p * v, 1);
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2], K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2], N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) {
    throw new Error(`BatchMatMul (wasm): inner dimensions ${K} and ${Kb} of shapes [${a.shape}] and [${b.shape}] ` +
      `(transposeA=${ta}, transposeB=${tb}) differ`);
  }
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), M, N];
  if (K === 0) return zerosOutput(backend, outShape); // XNNPACK refuses an empty inner dimension
  if (batchB !== 1 || (!ta && !tb && batchA === 1)) return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
  const temps = new Temps(backend);
  let result: TensorInfo | undefined;
  try {
    const transpose = (t: TensorInfo, shape: number[]) => temps.add(wasmKernel('Transpose')({
      inputs: { x: relabel(t, shape) }, backend, attrs: { perm: [0, 2, 1] } as unknown as NamedAttrMap,
    }) as TensorInfo);
    const a2 = ta ? transpose(a, [batchA, K, M]) : a; // [batchA, M, K]
    const b2 = tb ? transpose(b, [1, N, K]) : b; // [K, N]
    const out = stock({
      inputs: { a: relabel(a2, [1, batchA * M, K]), b: relabel(b2, [1, K, N]) },
      backend,
      attrs: { transposeA: false, transposeB: false } as unknown as NamedAttrMap,
    }) as TensorInfo;
    result = temps.add(relabel(out, outShape));
    return result;
  } finally {
    temps.release(result);
  }
}
