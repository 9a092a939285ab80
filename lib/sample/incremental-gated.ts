/**
 * Incremental evaluation of the gated PixelCNN (both variants, with class-vector and map conditions) for
 * the fast sampler, after Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive
 * Models".
 *
 * Vertical stack: once per row. The paper's layer's vertical features at row t look at rows t-p..t
 * (including pixels right of the current column), so they are final once row t is complete; the horizontal
 * stack of row i only needs them for row i-1 (the shift), so `beginRow(i)` computes row t = i-1 of every
 * layer's vertical stack with one 'valid' convolution over the cached rows. The blind-spot variant's
 * vertical stack at row i reads rows i-p..i-1 only, so `beginRow(i)` computes row t = i itself. Either way
 * it leaves, per layer, the row's horizontal pre-activation terms that do not depend on the horizontal
 * stack: rowBias = link(vertical features) + biases + condition terms, [N, W, 2c].
 *
 * Horizontal stack: per pixel. Layer l at (i, j) reads its input at (i, j-p..j-1) (final) and at (i, j)
 * (through the colour-masked tap), so `beginPixel` computes base = [window, rowBias(i, j)] . [W_prev; I]
 * for both gate halves, and each colour step chains, per layer, centre . W_centre + base -> tanh * sigmoid
 * -> 1x1 output (+ residual) through the layers, then the output layer for the colour being drawn.
 *
 * Browser-safe: no Node-only imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { GatedPixelCNN } from '../models/gated';
import { maskedWeight, scalePixels } from '../models/layers';
import { RowCache } from './cache';
import { finishStep, Incremental, pixelInputs, StepLogits, TensorPool } from './incremental';
import { conditionTensors, disposeCondition, SamplePlan } from './plan';
import { gatedActivation } from '../ops/gated-activation';

interface Projection {
  weight: tf.Tensor2D; // [mapChannels, 2c]
  bias: tf.Tensor1D;
}

interface LayerWeights {
  inChannels: number;
  vertical: tf.Tensor4D; // [kh, k, in, 2c]
  verticalBias: tf.Tensor1D;
  link: tf.Tensor2D; // [2c, 2c]
  /** link bias + horizontal bias, [2c]. */
  rowConstant: tf.Tensor1D;
  /** [p*in + 2c, c] per gate half: the horizontal taps left of the pixel, then an identity for rowBias. */
  prevA: tf.Tensor2D;
  prevB: tf.Tensor2D;
  /** [in, c] per gate half: the colour-masked tap at the pixel. */
  centreA: tf.Tensor2D;
  centreB: tf.Tensor2D;
  output: tf.Tensor2D; // [c, c], colour mask B
  outputBias: tf.Tensor1D;
  residual: boolean;
  /** Class-vector terms, [N, 1, 2c]. */
  horizontalVector?: tf.Tensor3D;
  verticalVector?: tf.Tensor3D;
  horizontalMap?: Projection;
  verticalMap?: Projection;
}

export class GatedIncremental implements Incremental {
  private readonly pool = new TensorPool();
  private readonly layers: LayerWeights[] = [];
  private readonly outputs: { weight: tf.Tensor2D; bias: tf.Tensor1D }[] = [];
  /** Horizontal-stack inputs of every layer, current row only. */
  private readonly horizontal: RowCache[] = [];
  /** Vertical-stack inputs of every layer, the last p+1 rows. */
  private readonly vertical: RowCache[] = [];
  /** Per layer, the current row's rowBias [N, W, 2c]. */
  private rowBias: Float32Array[] = [];
  private bases: [tf.Tensor2D, tf.Tensor2D][] = [];
  private readonly p: number;
  private readonly kh: number;
  private readonly c: number;

