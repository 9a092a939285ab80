/**
 * The `native` backend: TensorFlow.js's wasm backend (its SIMD elementwise kernels and our wasm gradient
 * kernels) with the heavy kernels replaced by a C++ addon (native/, built by `npm install` through
 * scripts/build-native.js) that calls oneDNN on all cores. The addon reads and writes the tensors in place in
 * the wasm heap: the kernels pass it Float32Array views of the heap (made after their last allocation, since
 * a growing heap detaches older views), so nothing is copied.
 *
 * Why a wasm backend underneath rather than tfjs's cpu backend: a gated training step runs dozens of
 * elementwise kernels over 3M-element tensors, which the wasm backend runs with 128-bit SIMD and the cpu
 * backend in plain JavaScript (several times slower); the heavy ones among them are moved native too (see
 * NATIVE_KERNELS). The price is the wasm heap's 4 GiB cap (the trainer splits a batch that does not fit).
 *
 * `native` is a backend of its own name: a second BackendWasm instance (its own wasm module, made by the wasm
 * backend's registered factory) whose kernel registry is a copy of the wasm one plus our overrides. tfjs keys
 * kernels by backend name and re-runs every kernel's setup function on `setBackend`, so the two can coexist
 * in one process (tests compare them), though only one is active at a time.
 *
 * Node only: the addon is loaded with `require`, and only when this backend is considered.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { registerWasmGradientKernels } from './wasm-kernels';
import { f32, KernelArgs, WasmBackendLike, wasmKernel } from './wasm-kernel-util';
import { nativeEltwiseKernels } from './native-eltwise';

/** What the addon (native/src) exports. */
export interface NativeAddon {
  info(): { onednn: string; threads: number; isa: string };
  setThreads(count: number): void;
  /** kind 0: x, w -> y; 1: dy, w -> dx; 2: x, dy -> dw; 3: x, w, bias -> y. dims: see native/src/conv.cc. */
  conv2d(kind: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Float32Array, dims: number[], bias?: Float32Array): void;
  matMul(a: Float32Array, b: Float32Array, out: Float32Array, dims: number[]): void;
  clearCache(): void;
  cacheSize(): number;
  [eltwise: string]: unknown;
}

export interface NativeStatus {
  available: boolean;
  /** Why the backend is unavailable (from the build's status file, or the load error). */
  reason?: string;
  addon?: NativeAddon;
  info?: { onednn: string; threads: number; isa: string };
  /** The addon file looked for. */
  addonPath: string;
}

/** Where scripts/build-native.js puts the addon and its status.json: PIXEL_NATIVE_DIR, else native/build. */
export function nativeBuildDir(): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const path = require('path') as typeof import('path');
  return process.env.PIXEL_NATIVE_DIR?.trim() || path.resolve(__dirname, '..', '..', 'native', 'build');
}

let status: NativeStatus | undefined;

/** Loads the addon once per process; says why when it cannot. */
export function loadNativeAddon(): NativeStatus {
  if (status) return status;
  const path = require('path') as typeof import('path');
  const fs = require('fs') as typeof import('fs');
  const dir = nativeBuildDir();
  const addonPath = path.join(dir, 'Release', 'pixel_native.node');
  if (!fs.existsSync(addonPath)) {
    let reason = `the addon was never built (no ${addonPath}; run npm install, or npm run build:native)`;
    try {
      const built = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as { ok?: boolean; reason?: string };
      if (built.ok === false && built.reason) reason = `the addon was not built: ${built.reason}`;
    } catch {
      // no status file: the build script never ran here
    }
    status = { available: false, reason, addonPath };
    return status;
  }
  limitOpenMPSpinning();
  try {
    const addon = require(addonPath) as NativeAddon;
    status = { available: true, addon, info: addon.info(), addonPath };
  } catch (e) {
    status = { available: false, reason: `the addon ${addonPath} does not load: ${(e as Error).message}`, addonPath };
  }
  return status;
}

/**
 * libgomp's idle threads spin 300,000 times before sleeping by default. When another process holds a core, a
 * spinning thread steals the time slice the thread holding the work needs, and short kernels stretch: measured
 * on 2 cores with a busy loop on one, a gated MNIST step went from 0.43 to 1.16-1.36 s. 10,000 spins gave 0.85-0.88 s
 * loaded (OMP_WAIT_POLICY=passive: 0.77-0.80) with idle steps within noise of the default (0.41-0.48 s against
 * 0.41-0.54; passive cost 6-10% idle). libgomp reads its environment once, when the addon loads it, so this is
 * set before `require`, and only when the user has chosen neither setting.
 */
