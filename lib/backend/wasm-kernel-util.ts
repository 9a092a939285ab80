/** Shared pieces of our wasm gradient kernels (see wasm-kernels.ts): argument checks, XNNPACK calls, temporaries, phases. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
export type Shape4 = [number, number, number, number];
export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
  incRef(dataId: DataId): void;
}

export interface KernelArgs {
  inputs: { [name: string]: TensorInfo };
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** The stock tfjs-backend-wasm kernels we replace (kept as fallbacks and for benchmarks). */
export const stockKernels = new Map<string, KernelConfig>();

// ---------------------------------------------------------------------------------------------------------
// small helpers

export function f32(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  const a = backend.typedArrayFromHeap(info);
  if (!(a instanceof Float32Array)) throw new Error(`wasm gradient kernels: expected a float32 tensor, got ${info.dtype}`);
  return a;
}

export function requireFloat32(name: string, ...infos: TensorInfo[]): void {
  for (const t of infos) {
    if (t.dtype !== 'float32') throw new Error(`${name} (wasm, pixel-notebooks): expected float32 tensors, got ${t.dtype}`);
  }
}

export function requireNHWC(name: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${name} (wasm, pixel-notebooks): only dataFormat 'NHWC' is supported, got '${String(dataFormat)}'`);
  }
}

export function requireDilationOne(name: string, dilations: unknown): void {
  const d = dilations == null ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : (dilations as number[]);
  if (d.some((v) => v !== 1)) {
    throw new Error(`${name} (wasm, pixel-notebooks): only dilation 1 is supported, got dilations ${JSON.stringify(dilations)}`);
  }
}

export function zerosOutput(backend: WasmBackendLike, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  f32(backend, out).fill(0);
  return out;
}

export function wasmKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return k.kernelFunc;
}

export function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/** Stride-1 forward convolution through the wasm backend's XNNPACK Conv2D kernel. Pads must be >= 0. */
export function xnnConv2d(
  backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo,
  pad: ExplicitPad, dilations: [number, number],
): TensorInfo {
  return wasmKernel('Conv2D')({
    inputs: { x, filter },
    backend,
    attrs: { strides: [1, 1], pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as NamedAttrMap,
  }) as TensorInfo;
}

/** Stride-1 forward depthwise convolution through the wasm backend's XNNPACK kernel. Pads must be >= 0. */
export function xnnDepthwise(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, pad: ExplicitPad): TensorInfo {
  return wasmKernel('DepthwiseConv2dNative')({
    inputs: { x, filter },
    backend,
    attrs: { strides: [1, 1], pad, dilations: [1, 1], dimRoundingMode: undefined } as unknown as NamedAttrMap,
  }) as TensorInfo;
}

/** Disposes temporaries even when a kernel throws half-way. */
export class Temps {
  private readonly infos: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}
  add<T extends TensorInfo>(t: T): T {
    this.infos.push(t);
    return t;
  }
  release(keep?: TensorInfo): void {
    for (const t of this.infos) if (t.dataId !== keep?.dataId) this.backend.disposeData(t.dataId);
    this.infos.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// input gradient (shared by Conv2DBackpropInput and the depthwise version)

/**
 * Geometry of one spatial axis of the input gradient, split into `stride` phases. Output position
 * r = phase + stride * i gets sum_j dy[i + q - j] * w[rem + stride * j] (j < taps), where
 * rem = (phase + padBefore) % stride and q = floor((phase + padBefore) / stride); as a stride-1
 * correlation of dy with the sub-filter reversed in j, that is padding `taps - 1 - q` before dy.
 */
export interface Phase {
  phase: number;
  count: number; // output positions in this phase
  rem: number; // first filter tap of the phase
  taps: number; // filter taps in the phase
  padBefore: number; // may be negative: then dy is cropped
  padAfter: number; // may be negative
}

export function axisPhases(inSize: number, outSize: number, filterSize: number, stride: number, padBefore: number): Phase[] {
  const phases: Phase[] = [];
  for (let p = 0; p < stride; p++) {
    const count = p < inSize ? Math.floor((inSize - 1 - p) / stride) + 1 : 0;
    const rem = (p + padBefore) % stride;
    const q = Math.floor((p + padBefore) / stride);
    const taps = rem < filterSize ? Math.floor((filterSize - 1 - rem) / stride) + 1 : 0;
    const before = taps - 1 - q;
    // conv output length = before + outSize + after - taps + 1 must equal count
    const after = count + taps - 1 - before - outSize;
    phases.push({ phase: p, count, rem, taps, padBefore: before, padAfter: after });
  }
  return phases;
}

/**
 * Copies dy [B, Ho, Wo, C] cropped by (-pad) where a pad is negative into a new tensor; returns the tensor
 * and the non-negative pads that remain. Returns `dy` itself when nothing is cropped.
 */
export function cropForPads(
  backend: WasmBackendLike, temps: Temps, dy: TensorInfo, ph: Phase, pw: Phase,
): { input: TensorInfo; pad: ExplicitPad } | undefined {
  const [B, Ho, Wo, C] = dy.shape;
  const ct = Math.max(0, -ph.padBefore), cb = Math.max(0, -ph.padAfter);
  const cl = Math.max(0, -pw.padBefore), cr = Math.max(0, -pw.padAfter);
  const pad = explicitPad(Math.max(0, ph.padBefore), Math.max(0, ph.padAfter), Math.max(0, pw.padBefore), Math.max(0, pw.padAfter));
  if (ct + cb + cl + cr === 0) return { input: dy, pad };
  const h = Ho - ct - cb, w = Wo - cl - cr;
  if (h <= 0 || w <= 0) return undefined; // this phase only sees padding
  const out = temps.add(backend.makeOutput([B, h, w, C], 'float32'));
  const src = f32(backend, dy), dst = f32(backend, out);
  const rowLen = w * C;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < h; r++) {
      const s = ((b * Ho + r + ct) * Wo + cl) * C;
      dst.set(src.subarray(s, s + rowLen), (b * h + r) * rowLen);
    }
  }
  return { input: out, pad };
}

/**
 * dx of a (full or depthwise) convolution, phase by phase. `makeFilter(ph, pw)` builds a phase's stride-1
 * sub-filter, `convolve` runs it on dy; `reduceChannels` (depthwise with channel multiplier > 1) sums the
 * convolution's C*M channels of `pixels` pixels into C.
 */
export function inputGradByPhases(
  backend: WasmBackendLike, dy: TensorInfo, ci: Conv2DInfo,
  makeFilter: (ph: Phase, pw: Phase) => TensorInfo,
  convolve: (x: TensorInfo, filter: TensorInfo, pad: ExplicitPad) => TensorInfo,
  reduceChannels?: (src: Float32Array, dst: Float32Array, pixels: number) => void,
): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, strideHeight: sh, strideWidth: sw } = ci;
  const rows = axisPhases(H, ci.outHeight, ci.filterHeight, sh, ci.padInfo.top);
  const cols = axisPhases(W, ci.outWidth, ci.filterWidth, sw, ci.padInfo.left);
  const direct = sh === 1 && sw === 1 && !reduceChannels;
  const temps = new Temps(backend);
  let result: TensorInfo | undefined;
  try {
    if (!direct) result = temps.add(zerosOutput(backend, [B, H, W, C]));
    for (const ph of rows) {
      for (const pw of cols) {
        if (ph.count === 0 || pw.count === 0 || ph.taps === 0 || pw.taps === 0) continue;
        const cropped = cropForPads(backend, temps, dy, ph, pw);
        if (!cropped) continue; // this phase of dx only ever touched padding: stays zero
        const filter = temps.add(makeFilter(ph, pw));
        const part = temps.add(convolve(cropped.input, filter, cropped.pad));
        if (direct) {
          result = part;
          continue;
        }
        const src = f32(backend, part), dst = f32(backend, result!);
        const pc = part.shape[3];
        const tmp = reduceChannels ? new Float32Array(pw.count * C) : undefined;
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < ph.count; i++) {
            const srcRow = (b * ph.count + i) * pw.count * pc;
            let row = src.subarray(srcRow, srcRow + pw.count * pc);
            if (tmp) {
              reduceChannels!(row, tmp, pw.count);
              row = tmp;
            }
            const dstRow = (b * H + ph.phase + sh * i) * W;
            if (sw === 1) {
              dst.set(row, dstRow * C);
            } else {
              for (let j = 0; j < pw.count; j++) {
                const d = (dstRow + pw.phase + sw * j) * C, s = j * C;
                for (let c = 0; c < C; c++) dst[d + c] = row[s + c];
              }
            }
          }
        }
      }
    }
    if (!result) result = temps.add(zerosOutput(backend, [B, H, W, C])); // dx only ever touched padding
    return result;
  } finally {
    temps.release(result);
  }
}

export function checkShape(kernel: string, name: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
    throw new Error(`${kernel} (wasm): ${name} has shape [${got}], expected [${want}]`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// shape checks, attributes, relabelling

export interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | ExplicitPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  inputShape?: Shape4;
  filterShape?: Shape4;
}

/**
 * x [B, H, W, C] rearranged by `perm` into a new tensor, keeping only rows < Hc and columns < Wc. Uses the
 * wasm backend's Transpose kernel when nothing is cropped, a JS loop otherwise.
 */
export function cropTranspose(
  backend: WasmBackendLike, x: TensorInfo, Hc: number, Wc: number, perm: Shape4,
): TensorInfo {
  const [B, H, W, C] = x.shape;
  if (Hc === H && Wc === W) {
    return wasmKernel('Transpose')({ inputs: { x }, backend, attrs: { perm } as unknown as NamedAttrMap }) as TensorInfo;
  }
  const dims = [B, Hc, Wc, C];
  const outShape = perm.map((p) => dims[p]);
  const out = backend.makeOutput(outShape, 'float32');
  // stride in `out` of each input axis
  const outStrides = [0, 0, 0, 0];
  let stride = 1;
  for (let a = 3; a >= 0; a--) {
    outStrides[perm[a]] = stride;
    stride *= outShape[a];
  }
  const [sb, sr, sc, sk] = outStrides;
  const xs = f32(backend, x), xd = f32(backend, out);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < Hc; r++) {
      for (let c = 0; c < Wc; c++) {
        const s = ((b * H + r) * W + c) * C, d = b * sb + r * sr + c * sc;
        for (let k = 0; k < C; k++) xd[d + k * sk] = xs[s + k];
      }
    }
  }
  return out;
}

/** Same dataId seen with another shape of the same size (what the wasm Reshape kernel does, without a ref). */
export function relabel(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