  constructor(private readonly model: GatedPixelCNN, private readonly plan: SamplePlan) {
    const { colours, channels: c, kernelSize: k } = model.config;
    const p = Math.floor(k / 2);
    this.p = p;
    this.c = c;
    this.kh = model.blindSpot ? p : p + 1;
    const { count } = plan;
    const keep = <T extends tf.Tensor>(t: T): T => this.pool.keep(tf.keep(t));
    tf.tidy(() => {
      const vector = plan.vector ? tf.tensor2d(plan.vector, [count, model.config.conditionSize]) : undefined;
      const projectVector = (weight: tf.Variable | undefined): tf.Tensor3D | undefined =>
        weight && vector ? keep(tf.reshape(tf.matMul(vector, weight as tf.Tensor2D), [count, 1, 2 * c]) as tf.Tensor3D) : undefined;
      const projectMap = (conv: { weight: tf.Variable; bias: tf.Variable } | undefined): Projection | undefined =>
        conv && plan.map ? { weight: keep(tf.reshape(conv.weight, [model.config.conditionMapChannels, 2 * c]) as tf.Tensor2D), bias: conv.bias as tf.Tensor1D } : undefined;
      model.layers.forEach((layer, l) => {
        const inChannels = l === 0 ? colours : c;
        const horizontal = tf.reshape(maskedWeight(layer.horizontal), [(p + 1) * inChannels, 2 * c]) as tf.Tensor2D;
        const prev = tf.concat2d([tf.slice(horizontal, [0, 0], [p * inChannels, 2 * c]), tf.eye(2 * c)], 0);
        const centre = tf.slice(horizontal, [p * inChannels, 0], [inChannels, 2 * c]);
        this.layers.push({
          inChannels,
          vertical: layer.vertical.weight as tf.Tensor4D,
          verticalBias: layer.vertical.bias as tf.Tensor1D,
          link: keep(tf.reshape(layer.link.weight, [2 * c, 2 * c]) as tf.Tensor2D),
          rowConstant: keep(tf.add(layer.link.bias, layer.horizontal.bias) as tf.Tensor1D),
          prevA: keep(tf.slice(prev, [0, 0], [-1, c])),
          prevB: keep(tf.slice(prev, [0, c], [-1, c])),
          centreA: keep(tf.slice(centre, [0, 0], [-1, c])),
          centreB: keep(tf.slice(centre, [0, c], [-1, c])),
          output: keep(tf.reshape(maskedWeight(layer.output), [c, c]) as tf.Tensor2D),
          outputBias: layer.output.bias as tf.Tensor1D,
          residual: layer.residual,
          horizontalVector: projectVector(layer.horizontalCondition.vector),
          verticalVector: projectVector(layer.verticalCondition?.vector),
          horizontalMap: projectMap(layer.horizontalCondition.map),
          verticalMap: projectMap(layer.verticalCondition?.map),
        });
      });
      const out = tf.reshape(maskedWeight(model.output), [c, colours * 256]) as tf.Tensor2D;
      for (let col = 0; col < colours; col++) {
        this.outputs.push({
          weight: keep(tf.slice(out, [0, col * 256], [c, 256])),
          bias: keep(tf.slice(model.output.bias as tf.Tensor1D, [col * 256], [256])),
        });
      }
    });
    for (const layer of this.layers) {
      this.horizontal.push(new RowCache(count, 1, plan.width, p, layer.inChannels));
      this.vertical.push(new RowCache(count, p + 1, plan.width, p, layer.inChannels));
    }
  }

