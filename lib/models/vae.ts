/**
 * # PixelVAE
 *
 * Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez, Courville 2016, "PixelVAE: A Latent Variable Model for
 * Natural Images" (https://arxiv.org/abs/1611.05013).
 *
 * A convolutional **encoder** maps an image x to a diagonal Gaussian posterior q(z|x) = N(mean, exp(logVar));
 * z is drawn with the reparameterisation z = mean + exp(logVar / 2) * eps, eps ~ N(0, I) from a seed; a
 * **decoder** turns z into a condition; a gated PixelCNN (gated.ts, conditional mode) models
 * p(x | z) autoregressively given that condition. Training maximises the ELBO
 *   log p(x) >= E_q[log p(x | z)] - KL(q(z|x) || N(0, I)),
 * both terms in nats (lib/train/objective.ts divides them by H*W*C for nats per dimension).
 *
 * Two variants, after the original PyTorch project's `train-vae.py`:
 * - `vae-up`: z -> linear -> ReLU -> the lowest-resolution feature map -> `vaeDepth` blocks -> three
 *   (nearest-neighbour upsample, block) stages back to H x W -> 1x1 conv -> sigmoid: a map of
 *   `conditionMapChannels` channels that every gated layer adds through 1x1 convolutions.
 * - `vae-straight`: z itself is the location-independent condition vector of every gated layer.
 * The encoder is the same for both: three (block, 2x2 max pool) stages, `vaeDepth` more blocks, a linear
 * layer to [mean, logVar]. A block is a 1x1 conv to its width, then three 3x3 convs with ReLU (the
 * original's `util.Block` without residual). Pooling rounds up, so any image size works (14 -> 7 -> 4 -> 2).
 *
 * Causality: the encoder sees the whole image, so `logits(images, condition)` is the PixelCNN given a
 * condition computed elsewhere; only that part is autoregressive. Samplers (lib/sample) get that condition
 * from `scratchCondition` (z from the prior, `priorLatent`) or `completionCondition` (z inferred by the encoder
 * from the visible top rows, `encodeTop`), and the PixelCNN's cached forward pass from `incremental`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from '../train/objective';
import { GatedPixelCNN } from './gated';
import type { Incremental, IncrementalBatch } from './incremental';
import { applyConv, Condition, Conv, Padding, scalePixels } from './layers';
import { CompletionRequest, ConditionShape, LatentSource, PixelModel, ScratchRequest } from './model';
import { ParamStore } from './params';
import type { VaeConfig } from './vae-kinds';
import { reparameterise, seededNormal, vaeObjective } from './vae-objective';

/** Number of resolution stages (each halves H and W in the encoder, doubles them in the decoder). */
const STAGES = 3;
/** 3x3 convolutions per block, as in the original. */
const CONVS_PER_BLOCK = 3;

/** The diagonal Gaussian posterior q(z|x). */
export interface Posterior {
  mean: tf.Tensor2D; // [N, Z]
  logVar: tf.Tensor2D; // [N, Z], log of the variance
}

interface Block {
  project: Conv; // 1x1 [in, out]
  convs: Conv[]; // 3x3 [out, out] each
}

interface Linear {
  weight: tf.Variable; // [in, out]
  bias: tf.Variable; // [out]
}

/** A ParamStore that also owns the PixelCNN's store, so one `params` holds (and frees) every weight. */
class VaeParams extends ParamStore {
  private readonly adopted: ParamStore[] = [];

  adopt(store: ParamStore): void {
    for (const [name, variable] of store.variables) {
      if (this.variables.has(name)) throw new Error(`duplicate parameter name ${name}`);
      this.variables.set(name, variable);
    }
    this.adopted.push(store);
  }

  override dispose(): void {
    for (const store of this.adopted) {
      for (const name of store.variables.keys()) this.variables.delete(name);
      store.dispose();
    }
    this.adopted.length = 0;
    super.dispose();
  }
}

