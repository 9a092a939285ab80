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
 * -> 1x1 output (+ residual) through the layers, then the output layer for the colour being drawn. The
 * weights in that matrix form are prepared once per run (gated-incremental-weights.ts).
 *
 * Browser-safe: no Node-only imports.
 */
import * as tf from '@tensorflow/tfjs';
import { gatedActivation } from '../ops/gated-activation';
import type { GatedPixelCNN } from './gated';
import { LayerWeights, prepareGatedWeights } from './gated-incremental-weights';
import { batchCondition, finishStep, Incremental, IncrementalBatch, pixelInputs, StepLogits, TensorPool } from './incremental';
import { scalePixels } from './layers';
import { disposeCondition } from './model';
import { RowCache } from './row-cache';

export class GatedIncremental implements Incremental {
  /** The diagnostics' leaking variant: its first layer sees the pixel's own colours (GatedNetwork.leak). */
  readonly refreshAfterPixel: boolean;
  private readonly pool = new TensorPool();
  private readonly layers: LayerWeights[];
  private readonly outputs: { weight: tf.Tensor2D; bias: tf.Tensor1D }[];
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

  constructor(private readonly model: GatedPixelCNN, private readonly plan: IncrementalBatch) {
    const { channels: c, kernelSize: k } = model.config;
    const p = Math.floor(k / 2);
    this.p = p;
    this.c = c;
    this.kh = model.blindSpot ? p : p + 1;
    this.refreshAfterPixel = model.network.leak;
    ({ layers: this.layers, outputs: this.outputs } = prepareGatedWeights(model, plan, this.pool));
    for (const layer of this.layers) {
      this.horizontal.push(new RowCache(plan.count, 1, plan.width, p, layer.inChannels));
      this.vertical.push(new RowCache(plan.count, p + 1, plan.width, p, layer.inChannels));
    }
  }

  async prime(i0: number, _j0: number): Promise<void> {
    const { count, height, width, colours } = this.plan;
    const first = Math.max(0, i0 - 1 - this.p);
    const verticalRows = i0 - first;
    const condition = batchCondition(this.plan, this.model.conditionShape);
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
    const m = this.model.conditionShape.map;
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
