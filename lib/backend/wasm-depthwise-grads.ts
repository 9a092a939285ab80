/** The depthwise convolution gradients for the wasm backend. See wasm-kernels.ts for the design. */
import * as tf from '@tensorflow/tfjs';
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Conv2DInfo, ConvBackpropAttrs, KernelArgs, Shape4, Temps, WasmBackendLike, checkShape, explicitPad, f32, inputGradByPhases, requireDilationOne, requireFloat32, requireNHWC, wasmKernel, xnnDepthwise, zerosOutput } from './wasm-kernel-util';

export function depthwiseInfo(name: string, xShape: Shape4, filterShape: Shape4, attrs: ConvBackpropAttrs): Conv2DInfo {
  requireNHWC(name, attrs.dataFormat);
  requireDilationOne(name, attrs.dilations);
  return tf.backend_util.computeConv2DInfo(
    xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true, 'channelsLast');
}

export function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
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
export function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
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