  async prime(i0: number, _j0: number): Promise<void> {
    const { count, height, width, colours } = this.plan;
    const first = Math.max(0, i0 - 1 - this.p);
    const verticalRows = i0 - first;
    const condition = conditionTensors(this.plan);
    let slices: { h: tf.Tensor; v?: tf.Tensor }[];
    try {
      slices = tf.tidy(() => {
        // Rows 0..i0 suffice: nothing at row r depends on later rows.
        const images = tf.tensor4d(Float32Array.from(this.plan.images), [count, height, width, colours]);
        const x = scalePixels(tf.slice(images, [0, 0, 0, 0], [count, i0 + 1, width, colours]));
        const cropped = condition && {
          vector: condition.vector,
          map: condition.map && tf.slice(condition.map, [0, 0, 0, 0], [count, i0 + 1, width, condition.map.shape[3]]),
        };
        let v = x;
        let h = x;
        const kept: { h: tf.Tensor; v?: tf.Tensor }[] = [];
        this.model.layers.forEach((layer, l) => {
          const ch = this.layers[l].inChannels;
          kept.push({
            h: tf.keep(tf.slice(h, [0, i0, 0, 0], [count, 1, width, ch])),
            v: verticalRows > 0 ? tf.keep(tf.slice(v, [0, first, 0, 0], [count, verticalRows, width, ch])) : undefined,
          });
          [v, h] = this.model.layer(layer, v, h, cropped);
        });
        return kept;
      });
    } finally {
      disposeCondition(condition);
    }
    try {
      for (let l = 0; l < slices.length; l++) {
        const rowSize = width * this.layers[l].inChannels;
        const h = (await slices[l].h.data()) as Float32Array;
        for (let n = 0; n < count; n++) this.horizontal[l].setRow(n, i0, h, n * rowSize);
        const vTensor = slices[l].v;
        if (vTensor) {
          const v = (await vTensor.data()) as Float32Array;
          for (let n = 0; n < count; n++) {
            for (let r = 0; r < verticalRows; r++) this.vertical[l].setRow(n, first + r, v, (n * verticalRows + r) * rowSize);
          }
        }
      }
    } finally {
      for (const s of slices) tf.dispose(s.v ? [s.h, s.v] : [s.h]);
    }
  }

  /** The condition map's row r for every sample, [N * W, mapChannels]. */
  private mapRow(r: number): tf.Tensor2D | undefined {
    const map = this.plan.map;
    if (!map) return undefined;
    const { count, height, width } = this.plan;
    const m = this.model.config.conditionMapChannels;
    const rowSize = width * m;
    const out = new Float32Array(count * rowSize);
    for (let n = 0; n < count; n++) out.set(map.subarray((n * height + r) * rowSize, (n * height + r + 1) * rowSize), n * rowSize);
    return tf.tensor2d(out, [count * width, m]);
  }

  async beginRow(i: number): Promise<void> {
    const { count, width } = this.plan;
    const { p, kh, c } = this;
    const t = this.model.blindSpot ? i : i - 1;
    const last = this.layers.length - 1;
    const horizontalMap = this.mapRow(i);
    const verticalMap = t >= 0 ? this.mapRow(t) : undefined;
    try {
      for (let l = 0; l <= last; l++) {
        const layer = this.layers[l];
        const cache = this.vertical[l];
        let window: Float32Array | undefined;
        if (t >= 0) {
          const size = kh * cache.rowStride;
          window = new Float32Array(count * size);
          for (let n = 0; n < count; n++) {
            for (let r = 0; r < kh; r++) cache.copy(n, t - p + r, -p, width + 2 * p, window, n * size + r * cache.rowStride);
          }
        }
        const wantVertical = t >= 0 && l < last;
        const joined = tf.tidy(() => {
          let features: tf.Tensor2D | undefined; // vertical features of row t, [N*W, 2c]
          if (window) {
            const input = tf.tensor4d(window, [count, kh, width + 2 * p, layer.inChannels]);
            features = tf.reshape(tf.add(tf.conv2d(input, layer.vertical, 1, 'valid'), layer.verticalBias), [count * width, 2 * c]);
          }
          // Paper's layer at row 0: the shifted vertical features are zeros, so only the biases remain.
          let rowBias: tf.Tensor = features
            ? tf.add(tf.matMul(features, layer.link), layer.rowConstant)
            : tf.broadcastTo(layer.rowConstant, [count * width, 2 * c]);
          if (layer.horizontalMap && horizontalMap) {
            rowBias = tf.add(rowBias, tf.fused.matMul({ a: horizontalMap, b: layer.horizontalMap.weight, bias: layer.horizontalMap.bias }));
          }
          rowBias = tf.reshape(rowBias, [count, width, 2 * c]);
          if (layer.horizontalVector) rowBias = tf.add(rowBias, layer.horizontalVector);
          if (!wantVertical || !features) return rowBias as tf.Tensor3D;
          let pre: tf.Tensor = tf.reshape(features, [count, width, 2 * c]);
          if (layer.verticalVector) pre = tf.add(pre, layer.verticalVector);
          if (layer.verticalMap && verticalMap) {
            pre = tf.add(pre, tf.reshape(tf.fused.matMul({ a: verticalMap, b: layer.verticalMap.weight, bias: layer.verticalMap.bias }), [count, width, 2 * c]));
          }
          return tf.concat([rowBias, gatedActivation(pre)], 2) as tf.Tensor3D;
        });
        let data: Float32Array;
        try {
          data = (await joined.data()) as Float32Array;
        } finally {
          joined.dispose();
        }
        const stride = wantVertical ? 3 * c : 2 * c;
        if (!wantVertical) {
          this.rowBias[l] = data;
        } else {
          const rowBias = new Float32Array(count * width * 2 * c);
          const next = this.vertical[l + 1];
          for (let n = 0; n < count; n++) {
            for (let col = 0; col < width; col++) {
              const at = (n * width + col) * stride;
              rowBias.set(data.subarray(at, at + 2 * c), (n * width + col) * 2 * c);
              next.setPixel(n, t, col, data, at + 2 * c);
            }
          }
          this.rowBias[l] = rowBias;
        }
      }
    } finally {
      tf.dispose([horizontalMap, verticalMap].filter((m): m is tf.Tensor2D => m !== undefined));
    }
  }

