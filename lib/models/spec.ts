/**
 * What a model kind declares about itself, in its own module (simple.ts, gated.ts, gated-blindspot.ts,
 * conditional.ts, vae-kinds.ts), and what the rest of the project reads instead of asking which kind a model
 * is: its config fields with defaults, flags and checks, a one-line summary and description, and how to build
 * it. What a built model does (its objective, conditions, sampling, cached forward) is the PixelModel
 * interface (model.ts). lib/models/registry.ts lists the kinds.
 */
import type { PixelModel } from './model';

/** The fields every kind's config has. */
export interface SharedConfig {
  kind: string;
  /** Image shape the model is built for. */
  height: number;
  width: number;
  /** Colour channels of the data (1 for MNIST, 3 for CIFAR). */
  colours: number;
  /** Seed for the weight initialisation. */
  seed: number;
}

/** The PixelCNN's size: the original's `-x`, `-k`, `-c` (a PixelVAE's are its decoder PixelCNN's). */
export interface PixelCnnSize {
  /** Number of masked / gated layers (`-x`). */
  layers: number;
  /** Kernel size (`-k`), odd. */
  kernelSize: number;
  /** Hidden channels per layer (`-c`), divisible by `colours`. */
  channels: number;
}

/** What a model config needs to know of its data: image shape, and the number of classes (0: unlabelled). */
export interface DataShape {
  name: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
}

/**
 * One config field a kind adds, as the command line and notebooks see it. `resumable` fields steer training
 * (an objective's schedule) and may change when a run is resumed; all others define the model.
 */
export interface ModelOption {
  field: string;
  /** commander flag, e.g. '--zsize <n>'. */
  flag: string;
  help: string;
  /** How the flag's text is read: an integer >= min, or a finite number >= min (no min: any finite number). */
  value: { type: 'integer' | 'number'; min?: number };
  resumable?: boolean;
}

export interface ModelSpec<C extends SharedConfig = SharedConfig> {
  readonly kind: C['kind'];
  /** What notebooks and reports call it, e.g. 'gated PixelCNN'. */
  readonly name: string;
  /** One line: what the model is and where it comes from. */
  readonly summary: string;
  /** The kind's fields beyond `SharedConfig`, at their defaults (the original's MNIST runs). */
  readonly defaults: Omit<C, keyof SharedConfig>;
  /** Fields with a command-line flag of their own beyond -x -k -c --seed (see lib/cli/options.ts). */
  readonly options: readonly ModelOption[];
  /**
   * Fields an older checkpoint may hold that this kind does not have (configs were flat: every kind's fields),
   * with the only value they may take (undefined: any value, accepted from checkpoints only); they are dropped,
   * another value is refused.
   */
  readonly retired?: Readonly<Record<string, unknown>>;
  /** Completes fields that follow from the data (a class-conditional model's classes); `data` is the training set's shape. */
  fit?(config: C, data: DataShape): C;
  /** Throws an error naming the field unless the config is valid (shared fields are checked before). */
  validate(config: C): void;
  /** A line for notebooks and reports: the kind and its sizes. */
  describe(config: C): string;
  build(config: C): PixelModel;
}

/** Throws unless config[field] is an integer >= min (the message names the field and, if given, its flag). */
export function checkInteger(config: object, field: string, min: number, flag?: string): void {
  const value = (config as Record<string, unknown>)[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new Error(`model config: ${field}${flag ? ` (${flag})` : ''} must be ${what}, got ${String(value)}`);
  }
}

/** Throws unless config[field] is a finite number >= min (any finite number without min). */
export function checkNumber(config: object, field: string, what: string, min?: number): void {
  const value = (config as Record<string, unknown>)[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min)) {
    throw new Error(`model config: ${field} must be a finite number${min !== undefined ? ` >= ${min}` : ''} (${what}), got ${String(value)}`);
  }
}

/** The checks every PixelCNN's size needs: positive integers, an odd kernel, channels in colour groups. */
export function validatePixelCnnSize(config: PixelCnnSize & SharedConfig): void {
  checkInteger(config, 'layers', 1, '-x');
  checkInteger(config, 'kernelSize', 1, '-k');
  checkInteger(config, 'channels', 1, '-c');
  if (config.kernelSize % 2 === 0) {
    throw new Error(`model config: kernelSize (-k) must be odd so the kernel has a centre pixel, got ${config.kernelSize}`);
  }
  if (config.channels % config.colours !== 0) {
    throw new Error(`model config: channels (-c) must be divisible by colours (${config.colours}) so each colour gets its own channel group, got ${config.channels}`);
  }
}

/** `layers, kernel, channels` as notebooks print them. */
export function describeSize(config: PixelCnnSize): string {
  return `${config.layers} layers, kernel ${config.kernelSize}, ${config.channels} channels`;
}

/** The defaults of the original's MNIST runs (`train-cnn.py -x 5 -k 5 -c 30`). */
export const DEFAULT_PIXELCNN_SIZE: PixelCnnSize = { layers: 5, kernelSize: 5, channels: 30 };
