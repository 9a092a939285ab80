/**
 * The gated PixelCNN's weights in the matrix form its incremental evaluator (gated-incremental.ts) multiplies
 * by, prepared once per sampling run: the horizontal kernel split into the taps left of the pixel (with an
 * identity appended for the row's precomputed terms) and the colour-masked centre tap, per gate half; the 1x1
 * convolutions as matrices; the condition vector's projections for the batch; the output layer per colour.
 *
 * Browser-safe: no Node-only imports.
 */
import * as tf from '@tensorflow/tfjs';
import type { GatedPixelCNN } from './gated';
import type { IncrementalBatch, TensorPool } from './incremental';
import { maskedWeight } from './layers';

export interface Projection {
  weight: tf.Tensor2D; // [mapChannels, 2c]
  bias: tf.Tensor1D;
}

export interface LayerWeights {
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

export interface GatedWeights {
  layers: LayerWeights[];
  /** Per colour: the output layer's [c, 256] columns and bias. */
  outputs: { weight: tf.Tensor2D; bias: tf.Tensor1D }[];
}

/**
 * The weights of `model` for sampling `batch` (its condition vector is projected here). Tensors created here
 * are owned by `pool`; the model's own variables are referenced as they are.
 */
export function prepareGatedWeights(model: GatedPixelCNN, batch: IncrementalBatch, pool: TensorPool): GatedWeights {
  const { colours, channels: c, kernelSize: k } = model.config;
  const p = Math.floor(k / 2);
  const { count } = batch;
  const keep = <T extends tf.Tensor>(t: T): T => pool.keep(tf.keep(t));
  const layers: LayerWeights[] = [];
  const outputs: GatedWeights['outputs'] = [];
  tf.tidy(() => {
    const vector = batch.vector ? tf.tensor2d(batch.vector, [count, model.conditionShape.vector]) : undefined;
    const projectVector = (weight: tf.Variable | undefined): tf.Tensor3D | undefined =>
      weight && vector ? keep(tf.reshape(tf.matMul(vector, weight as tf.Tensor2D), [count, 1, 2 * c]) as tf.Tensor3D) : undefined;
    const projectMap = (conv: { weight: tf.Variable; bias: tf.Variable } | undefined): Projection | undefined =>
      conv && batch.map ? { weight: keep(tf.reshape(conv.weight, [model.conditionShape.map, 2 * c]) as tf.Tensor2D), bias: conv.bias as tf.Tensor1D } : undefined;
    model.layers.forEach((layer, l) => {
      const inChannels = l === 0 ? colours : c;
      const horizontal = tf.reshape(maskedWeight(layer.horizontal), [(p + 1) * inChannels, 2 * c]) as tf.Tensor2D;
      const prev = tf.concat2d([tf.slice(horizontal, [0, 0], [p * inChannels, 2 * c]), tf.eye(2 * c)], 0);
      const centre = tf.slice(horizontal, [p * inChannels, 0], [inChannels, 2 * c]);
      layers.push({
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
      outputs.push({
        weight: keep(tf.slice(out, [0, col * 256], [c, 256])),
        bias: keep(tf.slice(model.output.bias as tf.Tensor1D, [col * 256], [256])),
      });
    }
  });
  return { layers, outputs };
}