/**
 * Weights uniform in +-sqrt(gain * 3 / fanIn), i.e. variance gain / fanIn: gain 2 (He) before a ReLU, 1
 * otherwise. (ParamStore's default, PyTorch's +-1/sqrt(fanIn), shrinks the signal ~6x per ReLU conv: after
 * the encoder's 12 convolutions q(z|x) would be the prior for every image and the encoder would get no
 * gradient to speak of.) `ParamStore.weight` takes the bound as 1/sqrt(fanIn), hence fanIn / (3 * gain).
 */
function scaledWeight(params: ParamStore, name: string, shape: number[], fanIn: number, gain: number): tf.Variable {
  return params.weight(name, shape, fanIn / (3 * gain));
}

function conv(params: ParamStore, name: string, size: number, inChannels: number, out: number, gain: number): Conv {
  const p = Math.floor(size / 2);
  const padding: Padding = [p, p, p, p];
  return {
    weight: scaledWeight(params, `${name}.weight`, [size, size, inChannels, out], size * size * inChannels, gain),
    bias: params.zeros(`${name}.bias`, [out]),
    padding,
  };
}

/** H x W at each stage: sizes[0] is the image, sizes[s + 1] = ceil(sizes[s] / 2). */
function stageSizes(height: number, width: number): [number, number][] {
  const sizes: [number, number][] = [[height, width]];
  for (let s = 0; s < STAGES; s++) sizes.push([Math.ceil(sizes[s][0] / 2), Math.ceil(sizes[s][1] / 2)]);
  return sizes;
}

/** Block widths per stage: the original's 16, 64, 128 for vaeChannels = 128. */
function stageWidths(vaeChannels: number): number[] {
  return [Math.max(1, Math.ceil(vaeChannels / 8)), Math.max(1, Math.ceil(vaeChannels / 2)), vaeChannels];
}

/** Nearest-neighbour upsampling by 2 (each value repeated 2x2), cropped to [h, w]: [N, h', w', C] -> [N, h, w, C]. */
function upsampleTo(x: tf.Tensor4D, [h, w]: [number, number]): tf.Tensor4D {
  const [n, h0, w0, c] = x.shape;
  const doubled = tf.image.resizeNearestNeighbor(x, [2 * h0, 2 * w0]); // [N, 2h', 2w', C], source index floor(i / 2)
  return tf.slice(doubled, [0, 0, 0, 0], [n, h, w, c]); // [N, h, w, C]
}

export class PixelVAE implements PixelModel {
  readonly params: ParamStore;
  readonly classes = 0;
  readonly latentSources: readonly LatentSource[] = ['given rows', 'whole image'];
  /** The gated PixelCNN p(x | z): give it to lib/sample together with `decoderCondition(z)`. */
  readonly pixelModel: GatedPixelCNN;
  readonly encoderBlocks: Block[] = [];
  readonly encoderOutput: Linear; // [bottom H*W*width, 2Z]
  /** vae-up only (empty / undefined for vae-straight). */
  readonly decoderInput?: Linear; // [Z, bottom H*W*width]
  readonly decoderBlocks: Block[] = [];
  readonly decoderOutput?: Conv; // 1x1 [widths[0], mapChannels]
  private readonly sizes: [number, number][];

