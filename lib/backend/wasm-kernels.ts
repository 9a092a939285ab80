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
 *   buffer does that work. A 1x1 stride-1 unpadded filter is a plain matMul x^T dy instead.
 * - depthwise dX: XNNPACK depthwise convolutions of dy with the flipped filter (phases as above, summed over
 *   the channel multiplier when it is > 1); depthwise dW: one XNNPACK depthwise convolution with the batch
 *   folded into the channels (large kernels are XNNPACK's slow case: ~0.5-1 GFLOP/s, still faster than JS).
 * - `BatchMatMul`: transposed operands are transposed explicitly first, and a batch of matrices times one
 *   matrix becomes one tall product, so both reach XNNPACK.
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
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { installWasmGuard } from './wasm-guard';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

interface KernelArgs {
  inputs: { [name: string]: TensorInfo };
  backend: unknown;
  attrs?: NamedAttrMap;
}

export const WASM_GRADIENT_KERNELS = [
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

let registered = false;
/** The stock tfjs-backend-wasm kernels we replace (kept as fallbacks and for benchmarks). */
const stockKernels = new Map<string, KernelConfig>();

// ---------------------------------------------------------------------------------------------------------
// small helpers

function f32(backend: WasmBackendLike, info: TensorInfo): Float32Array {
  const a = backend.typedArrayFromHeap(info);
  if (!(a instanceof Float32Array)) throw new Error(`wasm gradient kernels: expected a float32 tensor, got ${info.dtype}`);
  return a;
}

function requireFloat32(name: string, ...infos: TensorInfo[]): void {
  for (const t of infos) {
    if (t.dtype !== 'float32') throw new Error(`${name} (wasm, pixel-notebooks): expected float32 tensors, got ${t.dtype}`);
  }
}

function requireNHWC(name: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${name} (wasm, pixel-notebooks): only dataFormat 'NHWC' is supported, got '${String(dataFormat)}'`);
  }
}

function requireDilationOne(name: string, dilations: unknown): void {
  const d = dilations == null ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : (dilations as number[]);
  if (d.some((v) => v !== 1)) {
    throw new Error(`${name} (wasm, pixel-notebooks): only dilation 1 is supported, got dilations ${JSON.stringify(dilations)}`);
  }
}

function zerosOutput(backend: WasmBackendLike, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  f32(backend, out).fill(0);
  return out;
}

function wasmKernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered (is @tensorflow/tfjs-backend-wasm loaded?)`);
  return k.kernelFunc;
}

function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad {
  return [[0, 0], [top, bottom], [left, right], [0, 0]];
}

/** Stride-1 forward convolution through the wasm backend's XNNPACK Conv2D kernel. Pads must be >= 0. */
function xnnConv2d(
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
function xnnDepthwise(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, pad: ExplicitPad): TensorInfo {
  return wasmKernel('DepthwiseConv2dNative')({
    inputs: { x, filter },
    backend,
    attrs: { strides: [1, 1], pad, dilations: [1, 1], dimRoundingMode: undefined } as unknown as NamedAttrMap,
  }) as TensorInfo;
}

/** Disposes temporaries even when a kernel throws half-way. */
class Temps {
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
interface Phase {
  phase: number;
  count: number; // output positions in this phase
  rem: number; // first filter tap of the phase
  taps: number; // filter taps in the phase
  padBefore: number; // may be negative: then dy is cropped
  padAfter: number; // may be negative
}

function axisPhases(inSize: number, outSize: number, filterSize: number, stride: number, padBefore: number): Phase[] {
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
function cropForPads(
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
function inputGradByPhases(
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

function checkShape(kernel: string, name: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
    throw new Error(`${kernel} (wasm): ${name} has shape [${got}], expected [${want}]`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Conv2DBackpropInput

interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | ExplicitPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
  inputShape?: Shape4;
  filterShape?: Shape4;
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvBackpropAttrs;
  const stock = stockKernels.get('Conv2DBackpropInput');
  if (attrs.dataFormat === 'NCHW' && stock) {
    return stock.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  requireNHWC('Conv2DBackpropInput', attrs.dataFormat);
  requireFloat32('Conv2DBackpropInput', dy, filter);
  const ci = tf.backend_util.computeConv2DInfo(
    attrs.inputShape!, filter.shape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  checkShape('Conv2DBackpropInput', 'dy', dy.shape, ci.outShape);
  const [, Kw, Ci, Co] = filter.shape;
  const { strideHeight: sh, strideWidth: sw } = ci;
  return inputGradByPhases(backend, dy, ci,
    (ph, pw) => {
      // sub-filter [th, tw, Co, Ci]: f[a, b, o, i] = w[rem_h + sh*(th-1-a), rem_w + sw*(tw-1-b), i, o]
      const th = ph.taps, tw = pw.taps;
      const out = backend.makeOutput([th, tw, Co, Ci], 'float32');
      const w = f32(backend, filter), f = f32(backend, out);
      for (let a = 0; a < th; a++) {
        const kh = ph.rem + sh * (th - 1 - a);
        for (let b = 0; b < tw; b++) {
          const kw = pw.rem + sw * (tw - 1 - b);
          const wBase = (kh * Kw + kw) * Ci * Co, fBase = (a * tw + b) * Co * Ci;
          for (let i = 0; i < Ci; i++) {
            for (let o = 0; o < Co; o++) f[fBase + o * Ci + i] = w[wBase + i * Co + o];
          }
        }
      }
      return out;
    },
    (x, f, pad) => xnnConv2d(backend, x, f, pad, [1, 1]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * x [B, H, W, C] rearranged by `perm` into a new tensor, keeping only rows < Hc and columns < Wc. Uses the
 * wasm backend's Transpose kernel when nothing is cropped, a JS loop otherwise.
 */
function cropTranspose(
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
function relabel(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * dW[kh, kw, c, o] = sum_{b, i, j} xpad[b, i*sh + kh, j*sw + kw, c] * dy[b, i, j, o], computed as a forward
 * convolution with batch = c and channels = b: input [C, Hc, Wc, B] (x transposed, cropped to the rows the
 * filter can reach), filter [Ho, Wo, B, Co] (dy transposed), dilation = stride, output [C, Kh, Kw, Co].
 * A 1x1 stride-1 unpadded convolution is a plain matMul instead: dW = x^T dy (XNNPACK fully connected).
 */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvBackpropAttrs;
  requireNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  requireDilationOne('Conv2DBackpropFilter', attrs.dilations);
  requireFloat32('Conv2DBackpropFilter', x, dy);
  const ci = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, attrs.filterShape!, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  checkShape('Conv2DBackpropFilter', 'dy', dy.shape, ci.outShape);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: Co,
    filterHeight: Kh, filterWidth: Kw, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top, pl = ci.padInfo.left;
  const filterShape: Shape4 = [Kh, Kw, C, Co];
  if (B * Ho * Wo === 0) return zerosOutput(backend, filterShape);

  const temps = new Temps(backend);
  let result: TensorInfo | undefined;
  try {
    if (Kh === 1 && Kw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && Ho === H && Wo === W) {
      const N = B * H * W;
      const xt = temps.add(wasmKernel('Transpose')({
        inputs: { x: relabel(x, [N, C]) }, backend, attrs: { perm: [1, 0] } as unknown as NamedAttrMap,
      }) as TensorInfo);
      const mm = wasmKernel('BatchMatMul')({
        inputs: { a: relabel(xt, [1, C, N]), b: relabel(dy, [1, N, Co]) },
        backend,
        attrs: { transposeA: false, transposeB: false } as unknown as NamedAttrMap,
      }) as TensorInfo;
      result = temps.add(relabel(mm, filterShape));
      return result;
    }

    // bottom/right padding that makes the output exactly Kh x Kw; negative means "crop x"
    let pb = Kh + sh * (Ho - 1) - H - pt, pr = Kw + sw * (Wo - 1) - W - pl;
    const Hc = Math.min(H, H + pb), Wc = Math.min(W, W + pr);
    pb = Math.max(0, pb);
    pr = Math.max(0, pr);
    if (Hc <= 0 || Wc <= 0) {
      result = temps.add(zerosOutput(backend, filterShape)); // every tap only ever saw padding
      return result;
    }
    const xt = temps.add(cropTranspose(backend, x, Hc, Wc, [3, 1, 2, 0])); // [C, Hc, Wc, B]
    const dyt = temps.add(cropTranspose(backend, dy, Ho, Wo, [1, 2, 0, 3])); // [Ho, Wo, B, Co]
    const conv = temps.add(xnnConv2d(backend, xt, dyt, explicitPad(pt, pb, pl, pr), [sh, sw]));
    checkShape('Conv2DBackpropFilter', 'internal convolution result', conv.shape, [C, Kh, Kw, Co]);
    // [C, Kh*Kw, Co] -> [Kh*Kw, C, Co]
    result = temps.add(wasmKernel('Transpose')({
      inputs: { x: relabel(conv, [C, Kh * Kw, Co]) }, backend, attrs: { perm: [1, 0, 2] } as unknown as NamedAttrMap,
    }) as TensorInfo);
    result = relabel(result, filterShape);
    return result;
  } finally {
    temps.release(result);
  }
}

// ---------------------------------------------------------------------------------------------------------
// depthwise

function depthwiseInfo(name: string, xShape: Shape4, filterShape: Shape4, attrs: ConvBackpropAttrs): Conv2DInfo {
  requireNHWC(name, attrs.dataFormat);
  requireDilationOne(name, attrs.dilations);
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
}

function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const name = 'DepthwiseConv2dNativeBackpropInput';
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvBackpropAttrs;
  requireFloat32(name, dy, filter);
  const ci = depthwiseInfo(name, attrs.inputShape!, filter.shape as Shape4, attrs);
  checkShape(name, 'dy', dy.shape, ci.outShape);
  const [, Kw, C, M] = filter.shape;
  const CM = C * M;
  const { strideHeight: sh, strideWidth: sw } = ci;
  const reduce = M === 1 ? undefined : (src: Float32Array, dst: Float32Array, pixels: number) => {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        const s = p * CM + c * M;
        for (let m = 0; m < M; m++) acc += src[s + m];
        dst[p * C + c] = acc;
      }
    }
  };
  return inputGradByPhases(backend, dy, ci,
    (ph, pw) => {
      // sub-filter [th, tw, C*M, 1]: f[a, b, c*M+m] = w[rem_h + sh*(th-1-a), rem_w + sw*(tw-1-b), c, m]
      const th = ph.taps, tw = pw.taps;
      const out = backend.makeOutput([th, tw, CM, 1], 'float32');
      const w = f32(backend, filter), f = f32(backend, out);
      for (let a = 0; a < th; a++) {
        const kh = ph.rem + sh * (th - 1 - a);
        for (let b = 0; b < tw; b++) {
          const kw = pw.rem + sw * (tw - 1 - b);
          f.set(w.subarray((kh * Kw + kw) * CM, (kh * Kw + kw + 1) * CM), (a * tw + b) * CM);
        }
      }
      return out;
    },
    (x, f, pad) => xnnDepthwise(backend, x, f, pad),
    reduce,
  );
}

/**
 * dW[kh, kw, c, m] = sum_{b, i, j} xpad[b, i*sh + kh, j*sw + kw, c] * dy[b, i, j, c*M + m], computed as one
 * XNNPACK depthwise convolution with the batch folded into the channels: input [1, Hc, Wc, B*C] (x with
 * the batch moved next to the channels), filter [Ho, Wo, B*C, M] (dy likewise), dilation = stride, output
 * [1, Kh, Kw, B*C*M], then summed over the batch.
 */
function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const name = 'DepthwiseConv2dNativeBackpropFilter';
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const attrs = (args.attrs ?? {}) as unknown as ConvBackpropAttrs;
  requireFloat32(name, x, dy);
  const ci = depthwiseInfo(name, x.shape as Shape4, attrs.filterShape!, attrs);
  checkShape(name, 'dy', dy.shape, ci.outShape);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo,
    filterHeight: Kh, filterWidth: Kw, strideHeight: sh, strideWidth: sw } = ci;
  const M = ci.outChannels / C;
  const CM = C * M;
  const pt = ci.padInfo.top, pl = ci.padInfo.left;
  let pb = Kh + sh * (Ho - 1) - H - pt, pr = Kw + sw * (Wo - 1) - W - pl;
  const Hc = Math.min(H, H + pb), Wc = Math.min(W, W + pr);
  pb = Math.max(0, pb);
  pr = Math.max(0, pr);
  const filterShape: Shape4 = [Kh, Kw, C, M];
  if (Hc <= 0 || Wc <= 0 || B * Ho * Wo === 0) return zerosOutput(backend, filterShape);

  const temps = new Temps(backend);
  let result: TensorInfo | undefined;
  try {
    const xt = temps.add(backend.makeOutput([1, Hc, Wc, B * C], 'float32'));
    const dyt = temps.add(backend.makeOutput([Ho, Wo, B * C, M], 'float32'));
    {
      const xs = f32(backend, x), xd = f32(backend, xt);
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < Hc; r++) {
          for (let c = 0; c < Wc; c++) {
            const s = ((b * H + r) * W + c) * C;
            xd.set(xs.subarray(s, s + C), ((r * Wc + c) * B + b) * C);
          }
        }
      }
      const ds = f32(backend, dy), dd = f32(backend, dyt);
      const HW = Ho * Wo;
      for (let b = 0; b < B; b++) {
        for (let p = 0; p < HW; p++) {
          const s = (b * HW + p) * CM;
          dd.set(ds.subarray(s, s + CM), (p * B + b) * CM);
        }
      }
    }
    const conv = temps.add(wasmKernel('DepthwiseConv2dNative')({
      inputs: { x: xt, filter: dyt },
      backend,
      attrs: { strides: [1, 1], pad: explicitPad(pt, pb, pl, pr), dilations: [sh, sw], dimRoundingMode: undefined } as unknown as NamedAttrMap,
    }) as TensorInfo);
    checkShape(name, 'internal convolution result', conv.shape, [1, Kh, Kw, B * CM]);
    result = temps.add(backend.makeOutput(filterShape, 'float32'));
    const cs = f32(backend, conv), out = f32(backend, result);
    const KK = Kh * Kw;
    for (let t = 0; t < KK; t++) {
      const d = t * CM;
      for (let k = 0; k < CM; k++) {
        let acc = 0;
        for (let b = 0, s = t * B * CM + k; b < B; b++, s += CM) acc += cs[s];
        out[d + k] = acc;
      }
    }
    return result;
  } finally {
    temps.release(result);
  }
}

// ---------------------------------------------------------------------------------------------------------
// BatchMatMul

/**
 * The stock wasm BatchMatMul reaches XNNPACK only for an untransposed product of two single matrices; with a
 * transpose flag (every matMul gradient) or a batch of matrices it runs a scalar loop (~2 GFLOP/s). Here
 * transposed operands are transposed explicitly first (wasm Transpose kernel, O(size)), and a batch of
 * matrices times one matrix becomes one tall matrix product. Other batched products keep the stock path.
 */
function batchMatMul(args: KernelArgs): TensorInfo {
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

// ---------------------------------------------------------------------------------------------------------
// registration

const OURS: { [name in (typeof WASM_GRADIENT_KERNELS)[number]]: (args: KernelArgs) => TensorInfo } = {
  BatchMatMul: batchMatMul,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
};

function register(kernelName: string, kernelFunc: (args: KernelArgs) => TensorInfo): void {
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
