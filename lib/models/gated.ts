/**
 * # Gated PixelCNN (and its class- or map-conditional form)
 *
 * van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves, Kavukcuoglu 2016, "Conditional Image
 * Generation with PixelCNN Decoders", figure 2 (https://arxiv.org/abs/1606.05328).
 *
 * Each layer has two stacks. The **vertical** stack convolves with a cropped (k//2+1) x k kernel that
 * covers the current row and the rows above; its features are shifted down one row before a 1x1
 * link feeds them to the **horizontal** stack, so the horizontal stack at row i only receives rows
 * < i from it. The horizontal stack convolves with a 1 x (k//2+1) kernel over the current pixel and
 * the pixels to its left (the current pixel's tap under the colour mask). Both use the gated unit
 * tanh(W_f * x) . sigmoid(W_g * x); the horizontal stack has a 1x1 output convolution and a residual
 * connection (not in the first layer, which must not pass the current subpixel on).
 *
 * Cropped kernels and shifts replace full kernels multiplied by masks, so no work is spent on zeros.
 *
 * `GatedNetwork.blindSpot` builds the original PyTorch project's variant: a vertical stack of
 * (k//2) x k kernels over the rows strictly above, not shifted. Its receptive field misses pixels
 * above and to the right (the blind spot shown in notebook 05-blind-spot).
 *
 * Conditioning (kinds 'conditional', conditional.ts, and the PixelVAE's decoder): a vector h (class one-hot, or a latent) adds V^T h inside every
 * gate (location-independent); a spatial map s adds a 1x1 convolution V * s (location-dependent).
 */
import * as tf from '@tensorflow/tfjs';
import { GatedIncremental } from './gated-incremental';
import type { IncrementalBatch } from './incremental';
import {
  addCondition, applyConv, Condition, ConditionProjection, Conv, createConditionProjection, createConv,
  gate, scalePixels, shiftDown, toLogits,
} from './layers';
import { colourMask } from './masks';
import { ConditionShape } from './model';
import { ParamStore } from './params';
import { PixelCnnBase, PixelCnnFields, UNCONDITIONAL_PIXELCNN } from './pixelcnn';
import type { ModelConfig } from './registry';
import { ModelSpec, PixelCnnSize, SharedConfig } from './spec';

export interface GatedConfig extends SharedConfig, PixelCnnFields {
  kind: 'gated';
}

export const gatedSpec: ModelSpec<GatedConfig> = {
  kind: 'gated',
  name: 'gated PixelCNN',
  summary: 'gated PixelCNN without the blind spot (van den Oord et al. 2016, Conditional Image Generation with PixelCNN Decoders)',
  ...UNCONDITIONAL_PIXELCNN,
  build: (config) => new GatedPixelCNN(config, { blindSpot: false, conditionSize: 0, conditionMapChannels: 0, leak: config.leak }),
};

/** How the network is wired, beyond its size: the kinds that build it (and the PixelVAE) set these. */
export interface GatedNetwork {
  /** The original PyTorch project's vertical stack, which leaves a blind spot (gated-blindspot.ts). */
  blindSpot: boolean;
  /** Length of the condition vector (classes, or a PixelVAE's z); 0 = none. */
  conditionSize: number;
  /** Channels of the condition map (a PixelVAE decoder's); 0 = none. */
  conditionMapChannels: number;
  /** The diagnostics' broken variant whose first layer sees what it predicts (PixelCnnFields.leak). */
  leak: boolean;
}

export interface GatedLayer {
  vertical: Conv; // [(k//2+1) | k//2, k, vIn, 2c]
  horizontal: Conv; // [1, k//2+1, hIn, 2c]; the last tap is the current pixel (colour masked)
  link: Conv; // 1x1 [2c, 2c]: vertical features into the horizontal stack
  output: Conv; // 1x1 [c, c], colour mask B
  /** Absent in the last layer, whose gated vertical output nothing reads. */
  verticalCondition?: ConditionProjection;
  horizontalCondition: ConditionProjection;
  residual: boolean;
}

export class GatedPixelCNN extends PixelCnnBase {
  readonly params: ParamStore;
  readonly layers: GatedLayer[] = [];
  readonly output: Conv;
  /** True for the original project's variant with a blind spot. */
  readonly blindSpot: boolean;
  readonly conditionShape: ConditionShape;