  constructor(readonly config: VaeConfig) {
    const { height, width, colours, latentSize: z, vaeDepth, vaeChannels } = config;
    // The PixelCNN is a conditional gated network given z itself (vae-straight) or the decoder's map (vae-up).
    const up = config.kind === 'vae-up';
    this.pixelModel = new GatedPixelCNN(config, {
      blindSpot: false, conditionSize: up ? 0 : z, conditionMapChannels: up ? config.conditionMapChannels : 0, leak: false,
    });
    const params = new VaeParams(config.seed + 0x5eed); // a weight stream distinct from the PixelCNN's
    this.params = params;
    this.sizes = stageSizes(height, width);
    const widths = stageWidths(vaeChannels);
    const [bh, bw] = this.sizes[STAGES];
    const bottom = bh * bw * widths[STAGES - 1];

    const block = (name: string, inChannels: number, out: number): Block => ({
      project: conv(params, `${name}.project`, 1, inChannels, out, 1),
      convs: Array.from({ length: CONVS_PER_BLOCK }, (_, i) => conv(params, `${name}.conv${i}`, 3, out, out, 2)),
    });
    const linear = (name: string, inSize: number, out: number, gain: number): Linear => ({
      weight: scaledWeight(params, `${name}.weight`, [inSize, out], inSize, gain), bias: params.zeros(`${name}.bias`, [out]),
    });

    for (let s = 0; s < STAGES; s++) this.encoderBlocks.push(block(`encoder.block${s}`, s === 0 ? colours : widths[s - 1], widths[s]));
    for (let d = 0; d < vaeDepth; d++) this.encoderBlocks.push(block(`encoder.deep${d}`, widths[STAGES - 1], widths[STAGES - 1]));
    // PyTorch's default scale (gain 1/3) for the posterior: q(z|x) starts near the prior, the KL near 0.
    this.encoderOutput = linear('encoder.output', bottom, 2 * z, 1 / 3);
    const logVarInit = config.posteriorLogVarInit ?? 0;
    if (logVarInit !== 0) {
      const bias = this.encoderOutput.bias; // [2Z]: the means' biases, then the log-variances'
      tf.tidy(() => bias.assign(tf.concat([tf.zeros([z]), tf.fill([z], logVarInit)])));
    }

    if (config.kind === 'vae-up') {
      this.decoderInput = linear('decoder.input', z, bottom, 2);
      for (let d = 0; d < vaeDepth; d++) this.decoderBlocks.push(block(`decoder.deep${d}`, widths[STAGES - 1], widths[STAGES - 1]));
      // Original: Block(c, c), Block(c, b), Block(b, a) after each upsampling; here widths[2], widths[1], widths[0].
      for (let s = STAGES - 1; s >= 0; s--) this.decoderBlocks.push(block(`decoder.block${s}`, widths[Math.min(s + 1, STAGES - 1)], widths[s]));
      this.decoderOutput = conv(params, 'decoder.output', 1, widths[0], config.conditionMapChannels, 1);
    }
    params.adopt(this.pixelModel.params);
  }

  get conditionShape(): ConditionShape {
    return this.pixelModel.conditionShape;
  }

  /** The negative ELBO, with the KL warm-up and free bits of the config (vae-objective.ts). */
  objective(): Objective {
    return vaeObjective(this, this.config.seed, { klWarmupSteps: this.config.klWarmupSteps, freeBits: this.config.freeBits });
  }

  /** Samples from scratch decode z drawn from the prior. */
  scratchCondition(request: ScratchRequest): Condition {
    return tf.tidy(() => this.decoderCondition(this.priorLatent(request.count, request.seed)));
  }

  /** Completions decode the encoder's mean for the given rows, or for the whole image (a reconstruction through z). */
  completionCondition(request: CompletionRequest): Condition {
    const rows = request.latentFrom === 'whole image' ? this.config.height : request.givenRows;
    return tf.tidy(() => this.decoderCondition(this.encodeTop(request.images, rows)));
  }

  /** The PixelCNN's cached forward pass; its condition (the decoder's) is part of the batch. */
  incremental(batch: IncrementalBatch): Incremental {
    return this.pixelModel.incremental(batch);
  }

  private applyBlock(block: Block, x: tf.Tensor4D): tf.Tensor4D {
    let y = applyConv(block.project, x); // [N, h, w, out]
    for (const conv of block.convs) y = tf.relu(applyConv(conv, y)); // [N, h, w, out]
    return y;
  }

  /** Encoder: images [N, H, W, C] (raw 0..255) -> q(z|x) with mean and logVar [N, Z]. */
  encode(images: tf.Tensor4D): Posterior {
    const [mean, logVar] = tf.tidy(() => {
      let x = scalePixels(images); // [N, H, W, C] in [-1, 1]
      this.encoderBlocks.forEach((block, i) => {
        x = this.applyBlock(block, x); // [N, h, w, width]
        if (i < STAGES) x = tf.maxPool(x, 2, 2, 'same'); // [N, ceil(h/2), ceil(w/2), width]
      });
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D; // [N, bottom]
      const out = tf.add(tf.matMul(flat, this.encoderOutput.weight), this.encoderOutput.bias) as tf.Tensor2D; // [N, 2Z]
      return tf.split(out, 2, 1) as [tf.Tensor2D, tf.Tensor2D]; // [N, Z] each
    });
    return { mean, logVar };
  }

