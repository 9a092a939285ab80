/**
 * # The PixelVAE kinds: `vae-up` and `vae-straight`
 *
 * Gulrajani et al. 2016, "PixelVAE: A Latent Variable Model for Natural Images" (https://arxiv.org/abs/1611.05013),
 * after the original project's `train-vae.py`; the model is vae.ts, its objective vae-objective.ts. The config
 * holds the encoder/decoder's options, the decoder PixelCNN's size (-x -k -c) and the objective's options
 * against posterior collapse, which a resumed run may change.
 */
import { checkInteger, checkNumber, DEFAULT_PIXELCNN_SIZE, ModelOption, ModelSpec, PixelCnnSize, SharedConfig, validatePixelCnnSize } from './spec';
import { PixelVAE } from './vae';

interface VaeFields extends SharedConfig, PixelCnnSize {
  /** Length of the latent z (`--zsize`). */
  latentSize: number;
  /**
   * Extra encoder and decoder blocks at the lowest resolution, in addition to the three resolution blocks
   * (`--vae-depth`, the original's meaning and default 0).
   */
  vaeDepth: number;
  /**
   * Channels of the widest encoder/decoder block (`--vae-channels`); the other two resolution blocks get 1/2
   * and 1/8 of it (128 -> 16, 64, 128 as in the original).
   */
  vaeChannels: number;
  /**
   * The log-variance q(z|x) starts with (the encoder output's bias for it). 0, the default, starts at the
   * prior's width, so z is mostly noise at first; a negative value (e.g. -4: sigma 0.14) starts narrow, so z
   * carries the encoder's reading of the image from the first step (against posterior collapse; measured in
   * notebook 04). Only the initial weights depend on it.
   */
  posteriorLogVarInit: number;
  /**
   * KL warm-up (Bowman et al. 2016): the KL term's weight in the training loss rises linearly from 0 to 1 over
   * this many steps; 0 = off. Reported bits/dim stay the true negative ELBO.
   */
  klWarmupSteps: number;
  /** Free bits (Kingma et al. 2016): a floor, in nats per latent dimension, on the KL the training loss counts; 0 = off. */
  freeBits: number;
}

/** z -> a decoder map of `conditionMapChannels` channels that every gated layer adds through 1x1 convolutions. */
export interface VaeUpConfig extends VaeFields {
  kind: 'vae-up';
  /** Channels of the decoder's condition map (the original's OUTCN, 64). */
  conditionMapChannels: number;
}

/** z itself is the condition vector of every gated layer. */
export interface VaeStraightConfig extends VaeFields {
  kind: 'vae-straight';
}

export type VaeConfig = VaeUpConfig | VaeStraightConfig;

const VAE_OPTIONS: readonly ModelOption[] = [
  { field: 'latentSize', flag: '--zsize <n>', help: 'size of the latent z', value: { type: 'integer', min: 1 } },
  { field: 'vaeDepth', flag: '--vae-depth <n>', help: 'extra encoder/decoder blocks at the lowest resolution (besides the 3 resolution blocks)', value: { type: 'integer', min: 0 } },
  { field: 'vaeChannels', flag: '--vae-channels <n>', help: 'channels of the widest encoder/decoder block (the others get 1/2 and 1/8)', value: { type: 'integer', min: 1 } },
  {
    field: 'posteriorLogVarInit', flag: '--posterior-logvar-init <x>', value: { type: 'number' },
    help: 'the log-variance q(z|x) starts with (0: the prior\'s width; e.g. -4 starts narrow, against posterior collapse)',
  },
  {
    field: 'klWarmupSteps', flag: '--kl-warmup <steps>', value: { type: 'integer', min: 0 }, resumable: true,
    help: 'the KL term\'s weight rises linearly from 0 to 1 over this many steps (against posterior collapse)',
  },
  {
    field: 'freeBits', flag: '--free-bits <nats>', value: { type: 'number', min: 0 }, resumable: true,
    help: 'while training, each latent dimension\'s KL counts as at least this many nats',
  },
];

const VAE_DEFAULTS = {
  ...DEFAULT_PIXELCNN_SIZE, latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0, klWarmupSteps: 0, freeBits: 0,
};

function validateVae(config: VaeConfig): void {
  validatePixelCnnSize(config);
  checkInteger(config, 'latentSize', 1, '--zsize');
  checkInteger(config, 'vaeDepth', 0, '--vae-depth');
  checkInteger(config, 'vaeChannels', 1, '--vae-channels');
  checkNumber(config, 'posteriorLogVarInit', 'the log-variance q(z|x) starts with');
  checkInteger(config, 'klWarmupSteps', 0, '--kl-warmup');
  checkNumber(config, 'freeBits', 'nats per latent dimension', 0);
}

function describeVae(config: VaeConfig): string {
  return `${config.kind}: latent z of ${config.latentSize}, encoder/decoder widths up to ${config.vaeChannels}` +
    `${config.vaeDepth ? ` (+${config.vaeDepth} deep blocks)` : ''}` +
    `${config.kind === 'vae-up' ? `, a ${config.conditionMapChannels}-channel condition map` : ''}` +
    `${config.posteriorLogVarInit ? `, q(z|x) starting at log-variance ${config.posteriorLogVarInit}` : ''}` +
    `; gated PixelCNN ${config.layers} layers, kernel ${config.kernelSize}, ${config.channels} channels`;
}

/** Flat configs of older checkpoints carried every kind's fields; the diagnostics' leak never applied to a PixelVAE. */
const RETIRED_PIXELCNN_FIELDS = { leak: false } as const;

export const vaeUpSpec: ModelSpec<VaeUpConfig> = {
  kind: 'vae-up',
  name: 'vae-up PixelVAE',
  summary: 'PixelVAE (Gulrajani et al. 2016): z decoded to a feature map that conditions a gated PixelCNN',
  defaults: { ...VAE_DEFAULTS, conditionMapChannels: 64 },
  options: VAE_OPTIONS,
  retired: { ...RETIRED_PIXELCNN_FIELDS, conditionSize: 0 },
  validate: (config) => {
    validateVae(config);
    checkInteger(config, 'conditionMapChannels', 1);
  },
  describe: describeVae,
  build: (config) => new PixelVAE(config),
};

export const vaeStraightSpec: ModelSpec<VaeStraightConfig> = {
  kind: 'vae-straight',
  name: 'vae-straight PixelVAE',
  summary: 'PixelVAE (Gulrajani et al. 2016) whose gated PixelCNN takes z itself as its condition vector',
  defaults: VAE_DEFAULTS,
  // Older flat configs stored z's length a second time as the PixelCNN's condition size.
  retired: { ...RETIRED_PIXELCNN_FIELDS, conditionSize: undefined, conditionMapChannels: 0 },
  options: VAE_OPTIONS,
  validate: validateVae,
  describe: describeVae,
  build: (config) => new PixelVAE(config),
};
