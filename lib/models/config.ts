/**
 * Model configurations: plain data, with defaults equal to the original project's MNIST runs
 * (`train-cnn.py -x 5 -k 5 -c 30`). Validation turns odd options into errors that name the field.
 */

export const MODEL_KINDS = ['simple', 'gated', 'gated-blindspot', 'conditional', 'vae-up', 'vae-straight'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The PixelVAE kinds (lib/models/vae.ts): an encoder, a decoder and a gated PixelCNN given the decoder's condition. */
export const VAE_KINDS = ['vae-up', 'vae-straight'] as const;

export function isVaeKind(kind: string): kind is (typeof VAE_KINDS)[number] {
  return (VAE_KINDS as readonly string[]).includes(kind);
}

/** Channels of the map the `vae-up` decoder produces (the original's OUTCN). */
export const DEFAULT_VAE_MAP_CHANNELS = 64;

export interface ModelConfig {
  kind: ModelKind;
  /** Image shape the model is built for. */
  height: number;
  width: number;
  /** Colour channels of the data (1 for MNIST, 3 for CIFAR). */
  colours: number;
  /** Number of masked / gated layers (`-x`). */
  layers: number;
  /** Kernel size (`-k`), odd. */
  kernelSize: number;
  /** Hidden channels per layer (`-c`), divisible by `colours`. */
  channels: number;
  /**
   * Length of the location-independent condition vector (class one-hot or a latent); 0 = none.
   * For `vae-straight` it is the latent size (z itself is the PixelCNN's condition).
   */
  conditionSize: number;
  /**
   * Channels of the location-dependent condition map (H x W x mapChannels); 0 = none.
   * For `vae-up` it is the channels of the map the decoder makes from z (default 64, the original's).
   */
  conditionMapChannels: number;
  /** PixelVAE: length of the latent z (`--zsize`). Ignored by the other kinds. */
  latentSize: number;
  /**
   * PixelVAE: extra encoder and decoder blocks at the lowest resolution, in addition to the three
   * resolution blocks (`--vae-depth`, the original's meaning and default 0). Ignored by the other kinds.
   */
  vaeDepth: number;
  /**
   * PixelVAE: channels of the widest encoder/decoder block (`--vae-channels`); the other two resolution
   * blocks get 1/2 and 1/8 of it (128 -> 16, 64, 128 as in the original). Ignored by the other kinds.
   */
  vaeChannels: number;
  /**
   * PixelVAE: the log-variance q(z|x) starts with (the encoder output's bias for it). 0, the default, starts at the
   * prior's width, so z is mostly noise at first; a negative value (e.g. -4: sigma 0.14) starts narrow, so z carries
   * the encoder's reading of the image from the first step (against posterior collapse; measured in notebook 04).
   * Only the initial weights depend on it. Ignored by the other kinds.
   */
  posteriorLogVarInit: number;
  /**
   * Deliberately broken variant for the diagnostics: the first layer sees the subpixel it predicts.
   * Never use it for real work.
   */
  leak: boolean;
  /** Seed for the weight initialisation. */
  seed: number;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  kind: 'gated',
  height: 28,
  width: 28,
  colours: 1,
  layers: 5,
  kernelSize: 5,
  channels: 30,
  conditionSize: 0,
  conditionMapChannels: 0,
  latentSize: 32,
  vaeDepth: 0,
  vaeChannels: 128,
  posteriorLogVarInit: 0,
  leak: false,
  seed: 0,
};

export function modelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) as Partial<ModelConfig>;
  const config = { ...DEFAULT_MODEL_CONFIG, ...given };
  // A PixelVAE's PixelCNN condition follows from the VAE's options unless given explicitly.
  if (config.kind === 'vae-straight' && given.conditionSize === undefined) config.conditionSize = config.latentSize;
  if (config.kind === 'vae-up' && given.conditionMapChannels === undefined) config.conditionMapChannels = DEFAULT_VAE_MAP_CHANNELS;
  validateModelConfig(config);
  return config;
}

function positiveInteger(config: ModelConfig, field: keyof ModelConfig, allowZero = false): void {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new Error(`model config: ${field} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
}

export function validateModelConfig(config: ModelConfig): void {
  if (!(MODEL_KINDS as readonly string[]).includes(config.kind)) {
    throw new Error(`model config: kind must be one of ${MODEL_KINDS.join(', ')}, got ${String(config.kind)}`);
  }
  for (const field of ['height', 'width', 'colours', 'layers', 'kernelSize', 'channels'] as const) positiveInteger(config, field);
  positiveInteger(config, 'conditionSize', true);
  positiveInteger(config, 'conditionMapChannels', true);
  if (config.kernelSize % 2 === 0) {
    throw new Error(`model config: kernelSize (-k) must be odd so the kernel has a centre pixel, got ${config.kernelSize}`);
  }
  if (config.channels % config.colours !== 0) {
    throw new Error(`model config: channels (-c) must be divisible by colours (${config.colours}) so each colour gets its own channel group, got ${config.channels}`);
  }
  if (config.kind === 'conditional' && config.conditionSize === 0 && config.conditionMapChannels === 0) {
    throw new Error('model config: a conditional model needs conditionSize (number of classes) or conditionMapChannels > 0');
  }
  if (config.kind === 'simple' && (config.conditionSize > 0 || config.conditionMapChannels > 0)) {
    throw new Error('model config: the simple model takes no condition; use kind "conditional"');
  }
  if (isVaeKind(config.kind)) validateVaeConfig(config);
}

/** The PixelVAE fields are checked only for the VAE kinds, so configs saved before they existed still load. */
function validateVaeConfig(config: ModelConfig): void {
  positiveInteger(config, 'latentSize');
  positiveInteger(config, 'vaeDepth', true);
  positiveInteger(config, 'vaeChannels');
  // Absent from configs saved before it existed (their weights are loaded, so its value does not matter there).
  if (config.posteriorLogVarInit !== undefined && !Number.isFinite(config.posteriorLogVarInit)) {
    throw new Error(`model config: posteriorLogVarInit must be a finite number (the log-variance q(z|x) starts with), got ${String(config.posteriorLogVarInit)}`);
  }
  if (config.leak) throw new Error(`model config: leak is a diagnostic of the plain PixelCNNs; ${config.kind} does not support it`);
  if (config.kind === 'vae-straight') {
    if (config.conditionSize !== config.latentSize) {
      throw new Error(`model config: vae-straight feeds z itself to the PixelCNN, so conditionSize must equal latentSize (--zsize, ${config.latentSize}), got ${config.conditionSize}`);
    }
    if (config.conditionMapChannels !== 0) throw new Error(`model config: vae-straight takes no condition map; conditionMapChannels must be 0, got ${config.conditionMapChannels}`);
  } else {
    if (config.conditionMapChannels < 1) throw new Error(`model config: vae-up needs conditionMapChannels > 0 (channels of the decoder's map), got ${config.conditionMapChannels}`);
    if (config.conditionSize !== 0) throw new Error(`model config: vae-up conditions on the decoder's map only; conditionSize must be 0 (no class labels), got ${config.conditionSize}`);
  }
}
