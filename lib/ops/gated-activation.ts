/**
 * The gated activation of a gated PixelCNN, y = tanh(a) * sigmoid(b) where a and b are the two halves of the
 * last axis: [..., 2c] -> [..., c]. As tf ops (the reference below) a training step runs a split (two copies),
 * tanh, sigmoid and multiply, and backward their gradients and a concat: ~10 passes over every layer's features
 * and four saved tensors. As one op it is one pass each way, reading the halves in place and writing the
 * gradient of both halves into one [..., 2c] tensor; only x is kept for the backward pass (tanh and sigmoid are
 * recomputed from it, which costs less than storing them: the pass is memory-bound).
 *
 * Backends with the kernels (native: lib/backend/native-eltwise.ts; cpu: registered here, a JavaScript loop
 * bit-identical to the cpu backend's own tanh, sigmoid and multiply) get the fused form; any other backend
 * (wasm, webgpu) gets the reference, differentiated by tfjs. The wasm backend keeps the reference on purpose: a
 * JavaScript loop over its heap was measured no faster (see lib/backend/wasm-fused.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** x [..., 2c] -> y [..., c]. */
export const GATED_ACTIVATION_KERNEL = 'PixelGatedActivation';
/** x [..., 2c], dy [..., c] -> dx [..., 2c]. */
export const GATED_ACTIVATION_GRAD_KERNEL = 'PixelGatedActivationGrad';

function kernelsHere(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(GATED_ACTIVATION_KERNEL, backend) !== undefined && tf.getKernel(GATED_ACTIVATION_GRAD_KERNEL, backend) !== undefined;
}

function halves(where: string, shape: number[]): number {
  const last = shape[shape.length - 1];
  if (shape.length === 0 || last % 2 !== 0) {
    throw new Error(`${where}: the input's last axis must have an even size (two halves a, b); got shape [${shape}]`);
  }
  return last / 2;
}

/** tanh(a) * sigmoid(b) over the halves of the last axis, as standard ops (differentiated by tfjs). */
export function gatedActivationReference<T extends tf.Tensor>(x: T): T {
  halves('gatedActivationReference', x.shape);
  return tf.tidy(() => {
    const [a, b] = tf.split(x, 2, x.rank - 1);
    return tf.mul(tf.tanh(a), tf.sigmoid(b)) as T;
  });
}

/** The gated activation [..., 2c] -> [..., c]: one kernel each way where the backend has them, else the reference. */
export function gatedActivation<T extends tf.Tensor>(x: T): T {
  halves('gatedActivation', x.shape);
  if (x.dtype !== 'float32' || !kernelsHere()) return gatedActivationReference(x);
  const op = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: tf.engine().runKernel(GATED_ACTIVATION_KERNEL, { x: input }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.engine().runKernel(GATED_ACTIVATION_GRAD_KERNEL, { x: saved, dy }) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

// ---------------------------------------------------------------------------------------------------------
// The kernels as loops over Float32Arrays: the cpu backend's (below), shared by any backend that holds its
// tensors in JavaScript arrays.

/**
 * y[r, j] = tanh(x[r, j]) * sigmoid(x[r, c + j]). Each factor is rounded to float32 before the product, as the
 * cpu backend's Tanh, Sigmoid and Multiply kernels store them, so the result is bit-identical to the reference there.
 */
export function gateLoop(x: ArrayLike<number>, y: Float32Array, rows: number, c: number): void {
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    const a = r * 2 * c, o = r * c;
    for (let j = 0; j < c; j++) y[o + j] = f(Math.tanh(x[a + j])) * f(1 / (1 + Math.exp(-x[a + c + j])));
  }
}

/** dx[r, j] = dy (1 - t^2) s and dx[r, c + j] = dy t s (1 - s), t = tanh(a), s = sigmoid(b). */
export function gateGradLoop(x: ArrayLike<number>, dy: ArrayLike<number>, dx: Float32Array, rows: number, c: number): void {
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    const a = r * 2 * c, o = r * c;
    for (let j = 0; j < c; j++) {
      const t = f(Math.tanh(x[a + j])), s = f(1 / (1 + Math.exp(-x[a + c + j])));
      const gs = dy[o + j] * s;
      dx[a + j] = gs * (1 - t * t);
      dx[a + c + j] = gs * t * (1 - s);
    }
  }
}

interface CpuBackendLike {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

function cpuValues(backend: CpuBackendLike, t: TensorInfo): ArrayLike<number> {
  return backend.data.get(t.dataId).values;
}

const cpuGate = (({ inputs, backend }: { inputs: { x: TensorInfo }; backend: CpuBackendLike }) => {
  const { x } = inputs;
  const c = halves(GATED_ACTIVATION_KERNEL, x.shape);
  const rows = x.shape.slice(0, -1).reduce((p, v) => p * v, 1);
  const y = new Float32Array(rows * c);
  gateLoop(cpuValues(backend, x), y, rows, c);
  return backend.makeTensorInfo([...x.shape.slice(0, -1), c], 'float32', y);
}) as unknown as KernelFunc;

const cpuGateGrad = (({ inputs, backend }: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: CpuBackendLike }) => {
  const { x, dy } = inputs;
  const c = halves(GATED_ACTIVATION_GRAD_KERNEL, x.shape);
  const rows = x.shape.slice(0, -1).reduce((p, v) => p * v, 1);
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== (i === x.shape.length - 1 ? c : x.shape[i]))) {
    throw new Error(`${GATED_ACTIVATION_GRAD_KERNEL}: dy of shape [${dy.shape}] does not match x [${x.shape}] with its last axis halved`);
  }
  const dx = new Float32Array(rows * 2 * c);
  gateGradLoop(cpuValues(backend, x), cpuValues(backend, dy), dx, rows, c);
  return backend.makeTensorInfo(x.shape, 'float32', dx);
}) as unknown as KernelFunc;

for (const [kernelName, kernelFunc] of [[GATED_ACTIVATION_KERNEL, cpuGate], [GATED_ACTIVATION_GRAD_KERNEL, cpuGateGrad]] as const) {
  if (!tf.getKernel(kernelName, 'cpu')) tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
}