  /** `config` gives the size (a PixelVAE passes its own config, whose -x -k -c are its PixelCNN's). */
  constructor(readonly config: ModelConfig & PixelCnnSize, readonly network: GatedNetwork) {
    super();
    const { colours, channels: c, kernelSize: k, layers } = config;
    this.blindSpot = network.blindSpot;
    this.conditionShape = { vector: network.conditionSize, map: network.conditionMapChannels };
    this.params = new ParamStore(config.seed);
    const p = Math.floor(k / 2);
    for (let l = 0; l < layers; l++) {
      const inChannels = l === 0 ? colours : c;
      const centreType = l === 0 && !network.leak ? 'A' : 'B';
      // Horizontal mask: taps left of the current pixel are free; the current pixel's tap is colour masked.
      const horizontalMask = new Float32Array((p + 1) * inChannels * 2 * c).fill(1);
      horizontalMask.set(colourMask(centreType, inChannels, 2 * c, colours, c), p * inChannels * 2 * c);
      const verticalRows = this.blindSpot ? p : p + 1;
      this.layers.push({
        vertical: createConv(this.params, `layer${l}.vertical`, [verticalRows, k], inChannels, 2 * c, [p, 0, p, p]),
        horizontal: createConv(this.params, `layer${l}.horizontal`, [1, p + 1], inChannels, 2 * c, [0, 0, p, 0],
          tf.tensor4d(horizontalMask, [1, p + 1, inChannels, 2 * c])),
        link: createConv(this.params, `layer${l}.link`, [1, 1], 2 * c, 2 * c, [0, 0, 0, 0]),
        output: createConv(this.params, `layer${l}.output`, [1, 1], c, c, [0, 0, 0, 0],
          tf.tensor4d(colourMask('B', c, c, colours), [1, 1, c, c])),
        verticalCondition: l === layers - 1 ? undefined : createConditionProjection(this.params, `layer${l}.vcond`, network.conditionSize, network.conditionMapChannels, 2 * c),
        horizontalCondition: createConditionProjection(this.params, `layer${l}.hcond`, network.conditionSize, network.conditionMapChannels, 2 * c),
        residual: l > 0,
      });
    }
    const outMask = tf.tensor4d(colourMask('B', c, colours * 256, colours), [1, 1, c, colours * 256]);
    this.output = createConv(this.params, 'output', [1, 1], c, colours * 256, [0, 0, 0, 0], outMask);
  }

  incremental(batch: IncrementalBatch): GatedIncremental {
    return new GatedIncremental(this, batch);
  }

  /** Vertical-stack convolution; in the blind-spot variant row i sees rows i-k//2 .. i-1 only. */
  verticalConv(layer: GatedLayer, v: tf.Tensor4D): tf.Tensor4D {
    const y = applyConv(layer.vertical, v); // paper: [N, H, W, 2c]; blind spot: [N, H+1, W, 2c]
    if (!this.blindSpot) return y;
    const [n, , w, ch] = y.shape;
    return tf.slice(y, [0, 0, 0, 0], [n, v.shape[1], w, ch]); // [N, H, W, 2c]
  }

  /** One gated layer on full images: (v, h) -> (v', h'). */
  layer(layer: GatedLayer, v: tf.Tensor4D, h: tf.Tensor4D, condition?: Condition): [tf.Tensor4D, tf.Tensor4D] {
    const verticalFeatures = this.verticalConv(layer, v); // [N, H, W, 2c]
    const linked = applyConv(layer.link, this.blindSpot ? verticalFeatures : shiftDown(verticalFeatures)); // [N, H, W, 2c]
    const horizontalPre = addCondition(tf.add(applyConv(layer.horizontal, h), linked), layer.horizontalCondition, condition);
    const horizontalOut = applyConv(layer.output, gate(horizontalPre)); // [N, H, W, c]
    const verticalOut = layer.verticalCondition ? gate(addCondition(verticalFeatures, layer.verticalCondition, condition)) : v;
    return [verticalOut, layer.residual ? tf.add(h, horizontalOut) : horizontalOut];
  }

  logits(images: tf.Tensor4D, condition?: Condition): tf.Tensor5D {
    return tf.tidy(() => {
      const x = scalePixels(images); // [N, H, W, C]
      let v = x;
      let h = x;
      for (const layer of this.layers) [v, h] = this.layer(layer, v, h, condition); // [N, H, W, c] each
      return toLogits(applyConv(this.output, tf.relu(h)), this.config.colours); // [N, H, W, C, 256]
    });
  }
}
