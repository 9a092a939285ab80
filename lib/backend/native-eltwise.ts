/**
 * Elementwise kernels and reductions of the native backend (see ./native.ts), chosen from a profile of a gated
 * PixelCNN training step after the convolutions had moved to oneDNN: `Add` (same shapes and bias broadcasts), the bias gradients' `Sum` over leading
 * (or, for a per-image bias, middle) axes, `Tanh` and `Sigmoid` of the gated activation, and our fused softmax cross-entropy
 * (lib/ops/softmax-cross-entropy.ts) and gated activation (lib/ops/gated-activation.ts). The addon runs them on every core (oneDNN's JIT-compiled eltwise and
 * softmax primitives, OpenMP loops); the wasm versions run on one. Anything else goes to the wasm kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { SOFTMAX_CE_KERNEL } from '../ops/softmax-cross-entropy';
import { GATED_ACTIVATION_GRAD_KERNEL, GATED_ACTIVATION_KERNEL } from '../ops/gated-activation';
import { broadcastBlock, reducedShape, reductionBlock } from './block-shapes';
import { f32, KernelArgs, WasmBackendLike, wasmKernel } from './wasm-kernel-util';
import type { NativeAddon } from './native';

type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

const onWasm = (name: string, args: KernelArgs) => wasmKernel(name)(args as Parameters<KernelFunc>[0]);

export function nativeEltwiseKernels(addon: () => NativeAddon): Record<string, Kernel> {
  const a = () => addon() as unknown as {
    eltwise(kind: 'tanh' | 'sigmoid', x: Float32Array, out: Float32Array): void;
    /** out: `outer` slices' column sums (outer from its length), x: outer slices of rows x width. */
    sumRows(x: Float32Array, out: Float32Array, rows: number, width: number): void;
    softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, nats: Float32Array, grad: Float32Array, rows: number, k: number): void;
    gate(x: Float32Array, y: Float32Array, rows: number, c: number): void;
    gateGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, c: number): void;
    /** b: `outer` rows of `inner` floats (outer from its length), each repeated over its block of a. */
    add(a: Float32Array, b: Float32Array, out: Float32Array, inner: number): void;
  };
  /** [..., 2c] -> rows (the leading axes' product) and c, or why not. */
  const gateDims = (kernel: string, x: TensorInfo): [number, number] => {
    const last = x.shape[x.shape.length - 1];
    if (x.shape.length === 0 || last % 2 !== 0) throw new Error(`${kernel}: x's last axis must have an even size; got shape [${x.shape}]`);
    if (x.dtype !== 'float32') throw new Error(`${kernel}: x must be float32, got ${x.dtype}`);
    return [x.shape.slice(0, -1).reduce((p, v) => p * v, 1), last / 2];
  };
  const unary = (name: string, kind: 'tanh' | 'sigmoid'): Kernel => (args) => {
    const { x } = args.inputs;
    if (x.dtype !== 'float32') return onWasm(name, args);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(x.shape, 'float32');
    if (out.shape.reduce((p, v) => p * v, 1) > 0) a().eltwise(kind, f32(backend, x), f32(backend, out));
    return out;
  };
  return {
    /**
     * Same-shape adds (tfjs's backprop sums the gradients of a tensor used twice with Add) and broadcasts over a
     * block of axes: a [C] bias over [N, H, W, C], a per-image [N, 1, 1, C] condition over [N, H, W, C]; other
     * broadcasts and dtypes on wasm.
     */
    Add: (args) => {
      const { a: x, b: y } = args.inputs;
      if (x.dtype !== 'float32' || y.dtype !== 'float32') return onWasm('Add', args);
      const outShape = tf.backend_util.assertAndGetBroadcastShape(x.shape, y.shape);
      const same = (s: number[], t: number[]) => s.length === t.length && s.every((v, i) => v === t[i]);
      const [big, small] = same(x.shape, outShape) ? [x, y] : same(y.shape, outShape) ? [y, x] : [undefined, undefined];
      const block = big && small ? broadcastBlock(outShape, small.shape) : undefined;
      if (!big || !small || !block) return onWasm('Add', args);
      const backend = args.backend as WasmBackendLike;
      const out = backend.makeOutput(outShape, 'float32');
      const { outer, middle, inner } = block;
      if (outer * middle * inner > 0) a().add(f32(backend, big), f32(backend, small), f32(backend, out), inner);
      return out;
    },
    Tanh: unary('Tanh', 'tanh'),
    Sigmoid: unary('Sigmoid', 'sigmoid'),
    /**
     * Sum over a block of axes before the last (bias gradients: dy [N, H, W, C] over N, H, W; a per-image
     * condition's bias gradient over H, W); other reductions on wasm.
     */
    Sum: (args) => {
      const { x } = args.inputs;
      const { axis, keepDims } = (args.attrs ?? {}) as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const block = reductionBlock(x.shape, axes);
      if (x.dtype !== 'float32' || !block) return onWasm('Sum', args);
      const { outer, rows, width } = block;
      const backend = args.backend as WasmBackendLike;
      const out = backend.makeOutput(reducedShape(x.shape, axes, keepDims), 'float32');
      if (width === 0 || outer === 0) return out;
      const values = f32(backend, x), sums = f32(backend, out);
      if (rows === 0) sums.fill(0);
      else a().sumRows(values, sums, rows, width);
      return out;
    },
    [SOFTMAX_CE_KERNEL]: (args) => {
      const { logits, labels } = args.inputs;
      if (logits.dtype !== 'float32' || labels.dtype !== 'int32' || logits.shape.length !== 2) return onWasm(SOFTMAX_CE_KERNEL, args);
      const backend = args.backend as WasmBackendLike;
      const [rows, k] = logits.shape;
      const nats = backend.makeOutput([rows], 'float32');
      const grad = backend.makeOutput([rows, k], 'float32');
      if (rows * k > 0) {
        a().softmaxCrossEntropy(f32(backend, logits), backend.typedArrayFromHeap(labels) as Int32Array, f32(backend, nats), f32(backend, grad), rows, k);
      }
      return [nats, grad];
    },
    /** The gated activation (lib/ops/gated-activation.ts): the op's kernels exist only here and on cpu, no wasm fallback. */
    [GATED_ACTIVATION_KERNEL]: (args) => {
      const { x } = args.inputs;
      const [rows, c] = gateDims(GATED_ACTIVATION_KERNEL, x);
      const backend = args.backend as WasmBackendLike;
      const y = backend.makeOutput([...x.shape.slice(0, -1), c], 'float32');
      if (rows * c > 0) a().gate(f32(backend, x), f32(backend, y), rows, c);
      return y;
    },
    [GATED_ACTIVATION_GRAD_KERNEL]: (args) => {
      const { x, dy } = args.inputs;
      const [rows, c] = gateDims(GATED_ACTIVATION_GRAD_KERNEL, x);
      if (dy.dtype !== 'float32' || dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== (i === x.shape.length - 1 ? c : x.shape[i]))) {
        throw new Error(`${GATED_ACTIVATION_GRAD_KERNEL}: dy (${dy.dtype} [${dy.shape}]) does not match x [${x.shape}] with its last axis halved`);
      }
      const backend = args.backend as WasmBackendLike;
      const dx = backend.makeOutput(x.shape, 'float32');
      if (rows * c > 0) a().gateGrad(f32(backend, x), f32(backend, dy), f32(backend, dx), rows, c);
      return dx;
    },
  };
}
