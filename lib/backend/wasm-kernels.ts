/**
 * Gradient kernels for the TensorFlow.js wasm backend (tfjs-backend-wasm 4.22).
 *
 * The wasm backend ships no `Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropFilter` or
 * `DepthwiseConv2dNativeBackpropInput`, so no conv net trains on it; and its own `Conv2DBackpropInput` and
 * transposed/batched `BatchMatMul` are scalar C++ loops (~2 GFLOP/s) while forward `Conv2D` and plain matMul
 * run through XNNPACK (~23-27 GFLOP/s on one core here). `registerWasmGradientKernels()` registers the
 * missing kernels and replaces those two, writing every gradient as a forward XNNPACK convolution or plain
 * matMul on rearranged operands (numbers: bench/conv-kernels.ts):
 *
 * - dX (`Conv2DBackpropInput`): a stride-1 convolution of dy with the spatially flipped, in/out-transposed
 *   filter. For stride s > 1 the output splits into s_h*s_w phases (dx rows r with equal (r + padTop) % s);
 *   each phase is a stride-1 convolution of dy with a sub-filter of the flipped filter, so no work is spent
 *   on inserted zeros.
 * - dW (`Conv2DBackpropFilter`): a convolution whose "batch" is the input channel and whose "channels" are
 *   the batch: input x as [C, H, W, B], filter dy as [Ho, Wo, B, Co] with dilation = stride, output
 *   [C, Kh, Kw, Co], then transposed to [Kh, Kw, C, Co]. No im2col buffer is built: XNNPACK's indirection
 *   buffer does that work. XNNPACK packs the filter operand on every call, so with fewer input than output
 *   channels (stride 1) the roles swap: dy^T [Co, Ho, Wo, B] convolved with x as [H, W, B, C], output flipped.
 *   A 1x1 stride-1 unpadded filter is a plain matMul x^T dy instead.
 * - depthwise dX: XNNPACK depthwise convolutions of dy with the flipped filter (phases as above, summed over
 *   the channel multiplier when it is > 1); depthwise dW: one XNNPACK depthwise convolution with the batch
 *   folded into the channels (large kernels are XNNPACK's slow case: ~0.5-1 GFLOP/s, still faster than JS).
 * - `BatchMatMul`: transposed operands are transposed explicitly first, and a batch of matrices times one
 *   matrix becomes one tall product, so both reach XNNPACK.
 * - `Identity` shares memory instead of copying (see `sharedIdentity`); `Sum` over leading or middle axes (bias
 *   gradients, a conditional layer's per-image bias gradients) sums rows without the stock kernel's transpose (./wasm-reduce.ts); `Slice` (and so `SplitV`)
 *   copies contiguous runs (./wasm-slice.ts); `Tanh` goes through XNNPACK's sigmoid (./wasm-tanh.ts).
 * - A fused kernel of our own op, the softmax cross-entropy (./wasm-fused.ts).
 *
 * Only NHWC and dilation 1 are supported by the convolution kernels (as by tf's own conv gradients); anything
 * else throws an error naming the limitation (NCHW `Conv2DBackpropInput` falls back to the stock kernel).
 *
 * Registration also arms the guard in `./wasm-guard` (XNNPACK error messages and failed heap allocations
 * become thrown errors instead of silently wrong numbers).
 *
 * Heap views: `typedArrayFromHeap` views die when the wasm memory grows (any allocation may grow it), so
 * every kernel takes its views only after its last allocation.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { installWasmGuard } from './wasm-guard';
import { conv2DBackpropFilter, conv2DBackpropInput } from './wasm-conv-grads';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './wasm-depthwise-grads';
import { batchMatMul } from './wasm-matmul';
import { blockSum } from './wasm-reduce';
import { blockSlice, blockSplitV } from './wasm-slice';
import { sigmoidTanh } from './wasm-tanh';
import { softmaxCrossEntropyKernel } from './wasm-fused';
import { SOFTMAX_CE_KERNEL } from '../ops/softmax-cross-entropy';
import { KernelArgs, stockKernels, WasmBackendLike } from './wasm-kernel-util';
export type { WasmBackendLike } from './wasm-kernel-util';

export const WASM_GRADIENT_KERNELS = [
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'Identity',
  'Slice',
  'SplitV',
  'Sum',
  'Tanh',
] as const;

let registered = false;

const OURS: { [name in (typeof WASM_GRADIENT_KERNELS)[number]]: (args: KernelArgs) => TensorInfo | TensorInfo[] } = {
  BatchMatMul: batchMatMul,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  Identity: sharedIdentity,
  Slice: blockSlice,
  SplitV: blockSplitV,
  Sum: blockSum,
  Tanh: sigmoidTanh,
};

/**
 * `Identity` (tf.clone) sharing the input's memory, as the cpu backend's does, instead of copying it. Tensors
 * never change in place (a variable's assign takes a new buffer), so sharing is safe; it matters because tfjs
 * clones every tensor it saves for a gradient: ~190 copies of up to 12 MB in each gated-PixelCNN training step.
 */
function sharedIdentity(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return stockKernels.get('Identity')!.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Kernels of our own fused ops (lib/ops/), which the stock backend does not have. */
const FUSED: [string, (args: KernelArgs) => TensorInfo | TensorInfo[]][] = [
  [SOFTMAX_CE_KERNEL, softmaxCrossEntropyKernel],
];

function register(kernelName: string, kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[]): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (stock) {
    stockKernels.set(kernelName, stock);
    tf.unregisterKernel(kernelName, 'wasm');
  }
  // Keep the stock kernel's setupFunc: the backend runs it at start-up, and the stock kernel (our fallback)
  // only works once it has run.
  tf.registerKernel({
    kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc, setupFunc: stock?.setupFunc,
  });
}

/**
 * Registers (once per process) the wasm gradient kernels listed in `WASM_GRADIENT_KERNELS` and arms the
 * wasm guard. Call it before the wasm backend is first initialised (`initBackend` does): the guard can only
 * watch XNNPACK's error messages of a wasm module created after it.
 */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, fn] of Object.entries(OURS)) register(name, fn);
  for (const [name, fn] of FUSED) register(name, fn);
  installWasmGuard();
}

/**
 * The stock tfjs-backend-wasm kernel function that `registerWasmGradientKernels()` replaced under `kernelName`
 * (BatchMatMul, Conv2DBackpropInput), for benchmarks and tests; undefined before registration and for
 * kernels the stock backend lacks.
 */
export function stockWasmKernel(kernelName: string): KernelFunc | undefined {
  return stockKernels.get(kernelName)?.kernelFunc;
}