  /** Decoder: z [N, Z] -> the PixelCNN's condition (vae-up: map [N, H, W, mapChannels]; vae-straight: z). */
  decoderCondition(z: tf.Tensor2D): Condition {
    if (z.shape[1] !== this.config.latentSize) throw new Error(`PixelVAE: z has ${z.shape[1]} dimensions, the model's latentSize is ${this.config.latentSize}`);
    if (this.config.kind === 'vae-straight') return { vector: tf.clone(z) }; // [N, Z]
    const input = this.decoderInput!;
    const output = this.decoderOutput!;
    const map = tf.tidy(() => {
      const [bh, bw] = this.sizes[STAGES];
      const hidden = tf.relu(tf.add(tf.matMul(z, input.weight), input.bias)); // [N, bottom]
      let x = tf.reshape(hidden, [z.shape[0], bh, bw, -1]) as tf.Tensor4D; // [N, bh, bw, width]
      const deep = this.config.vaeDepth;
      this.decoderBlocks.forEach((block, i) => {
        if (i >= deep) x = upsampleTo(x, this.sizes[STAGES - 1 - (i - deep)]); // [N, 2x up to the encoder's stage size, width]
        x = this.applyBlock(block, x); // [N, h, w, width']
      });
      return tf.sigmoid(applyConv(output, x)); // [N, H, W, mapChannels]
    });
    return { map };
  }

  /**
   * The PixelCNN's logits given the decoder's condition: images [N, H, W, C] -> [N, H, W, C, 256]. Causal
   * for a fixed condition. The condition is required: the ELBO (encoder + decoder) is in lib/train/objective.ts.
   */
  logits(images: tf.Tensor4D, condition?: Condition): tf.Tensor5D {
    if (!condition) throw new Error('PixelVAE.logits needs the decoder condition: pass vae.decoderCondition(z) (z from encode, encodeTop or priorLatent)');
    return this.pixelModel.logits(images, condition);
  }

  /** z ~ N(0, I) for samples from scratch, drawn from `seed`: [count, Z]. */
  priorLatent(count: number, seed: number): tf.Tensor2D {
    return seededNormal([count, this.config.latentSize], seed) as tf.Tensor2D;
  }

  /**
   * z for completing images from their top `rows` rows: the rows below are set to 0 (black, MNIST's
   * background) before encoding, so the encoder sees a cut-off image. Returns the posterior mean, or a
   * posterior draw when `seed` is given: [N, Z]. (The encoder was trained on whole images only; z from
   * half images is a best guess, better than the original project's draw from the prior.)
   */
  encodeTop(images: tf.Tensor4D, rows: number, seed?: number): tf.Tensor2D {
    const [n, h, w, c] = images.shape;
    if (!Number.isInteger(rows) || rows < 0 || rows > h) throw new Error(`PixelVAE.encodeTop: rows must be an integer in 0..${h}, got ${rows}`);
    return tf.tidy(() => {
      const top = tf.slice(tf.cast(images, 'float32'), [0, 0, 0, 0], [n, rows, w, c]); // [N, rows, W, C]
      const visible = tf.concat([top, tf.zeros([n, h - rows, w, c])], 1) as tf.Tensor4D; // [N, H, W, C]
      const posterior = this.encode(visible);
      return seed === undefined ? posterior.mean : reparameterise(posterior, seed); // [N, Z]
    });
  }
}

/** The model as a PixelVAE, for what only a latent-variable model can do (reconstructions, latent walks); `what` names the caller in the error. */
export function requirePixelVAE(model: PixelModel, what: string): PixelVAE {
  if (!(model instanceof PixelVAE)) throw new Error(`${what}: the model is ${model.config.kind}, not a PixelVAE (vae-up or vae-straight)`);
  return model;
}