function limitOpenMPSpinning(): void {
  if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) process.env.GOMP_SPINCOUNT = '10000';
}

function addon(): NativeAddon {
  const s = loadNativeAddon();
  if (!s.addon) throw new Error(`native backend: ${s.reason}`);
  return s.addon;
}

// ---------------------------------------------------------------------------------------------------------
// kernels

type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** The wasm backend's kernel (ours or stock) for cases the addon does not take. */
function onWasm(name: string, args: KernelArgs): TensorInfo | TensorInfo[] {
  return wasmKernel(name)(args as Parameters<KernelFunc>[0]);
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

/** True for convolutions oneDNN takes here: NHWC, dilation 1, float32, non-empty, pads consistent with the output size. */
function convSupported(ci: ReturnType<typeof tf.backend_util.computeConv2DInfo>, attrs: ConvAttrs, ...tensors: TensorInfo[]): boolean {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC' && attrs.dataFormat !== 'channelsLast') return false;
  if (ci.dilationHeight !== 1 || ci.dilationWidth !== 1) return false;
  if (tensors.some((t) => t.dtype !== 'float32' || size(t.shape) === 0)) return false;
  const { top, bottom, left, right } = ci.padInfo;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) return false;
  // oneDNN derives the output size with floor division; tfjs's rounding modes may differ from it.
  return Math.floor((ci.inHeight + top + bottom - ci.filterHeight) / ci.strideHeight) + 1 === ci.outHeight &&
    Math.floor((ci.inWidth + left + right - ci.filterWidth) / ci.strideWidth) + 1 === ci.outWidth;
}

/**
 * Whether a convolution runs in oneDNN's own blocked layouts (operands reordered into cached buffers) or in
 * place on NHWC: PIXEL_NATIVE_CONV_LAYOUT=auto|blocked|nhwc. The single-thread figures favour blocked
 * layouts for a 5x5 kernel without counting the reorders (180/179/173 vs 103/143/69 GFLOP/s forward/dx/dW). In
 * whole training steps on 2 threads, reorders included, NHWC won for every model (back-to-back profiles,
 * batch 64): simple MNIST convolutions 173 ms vs 232-271, gated MNIST 296-306 vs 326-331, gated CIFAR 1044 vs
 * 1181 (step 1.45 s vs 1.66 s), and NHWC keeps no reordered copies. `auto` (default) is therefore NHWC;
 * `blocked` stays for comparison.
 */
function blockedLayout(): boolean {
  const v = process.env.PIXEL_NATIVE_CONV_LAYOUT?.trim() || 'auto';
  if (v === 'auto' || v === 'nhwc') return false;
  if (v === 'blocked') return true;
  throw new Error(`PIXEL_NATIVE_CONV_LAYOUT=${JSON.stringify(v)}: expected auto, blocked or nhwc`);
}

function convDims(ci: ReturnType<typeof tf.backend_util.computeConv2DInfo>): number[] {
  const { top, bottom, left, right } = ci.padInfo;
  return [ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels, ci.filterHeight, ci.filterWidth, ci.outChannels,
    ci.outHeight, ci.outWidth, ci.strideHeight, ci.strideWidth, top, bottom, left, right, blockedLayout() ? 1 : 0];
}

/** tfjs's description of a convolution (output shape, padding) from its input and filter shapes and attributes. */
function convInfo(inShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(inShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

function conv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  const ci = convInfo(x.shape, filter.shape, attrs);
  if (!convSupported(ci, attrs, x, filter)) return onWasm('Conv2D', args) as TensorInfo;
  const out = backend.makeOutput(ci.outShape, 'float32');
  addon().conv2d(0, f32(backend, x), f32(backend, filter), f32(backend, out), convDims(ci));
  return out;
}

/** Convolution plus a bias of one value per output channel (lib/ops/conv-bias.ts); other fusions run on wasm. */
function fusedConv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs & { activation?: string };
  const ci = convInfo(x.shape, filter.shape, attrs);
  const plainBias = bias !== undefined && bias.dtype === 'float32' && size(bias.shape) === ci.outChannels && bias.shape.length <= 1;
  if (!plainBias || preluActivationWeights || (attrs.activation ?? 'linear') !== 'linear' || !convSupported(ci, attrs, x, filter)) {
    return onWasm('FusedConv2D', args) as TensorInfo;
  }
  const out = backend.makeOutput(ci.outShape, 'float32');
  addon().conv2d(3, f32(backend, x), f32(backend, filter), f32(backend, out), convDims(ci), f32(backend, bias));
  return out;
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  const ci = convInfo(attrs.inputShape!, filter.shape, attrs);
  if (!convSupported(ci, attrs, dy, filter) || size(ci.inShape) === 0) return onWasm('Conv2DBackpropInput', args) as TensorInfo;
  const out = backend.makeOutput(attrs.inputShape!, 'float32');
  addon().conv2d(1, f32(backend, dy), f32(backend, filter), f32(backend, out), convDims(ci));
  return out;
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvAttrs;
  const ci = convInfo(x.shape, attrs.filterShape!, attrs);
  if (!convSupported(ci, attrs, x, dy) || size(attrs.filterShape!) === 0) return onWasm('Conv2DBackpropFilter', args) as TensorInfo;
  const out = backend.makeOutput(attrs.filterShape!, 'float32');
  addon().conv2d(2, f32(backend, x), f32(backend, dy), f32(backend, out), convDims(ci));
  return out;
}

