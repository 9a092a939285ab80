/**
 * Receptive fields measured with gradients: which input subpixels can change the logits of one output
 * subpixel (i, j, c). Every input subpixel is classified against the autoregressive order (raster
 * scan, then colour):
 *
 * - seen: earlier in the order, non-zero gradient;
 * - blind: earlier, zero gradient, yet inside the span of what is seen (the rows above the output
 *   between the leftmost and rightmost seen columns, and the current row to the left): the blind spot;
 * - unreachable: earlier, zero gradient, beyond the network's reach;
 * - leaking: at or after the output in the order, non-zero gradient: the model can see the value it
 *   predicts or later ones, and its samples will be wrong (typically black);
 * - future: at or after the output, zero gradient, as it should be.
 *
 * A ReLU that is off for one input hides a connection, so the magnitude is the maximum over several
 * random inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { Condition } from '../models/layers';
import { disposeCondition, PixelModel } from '../models/model';

export const FIELD_CLASSES = ['future', 'seen', 'blind', 'unreachable', 'leaking'] as const;
export type FieldClass = (typeof FIELD_CLASSES)[number];

export interface ReceptiveField {
  output: { row: number; col: number; colour: number };
  height: number;
  width: number;
  colours: number;
  /** max over inputs of |d (logits . r) / d x|, [H, W, C] flattened. */
  magnitude: Float32Array;
  /** Index into FIELD_CLASSES per input subpixel, [H, W, C] flattened. */
  classes: Uint8Array;
  /** Subpixels per class. */
  counts: Record<FieldClass, number>;
}

export interface ReceptiveFieldOptions {
  /** Random inputs to take the maximum over (default 4). */
  inputs?: number;
  seed?: number;
  /** Condition for conditional models (batch of `inputs`); default: a one-hot vector of index 0 / a random normal map (seed 5). */
  condition?: Condition;
}

function defaultCondition(model: PixelModel, inputs: number): Condition | undefined {
  const { height, width } = model.config;
  const { vector: conditionSize, map: conditionMapChannels } = model.conditionShape;
  if (conditionSize === 0 && conditionMapChannels === 0) return undefined;
  return {
    vector: conditionSize > 0 ? tf.tidy(() => tf.oneHot(tf.zeros([inputs], 'int32'), conditionSize).toFloat() as tf.Tensor2D) : undefined,
    map: conditionMapChannels > 0 ? tf.randomNormal([inputs, height, width, conditionMapChannels], 0, 1, 'float32', 5) as tf.Tensor4D : undefined,
  };
}

/** Gradient magnitudes of output (row, col, colour)'s logits with respect to the input image. */
export async function gradientMagnitude(model: PixelModel, row: number, col: number, colour: number, options: ReceptiveFieldOptions = {}): Promise<Float32Array> {
  const { height, width, colours } = model.config;
  if (row < 0 || row >= height || col < 0 || col >= width || colour < 0 || colour >= colours) {
    throw new Error(`receptive field: output (${row}, ${col}, ${colour}) is outside the ${height}x${width}x${colours} image`);
  }
  const inputs = options.inputs ?? 4;
  const seed = options.seed ?? 7;
  const condition = options.condition ?? defaultCondition(model, inputs);
  const x = tf.randomUniform([inputs, height, width, colours], 0, 255, 'float32', seed);
  const projection = tf.randomNormal([256], 0, 1, 'float32', seed + 1);
  const grad = tf.grad((input: tf.Tensor) => {
    const logits = model.logits(input as tf.Tensor4D, condition); // [inputs, H, W, C, 256]
    const one = tf.reshape(tf.slice(logits, [0, row, col, colour, 0], [inputs, 1, 1, 1, 256]), [inputs, 256]);
    return tf.sum(tf.mul(one, projection));
  })(x); // [inputs, H, W, C]
  const magnitude = tf.tidy(() => tf.max(tf.abs(grad), 0)); // [H, W, C]
  const data = (await magnitude.data()) as Float32Array;
  tf.dispose([x, projection, grad, magnitude]);
  if (!options.condition) disposeCondition(condition);
  return data;
}

/** Classifies every input subpixel of a gradient map (see the module comment). */
export function classifyField(magnitude: Float32Array, height: number, width: number, colours: number, row: number, col: number, colour: number): ReceptiveField {
  const order = (r: number, q: number, c: number) => (r * width + q) * colours + c;
  const out = order(row, col, colour);
  let minCol = Infinity;
  let maxCol = -Infinity;
  let minRow = Infinity;
  for (let r = 0; r < height; r++) for (let q = 0; q < width; q++) for (let c = 0; c < colours; c++) {
    if (order(r, q, c) < out && magnitude[order(r, q, c)] !== 0 && r < row) {
      minCol = Math.min(minCol, q);
      maxCol = Math.max(maxCol, q);
      minRow = Math.min(minRow, r);
    }
  }
  let leftmostInRow = col;
  for (let q = 0; q < col; q++) for (let c = 0; c < colours; c++) if (magnitude[order(row, q, c)] !== 0) leftmostInRow = Math.min(leftmostInRow, q);
  const classes = new Uint8Array(magnitude.length);
  const counts = Object.fromEntries(FIELD_CLASSES.map((name) => [name, 0])) as Record<FieldClass, number>;
  for (let r = 0; r < height; r++) for (let q = 0; q < width; q++) for (let c = 0; c < colours; c++) {
    const index = order(r, q, c);
    const nonZero = magnitude[index] !== 0;
    let cls: FieldClass;
    if (index >= out) cls = nonZero ? 'leaking' : 'future';
    else if (nonZero) cls = 'seen';
    else {
      const inSpan = (r < row && r >= minRow && q >= minCol && q <= maxCol) || (r === row && (q >= leftmostInRow || q === col));
      cls = inSpan ? 'blind' : 'unreachable';
    }
    classes[index] = FIELD_CLASSES.indexOf(cls);
    counts[cls]++;
  }
  return { output: { row, col, colour }, height, width, colours, magnitude, classes, counts };
}

/** The classified receptive field of output subpixel (row, col, colour). */
export async function receptiveField(model: PixelModel, row: number, col: number, colour = 0, options: ReceptiveFieldOptions = {}): Promise<ReceptiveField> {
  const { height, width, colours } = model.config;
  const magnitude = await gradientMagnitude(model, row, col, colour, options);
  return classifyField(magnitude, height, width, colours, row, col, colour);
}
