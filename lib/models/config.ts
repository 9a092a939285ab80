/**
 * Model configurations: plain data, with defaults equal to the original project's MNIST runs
 * (`train-cnn.py -x 5 -k 5 -c 30`). Validation turns odd options into errors that name the field.
 */

export const MODEL_KINDS = ['simple', 'gated', 'gated-blindspot', 'conditional'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

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
  /** Length of the location-independent condition vector (class one-hot or a latent); 0 = none. */
  conditionSize: number;
  /** Channels of the location-dependent condition map (H x W x mapChannels); 0 = none. */
  conditionMapChannels: number;
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
  leak: false,
  seed: 0,
};

export function modelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  const config = { ...DEFAULT_MODEL_CONFIG, ...overrides };
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
}
