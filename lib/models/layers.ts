/**
 * Shared building blocks: padded convolutions, the gated activation, the row shift and the
 * conditioning terms. Everything works on NHWC tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { ParamStore } from './params';
import { conv2dWithBias } from '../ops/conv-bias';
import { gatedActivation } from '../ops/gated-activation';

/** Zero padding [top, bottom, left, right]. */
export type Padding = [number, number, number, number];

export interface Conv {
  weight: tf.Variable; // [kh, kw, in, out]
  bias: tf.Variable; // [out]
  padding: Padding;
  /** Constant 0/1 mask multiplied into the weight (colour masks); undefined = none. */
  mask?: tf.Tensor;
}

export function createConv(
  params: ParamStore, name: string, kernel: [number, number], inChannels: number, outChannels: number,
  padding: Padding, mask?: tf.Tensor,
): Conv {
  const [kh, kw] = kernel;
  return {
    weight: params.weight(`${name}.weight`, [kh, kw, inChannels, outChannels], kh * kw * inChannels),
    bias: params.zeros(`${name}.bias`, [outChannels]),
    padding,
    mask: mask ? params.constant(mask) : undefined,
  };
}

export function maskedWeight(conv: Conv): tf.Tensor4D {
  return (conv.mask ? tf.mul(conv.weight, conv.mask) : conv.weight) as tf.Tensor4D;
}

/** conv with explicit zero padding, stride 1: [N, H, W, in] -> [N, H', W', out]. */
export function applyConv(conv: Conv, x: tf.Tensor4D): tf.Tensor4D {
  const [top, bottom, left, right] = conv.padding;
  return conv2dWithBias(x, maskedWeight(conv), conv.bias as tf.Tensor1D, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

/** Gated activation tanh(a) * sigmoid(b), where a and b are the two channel halves: [.., 2c] -> [.., c]. */
export function gate(x: tf.Tensor4D): tf.Tensor4D {
  return gatedActivation(x);
}

/** Shifts rows down by one (zero first row): row i of the result holds row i-1 of x. */
export function shiftDown(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  return tf.concat([tf.zeros([n, 1, w, c]), tf.slice(x, [0, 0, 0, 0], [n, h - 1, w, c])], 1);
}

/** Condition inputs. `vector` is location-independent (a class one-hot or a latent), `map` is spatial. */
export type Condition = {
  vector?: tf.Tensor2D; // [N, conditionSize]
  map?: tf.Tensor4D; // [N, H, W, conditionMapChannels]
};

/** Learned projections of the condition into one layer's pre-activations (the paper's V^T h and V * s). */
export interface ConditionProjection {
  vector?: tf.Variable; // [conditionSize, out]
  map?: Conv; // 1x1: [1, 1, mapChannels, out]
}

export function createConditionProjection(
  params: ParamStore, name: string, conditionSize: number, mapChannels: number, outChannels: number,
): ConditionProjection {
  return {
    vector: conditionSize > 0 ? params.weight(`${name}.vector`, [conditionSize, outChannels], conditionSize) : undefined,
    map: mapChannels > 0 ? createConv(params, `${name}.map`, [1, 1], mapChannels, outChannels, [0, 0, 0, 0]) : undefined,
  };
}

/** Adds the projected condition to pre-activations x: [N, H, W, out]. */
export function addCondition(x: tf.Tensor4D, projection: ConditionProjection, condition: Condition | undefined): tf.Tensor4D {
  let y = x;
  if (projection.vector) {
    if (!condition?.vector) throw new Error('this model is conditional: pass condition.vector (e.g. one-hot class labels)');
    const bias = tf.matMul(condition.vector, projection.vector); // [N, out]
    y = tf.add(y, tf.reshape(bias, [bias.shape[0], 1, 1, -1]));
  }
  if (projection.map) {
    if (!condition?.map) throw new Error('this model is conditional on a spatial map: pass condition.map');
    y = tf.add(y, applyConv(projection.map, condition.map));
  }
  return y;
}

/** Scales raw pixel values 0..255 to the network's input range [-1, 1]. */
export function scalePixels(images: tf.Tensor4D): tf.Tensor4D {
  return tf.sub(tf.div(tf.cast(images, 'float32'), 127.5), 1);
}

/** [N, H, W, C*256] -> [N, H, W, C, 256], channel c*256+v holding the logit of value v for colour c. */
export function toLogits(x: tf.Tensor4D, colours: number): tf.Tensor5D {
  const [n, h, w] = x.shape;
  return tf.reshape(x, [n, h, w, colours, 256]);
}
