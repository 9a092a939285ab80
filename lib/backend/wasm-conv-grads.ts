/** Conv2DBackpropInput and Conv2DBackpropFilter for the wasm backend as XNNPACK forward convolutions. See wasm-kernels.ts for the design. */
import * as tf from '@tensorflow/tfjs';
import type { DataId, DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { ConvBackpropAttrs, KernelArgs, Shape4, Temps, WasmBackendLike, checkShape, cropTranspose, explicitPad, f32, inputGradByPhases, relabel, requireDilationOne, requireFloat32, requireNHWC, stockKernels, wasmKernel, xnnConv2d, zerosOutput } from './wasm-kernel-util';

export function conv2DBackpropInput(args: KernelArgs): TensorInfo {
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
 * dW[kh, kw, c, o] = sum_{b, i, j} xpad[b, i*sh + kh, j*sw + kw, c] * dy[b, i, j, o], computed as a forward
 * convolution with batch = c and channels = b: input [C, Hc, Wc, B] (x transposed, cropped to the rows the
 * filter can reach), filter [Ho, Wo, B, Co] (dy transposed), dilation = stride, output [C, Kh, Kw, Co].
 * A 1x1 stride-1 unpadded convolution is a plain matMul instead: dW = x^T dy (XNNPACK fully connected).
 */
export function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
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
    const pb = (Ho - 1) * sh + Kh - H - pt, pr = (Wo - 1) * sw + Kw - W - pl; // padding bottom/right
    // XNNPACK packs the "filter" operand on every call, and for these shapes packing costs about as much as
    // the multiply-adds: pack the operand with fewer channels (x when C < Co). Measured (bench/conv-kernels.ts
    // shapes, batch 64): 3x5 30->60 166 -> 150 ms, 1x3 30->60 75 -> 61 ms; slower for 1x1 kernels (the matMul
    // below is better) and for very few input channels (a GEMM with N = C too narrow).
    if (C < Co && C >= 8 && Kh * Kw > 1 && sh === 1 && sw === 1 && pt <= Kh - 1 && pb <= Kh - 1 && pl <= Kw - 1 && pr <= Kw - 1 && pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0) {
      result = temps.add(filterGradPackingX(backend, x, dy, [Kh, Kw], [pt, pb, pl, pr], temps));
      return result;
    }
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
    const Hc = Math.min(H, H + pb), Wc = Math.min(W, W + pr);
    if (Hc <= 0 || Wc <= 0) {
      result = temps.add(zerosOutput(backend, filterShape)); // every tap only ever saw padding
      return result;
    }
    const xt = temps.add(cropTranspose(backend, x, Hc, Wc, [3, 1, 2, 0])); // [C, Hc, Wc, B]
    const dyt = temps.add(cropTranspose(backend, dy, Ho, Wo, [1, 2, 0, 3])); // [Ho, Wo, B, Co]
    const conv = temps.add(xnnConv2d(backend, xt, dyt, explicitPad(pt, Math.max(0, pb), pl, Math.max(0, pr)), [sh, sw]));
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

/**
 * dW for stride 1 with x as the packed operand: a convolution of dy^T [Co, Ho, Wo, B] (batch = output channel,
 * channels = batch), padded by (K - 1 - pad) on each side, with x^T [H, W, B, C] as the filter. Its output
 * [Co, Kh, Kw, C] holds dW spatially flipped: out[o, Kh-1-kh, Kw-1-kw, c] = sum_{b,r,s} x[b, r, s, c] *
 * dy[b, r + pt - kh, s + pl - kw, o] = dW[kh, kw, c, o].
 */
function filterGradPackingX(
  backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, [Kh, Kw]: [number, number],
  [pt, pb, pl, pr]: [number, number, number, number], temps: Temps,
): TensorInfo {
  const [, H, W, C] = x.shape;
  const [, Ho, Wo, Co] = dy.shape;
  const dyt = temps.add(cropTranspose(backend, dy, Ho, Wo, [3, 1, 2, 0])); // [Co, Ho, Wo, B]
  const xt = temps.add(cropTranspose(backend, x, H, W, [1, 2, 0, 3])); // [H, W, B, C]
  const flipped = temps.add(xnnConv2d(backend, dyt, xt, explicitPad(Kh - 1 - pt, Kh - 1 - pb, Kw - 1 - pl, Kw - 1 - pr), [1, 1]));
  checkShape('Conv2DBackpropFilter', 'internal convolution result', flipped.shape, [Co, Kh, Kw, C]);
  const out = backend.makeOutput([Kh, Kw, C, Co], 'float32');
  const f = f32(backend, flipped), o = f32(backend, out);
  for (let kh = 0; kh < Kh; kh++) {
    for (let kw = 0; kw < Kw; kw++) {
      const target = (kh * Kw + kw) * C * Co;
      for (let oc = 0; oc < Co; oc++) {
        const source = ((oc * Kh + (Kh - 1 - kh)) * Kw + (Kw - 1 - kw)) * C;
        for (let c = 0; c < C; c++) o[target + c * Co + oc] = f[source + c];
      }
    }
  }
  return out;
}