/** BatchMatMul through oneDNN's matmul (transposes as strides); batches must match or one be 1 (tf's broadcasting). */
function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as { transposeA?: boolean; transposeB?: boolean };
  const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
  const ra = a.shape.length, rb = b.shape.length;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2) return onWasm('BatchMatMul', args) as TensorInfo;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = size(outerA), batchB = size(outerB);
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2], K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2], N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const sameOuter = outerA.length === outerB.length && outerA.every((v, i) => v === outerB[i]);
  if (K !== Kb || M * N * K === 0 || !(sameOuter || batchA === 1 || batchB === 1)) return onWasm('BatchMatMul', args) as TensorInfo;
  const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB), M, N];
  const out = backend.makeOutput(outShape, 'float32');
  addon().matMul(f32(backend, a), f32(backend, b), f32(backend, out), [batchA, batchB, M, K, N, ta ? 1 : 0, tb ? 1 : 0]);
  return out;
}

const OVERRIDES: Record<string, Kernel> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  BatchMatMul: batchMatMul,
};

/** Kernels the native backend runs in the addon (the rest are the wasm backend's). */
export function nativeKernelNames(): string[] {
  return [...Object.keys(OVERRIDES), ...Object.keys(nativeEltwiseKernels(addon))].sort();
}

// ---------------------------------------------------------------------------------------------------------
// registration

const NATIVE_PRIORITY = 1; // below wasm (2): tfjs never picks it by itself; initBackend chooses it explicitly
let registered = false;

/**
 * Registers the `native` backend and its kernels (once per process) when the addon loads; returns the load
 * status either way.
 */
export function registerNativeBackend(): NativeStatus {
  const s = loadNativeAddon();
  if (!s.available || registered) return s;
  registered = true;
  registerWasmGradientKernels(); // the copied registry must hold our wasm kernels, wrapped by the wasm guard
  const ours: Record<string, Kernel> = { ...OVERRIDES, ...nativeEltwiseKernels(addon) };
  for (const config of tf.getKernelsForBackend('wasm')) {
    const own = ours[config.kernelName];
    tf.registerKernel({
      ...config,
      backendName: 'native',
      kernelFunc: (own ?? config.kernelFunc) as unknown as KernelFunc,
      // the stock kernel's setup still binds its wasm functions: our kernels fall back to it
      setupFunc: config.setupFunc,
    } as KernelConfig);
  }
  for (const [name, fn] of Object.entries(ours)) {
    if (!tf.getKernel(name, 'native')) tf.registerKernel({ kernelName: name, backendName: 'native', kernelFunc: fn as unknown as KernelFunc });
  }
  tf.registerBackend('native', async () => {
    const factory = tf.findBackendFactory('wasm');
    if (!factory) throw new Error('native backend: the wasm backend is not registered (is @tensorflow/tfjs-backend-wasm loaded?)');
    return await factory();
  }, NATIVE_PRIORITY);
  return s;
}

/** The backend line: "native (oneDNN 2.6.3, 2 threads, ISA AVX-512; ...)". */
export function nativeDescription(): string {
  const s = loadNativeAddon();
  if (!s.info) return `native (unavailable: ${s.reason})`;
  const { onednn, threads, isa } = s.info;
  return `native (oneDNN ${onednn}, ${threads} thread${threads === 1 ? '' : 's'}, ISA ${isa}; native kernels: ` +
    `${nativeKernelNames().join(', ')}; the rest: wasm SIMD)`;
}
