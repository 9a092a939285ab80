/**
 * Incremental evaluation of the simple (masked-convolution) PixelCNN for the fast sampler.
 *
 * Layer l's output at (i, j) depends on layer l's input at rows i-p..i-1 (all k columns around j), at row
 * i left of j, and at (i, j) itself through the colour-masked centre tap. Everything but the centre is
 * final before pixel (i, j) starts, so per pixel and layer `beginPixel` computes
 *   base = window . W_prev + bias      (one matMul on the gathered im2col row of every sample)
 * and each colour step only chains centre . W_centre + base -> ReLU through the layers (three small ops per
 * layer) and the 1x1 output of the colour being drawn. Caches keep the last p+1 rows of every layer input.
 *
 * Browser-safe: no Node-only imports.
 */
import * as tf from '@tensorflow/tfjs';
import { finishStep, Incremental, IncrementalBatch, pixelInputs, StepLogits, TensorPool } from './incremental';
import { applyConv, maskedWeight, scalePixels } from './layers';
import { RowCache } from './row-cache';
import type { SimplePixelCNN } from './simple';

interface LayerWeights {
  /** [(p*k + p) * in, out] rows of the masked kernel before the centre tap; undefined when k = 1. */
  prev: tf.Tensor2D | undefined;
  /** [in, out] the colour-masked centre tap. */
  centre: tf.Tensor2D;
  bias: tf.Tensor1D;
  inChannels: number;
}

export class SimpleIncremental implements Incremental {
  /** The diagnostics' leaking variant: its first layer sees the pixel's own colours (PixelCnnFields.leak). */
  readonly refreshAfterPixel: boolean;
  private readonly pool = new TensorPool();
  private readonly layers: LayerWeights[] = [];
  /** Per colour: the output layer's [channels, 256] columns and bias. */
  private readonly outputs: { weight: tf.Tensor2D; bias: tf.Tensor1D }[] = [];
  /** Inputs of every layer (layer 0: the scaled image). */
  private readonly caches: RowCache[] = [];
  private bases: (tf.Tensor2D | undefined)[] = [];
  private readonly p: number;
  private readonly k: number;

  constructor(private readonly model: SimplePixelCNN, private readonly plan: IncrementalBatch) {
    const { colours, channels, kernelSize: k } = model.config;
    this.refreshAfterPixel = model.config.leak;
    this.k = k;
    this.p = Math.floor(k / 2);
    const p = this.p;
    tf.tidy(() => {
      model.hidden.forEach((conv, l) => {
        const inChannels = l === 0 ? colours : channels;
        const flat = tf.reshape(maskedWeight(conv), [k * k * inChannels, channels]) as tf.Tensor2D;
        const prevRows = (p * k + p) * inChannels;
        this.layers.push({
          prev: prevRows > 0 ? this.pool.keep(tf.keep(tf.slice(flat, [0, 0], [prevRows, channels]))) : undefined,
          centre: this.pool.keep(tf.keep(tf.slice(flat, [prevRows, 0], [inChannels, channels]))),
          bias: conv.bias as tf.Tensor1D,
          inChannels,
        });
      });
      const out = tf.reshape(maskedWeight(model.output), [channels, colours * 256]) as tf.Tensor2D;
      for (let c = 0; c < colours; c++) {
        this.outputs.push({
          weight: this.pool.keep(tf.keep(tf.slice(out, [0, c * 256], [channels, 256]))),
          bias: this.pool.keep(tf.keep(tf.slice(model.output.bias as tf.Tensor1D, [c * 256], [256]))),
        });
      }
    });
    for (const layer of this.layers) this.caches.push(new RowCache(plan.count, p + 1, plan.width, p, layer.inChannels));
  }

  async prime(i0: number, _j0: number): Promise<void> {
    const { count, height, width, colours } = this.plan;
    const first = Math.max(0, i0 - this.p);
    const rows = i0 - first + 1;
    const slices = tf.tidy(() => {
      // Rows 0..i0 suffice: nothing at row r depends on later rows.
      const images = tf.tensor4d(Float32Array.from(this.plan.images), [count, height, width, colours]);
      let x = scalePixels(tf.slice(images, [0, 0, 0, 0], [count, i0 + 1, width, colours]));
      const kept: tf.Tensor[] = [];
      this.model.hidden.forEach((conv, l) => {
        kept.push(tf.slice(x, [0, first, 0, 0], [count, rows, width, this.layers[l].inChannels]));
        x = tf.relu(applyConv(conv, x));
      });
      return kept;
    });
    try {
      for (let l = 0; l < slices.length; l++) {
        const data = (await slices[l].data()) as Float32Array;
        const cache = this.caches[l];
        const rowSize = width * cache.channels;
        for (let n = 0; n < count; n++) {
          for (let r = 0; r < rows; r++) cache.setRow(n, first + r, data, (n * rows + r) * rowSize);
        }
      }
    } finally {
      tf.dispose(slices);
    }
  }

  async beginRow(_i: number): Promise<void> {
    // Nothing per row: every layer is a masked convolution evaluated pixel by pixel.
  }

  storeInput(i: number, j: number): void {
    const x = pixelInputs(this.plan, i, j);
    const colours = this.plan.colours;
    for (let n = 0; n < this.plan.count; n++) this.caches[0].setPixel(n, i, j, x, n * colours);
  }

  beginPixel(i: number, j: number): void {
    const { count } = this.plan;
    const { p, k } = this;
    this.bases = this.layers.map((layer, l) => {
      if (!layer.prev) return undefined;
      const cache = this.caches[l];
      const inCh = layer.inChannels;
      const size = (p * k + p) * inCh;
      const window = new Float32Array(count * size);
      for (let n = 0; n < count; n++) {
        const offset = n * size;
        for (let r = 0; r < p; r++) cache.copy(n, i - p + r, j - p, k, window, offset + r * k * inCh);
        cache.copy(n, i, j - p, p, window, offset + p * k * inCh);
      }
      const prev = layer.prev;
      return tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(window, [count, size]), b: prev, bias: layer.bias }) as tf.Tensor2D);
    });
  }

  async step(i: number, j: number, c: number, logits: boolean, store: boolean): Promise<StepLogits | undefined> {
    const { count, colours } = this.plan;
    const x = pixelInputs(this.plan, i, j);
    const channels = this.model.config.channels;
    const last = this.layers.length - 1;
    const joined = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [count, colours]);
      const parts: tf.Tensor2D[] = [];
      this.layers.forEach((layer, l) => {
        const base = this.bases[l];
        const pre: tf.Tensor2D = base ? (tf.add(base, tf.matMul(h, layer.centre)) as tf.Tensor2D) : (tf.fused.matMul({ a: h, b: layer.centre, bias: layer.bias }) as tf.Tensor2D);
        h = tf.relu(pre);
        if (store && l < last) parts.push(h);
      });
      if (logits) parts.push(tf.fused.matMul({ a: h, b: this.outputs[c].weight, bias: this.outputs[c].bias }) as tf.Tensor2D);
      if (parts.length === 0) return undefined;
      return parts.length === 1 ? parts[0] : tf.concat2d(parts, 1);
    });
    return finishStep(joined, this.caches, channels, i, j, logits, store);
  }

  endPixel(): void {
    tf.dispose(this.bases.filter((b): b is tf.Tensor2D => b !== undefined));
    this.bases = [];
  }

  dispose(): void {
    this.endPixel();
    this.pool.dispose();
  }
}
