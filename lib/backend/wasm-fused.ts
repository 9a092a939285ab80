/**
 * A fused kernel for the wasm backend, written in JavaScript over the wasm heap: the 256-way softmax
 * cross-entropy with its gradient. As stock kernels it is a log-softmax (max, subtract, exp, sum, log), a
 * one-hot, a multiply and a sum, and in the backward pass the softmax again: each a full pass over the
 * [pixels, 256] logits. Here it is one pass that also leaves the gradient. lib/ops/softmax-cross-entropy.ts defines the op
 * (with the composite fallback on other backends).
 *
 * (A fused gated activation was tried the same way and dropped: JavaScript's Math.tanh/Math.exp made it no
 * faster than the stock split, tanh, XNNPACK sigmoid and multiply.)
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { SOFTMAX_CE_KERNEL } from '../ops/softmax-cross-entropy';
import { f32, KernelArgs, WasmBackendLike } from './wasm-kernel-util';

/**
 * logits [M, K], labels int32 [M] (values in 0..K-1) -> [nats [M], grad [M, K]]: the negative log-softmax of
 * each row at its label, and its gradient softmax(row) - onehot(label), computed together in one pass.
 */
export function softmaxCrossEntropyKernel(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { logits, labels } = args.inputs;
  const [rows, k] = logits.shape;
  const nats = backend.makeOutput([rows], 'float32');
  const grad = backend.makeOutput([rows, k], 'float32');
  const xs = f32(backend, logits), ns = f32(backend, nats), gs = f32(backend, grad);
  const ls = backend.typedArrayFromHeap(labels) as Int32Array;
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (xs[base + j] > max) max = xs[base + j];
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(xs[base + j] - max);
      gs[base + j] = e;
      sum += e;
    }
    const label = ls[r];
    if (!(label >= 0 && label < k)) throw new RangeError(`${SOFTMAX_CE_KERNEL}: label ${label} of row ${r} is outside 0..${k - 1}`);
    ns[r] = Math.log(sum) + max - xs[base + label];
    const inverse = 1 / sum;
    for (let j = 0; j < k; j++) gs[base + j] *= inverse;
    gs[base + label] -= 1;
  }
  return [nats, grad];
}
