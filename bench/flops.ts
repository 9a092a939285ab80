/**
 * FLOPs of the convolutions of one training step, counted from the model config (lib/models/simple.ts and
 * gated.ts build exactly these convolutions; every one is stride 1 with an H x W output).
 *
 * A convolution with kernel Kh x Kw, Ci input and Co output channels on a batch of N images of H x W costs
 * 2 * N * H * W * Kh * Kw * Ci * Co FLOPs forward (a multiply-add counts 2); its two gradients dX and dW cost
 * the same each. One training step = forward + dW of every convolution + dX of every convolution except those
 * reading the input image (nothing needs that gradient, and tf.grads prunes it). Masked taps are counted: the
 * backend multiplies the zeros too. Everything else (bias adds, gates, the softmax over 256 values, Adam) is
 * left out, so the GFLOP/s derived from this is a lower bound of the work done per second.
 */
import type { ModelConfig } from '../lib/models';

export interface ConvShape {
  name: string;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  /** Reads the input image: its dX is not computed. */
  readsInput: boolean;
}

/** The convolutions of a simple or gated (paper, no blind spot) PixelCNN, in forward order. */
export function convShapes(config: ModelConfig): ConvShape[] {
  const { kind, colours: C, channels: c, kernelSize: k, layers } = config;
  const p = Math.floor(k / 2);
  const out: ConvShape[] = [];
  if (kind !== 'simple' && kind !== 'gated' && kind !== 'gated-blindspot') throw new Error(`convShapes: ${kind} models are not counted`);
  if (kind === 'simple') {
    // Each masked k x k convolution runs as its top k//2+1 rows (lib/models/simple.ts).
    for (let l = 0; l < layers; l++) {
      out.push({ name: `layer${l}.masked`, kh: p + 1, kw: k, cin: l === 0 ? C : c, cout: c, readsInput: l === 0 });
    }
  } else if (kind === 'gated' || kind === 'gated-blindspot') {
    const rows = kind === 'gated' ? p + 1 : p;
    for (let l = 0; l < layers; l++) {
      const cin = l === 0 ? C : c;
      out.push({ name: `layer${l}.vertical`, kh: rows, kw: k, cin, cout: 2 * c, readsInput: l === 0 });
      out.push({ name: `layer${l}.horizontal`, kh: 1, kw: p + 1, cin, cout: 2 * c, readsInput: l === 0 });
      out.push({ name: `layer${l}.link`, kh: 1, kw: 1, cin: 2 * c, cout: 2 * c, readsInput: false });
      out.push({ name: `layer${l}.output`, kh: 1, kw: 1, cin: c, cout: c, readsInput: false });
    }
  } else {
    throw new Error(`convShapes: model kind ${kind} is not counted`);
  }
  out.push({ name: 'output', kh: 1, kw: 1, cin: c, cout: C * 256, readsInput: false });
  return out;
}

export interface StepFlops {
  forward: number;
  /** forward + dW + dX (without the input image's dX). */
  training: number;
}

export function trainingStepFlops(config: ModelConfig, batch: number): StepFlops {
  let forward = 0, training = 0;
  for (const s of convShapes(config)) {
    const f = 2 * batch * config.height * config.width * s.kh * s.kw * s.cin * s.cout;
    forward += f;
    training += s.readsInput ? 2 * f : 3 * f;
  }
  return { forward, training };
}