  storeInput(i: number, j: number): void {
    const x = pixelInputs(this.plan, i, j);
    const colours = this.plan.colours;
    for (let n = 0; n < this.plan.count; n++) {
      this.horizontal[0].setPixel(n, i, j, x, n * colours);
      this.vertical[0].setPixel(n, i, j, x, n * colours);
    }
  }

  beginPixel(i: number, j: number): void {
    const { count, width } = this.plan;
    const { p, c } = this;
    this.bases = this.layers.map((layer, l) => {
      const prevSize = p * layer.inChannels;
      const size = prevSize + 2 * c;
      const window = new Float32Array(count * size);
      const rowBias = this.rowBias[l];
      for (let n = 0; n < count; n++) {
        this.horizontal[l].copy(n, i, j - p, p, window, n * size);
        const at = (n * width + j) * 2 * c;
        window.set(rowBias.subarray(at, at + 2 * c), n * size + prevSize);
      }
      return tf.tidy(() => {
        const input = tf.tensor2d(window, [count, size]);
        return [tf.matMul(input, layer.prevA), tf.matMul(input, layer.prevB)] as [tf.Tensor2D, tf.Tensor2D];
      });
    });
  }

  async step(i: number, j: number, colour: number, logits: boolean, store: boolean): Promise<StepLogits | undefined> {
    const { count, colours } = this.plan;
    const c = this.c;
    const x = pixelInputs(this.plan, i, j);
    const last = this.layers.length - 1;
    const joined = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [count, colours]);
      const parts: tf.Tensor2D[] = [];
      this.layers.forEach((layer, l) => {
        const [baseA, baseB] = this.bases[l];
        const a = tf.add(baseA, tf.matMul(h, layer.centreA));
        const b = tf.add(baseB, tf.matMul(h, layer.centreB));
        // the model's own gate kernel (not tanh * sigmoid), so both samplers round alike
        const out = tf.fused.matMul({ a: gatedActivation(tf.concat([a, b], 1) as tf.Tensor2D), b: layer.output, bias: layer.outputBias }) as tf.Tensor2D;
        h = layer.residual ? (tf.add(h, out) as tf.Tensor2D) : out;
        if (store && l < last) parts.push(h);
      });
      if (logits) parts.push(tf.fused.matMul({ a: tf.relu(h) as tf.Tensor2D, b: this.outputs[colour].weight, bias: this.outputs[colour].bias }) as tf.Tensor2D);
      if (parts.length === 0) return undefined;
      return parts.length === 1 ? parts[0] : tf.concat2d(parts, 1);
    });
    return finishStep(joined, this.horizontal, c, i, j, logits, store);
  }

  endPixel(): void {
    for (const pair of this.bases) tf.dispose(pair);
    this.bases = [];
  }

  dispose(): void {
    this.endPixel();
    this.pool.dispose();
  }
}
