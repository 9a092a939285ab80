/**
 * The one configuration object a notebook edits, its smoke-test substitute (`PIXEL_SMOKE=1`), its
 * validation, and the identity that decides whether a saved checkpoint may be reused.
 *
 * Node only (paths).
 */
import * as path from 'path';
import type { TaskName } from '../data/dataset';
import { ModelConfig, ModelInput, modelOptions } from '../models';
import type { TrainConfig } from '../train/config';
import { smokeRequested } from '../runs/location';

export interface NotebookConfig {
  /** Names the notebook in messages and reports (e.g. "02-gated"). */
  name: string;
  /** The dataset: 'mnist' (default runs), 'fashion-mnist', 'cifar-gs', ... (see lib/data). */
  dataset: TaskName;
  /**
   * The model (`-m`, `-x`, `-k`, `-c` of the original's train-cnn.py): its kind and any of that kind's fields
   * (lib/models: the rest are the kind's defaults, the image shape comes from the dataset); seed = weight
   * initialisation. A PixelVAE's options against posterior collapse (klWarmupSteps, freeBits) are its fields
   * too; the plain PixelCNNs' leak: true builds the deliberately broken model of notebook 05.
   */
  model: ModelInput;
  /**
   * Training (`-e`, `-b`, `-l`), scaled down by `limit` (training images per epoch) and `testLimit`
   * (test images per evaluation); leave them out for full epochs. seed = data order.
   */
  train: { epochs: number; batchSize: number; learningRate: number; limit?: number; testLimit?: number; evaluateEvery?: number; seed?: number };
  /**
   * The sample grid: `rows` (even) x `cols`; the top half sampled from scratch, the bottom half completing
   * the first `cols` test images. `classColumns`: conditional models also get a grid with one row per
   * class and this many columns.
   */
  grid: { rows: number; cols: number; seed: number; classColumns?: number };
  /**
   * PixelVAE notebooks (lib/notebook/vae.ts): `reconstructions` test images, each next to `samplesPerImage`
   * samples given its encoder mean; `latentRows` z drawn from the prior, `samplesPerImage` samples each;
   * `interpolationPoints` latents between the encoder means of test images `interpolate[0]` and `[1]`.
   */
  vae?: { reconstructions: number; samplesPerImage: number; latentRows: number; interpolationPoints: number; interpolate: [number, number]; seed: number };
  /** Checkpoint file, relative to the project root (written after every epoch). */
  checkpoint: string;
  /**
   * true: if `checkpoint` was saved from this same configuration (dataset, model, training), load it
   * instead of training (an unfinished one is resumed). Any difference => train from scratch, saying why.
   */
  reuseCheckpoint: boolean;
  /** Seconds between live chart updates while training (default 5). */
  chartEverySeconds?: number;
  /**
   * The recorded runs drawn beside this one (nb.train) and tabled with it (nb.showResults): a number, this
   * notebook's newest other runs (default 3; 0 for none), or a list of run ids (or run folders, or
   * `notebook:NAME` for another notebook's newest run). `npm run runs` lists them.
   */
  compare?: number | string[];
}

/** What PIXEL_SMOKE=1 swaps in: a tiny model, a few steps, a small grid, a separate checkpoint. */
export const SMOKE_SETTINGS = {
  model: { layers: 2, kernelSize: 3, channels: 8 },
  train: { epochs: 2, batchSize: 16, limit: 64, testLimit: 32, evaluateEvery: 1 },
  grid: { rows: 4, cols: 4, classColumns: 2 },
  vae: { reconstructions: 2, samplesPerImage: 2, latentRows: 2, interpolationPoints: 3 },
  chartEverySeconds: 1,
} as const;

/** The checkpoint a smoke run uses: a `smoke/` folder next to the real one, which it never overwrites. */
export function smokeCheckpointPath(checkpoint: string): string {
  return path.join(path.dirname(checkpoint), 'smoke', path.basename(checkpoint));
}

/** The configuration to run: `config` itself, or with the smoke settings when PIXEL_SMOKE=1. */
export function effectiveConfig(config: NotebookConfig, env: NodeJS.ProcessEnv = process.env): { config: NotebookConfig; smoke: boolean } {
  if (!smokeRequested(env)) return { config: structuredClone(config), smoke: false };
  return {
    smoke: true,
    config: {
      ...structuredClone(config),
      model: { ...config.model, ...SMOKE_SETTINGS.model },
      train: { ...config.train, ...SMOKE_SETTINGS.train },
      grid: { ...config.grid, ...SMOKE_SETTINGS.grid },
      ...(config.vae ? { vae: { ...structuredClone(config.vae), ...SMOKE_SETTINGS.vae } } : {}),
      checkpoint: smokeCheckpointPath(config.checkpoint),
      chartEverySeconds: SMOKE_SETTINGS.chartEverySeconds,
    },
  };
}

function fail(field: string, message: string): never {
  throw new Error(`notebook config: ${field} ${message}`);
}

function checkInteger(value: unknown, field: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(field, `must be an integer >= ${min}, got ${String(value)}`);
}

/** Checks the fields only the notebook layer knows (model and training are checked by lib/models, lib/train). */
export function validateNotebookConfig(config: NotebookConfig): void {
  if (typeof config.name !== 'string' || config.name.trim() === '') fail('name', 'must be a non-empty string');
  if (typeof config.checkpoint !== 'string' || config.checkpoint.trim() === '') fail('checkpoint', 'must be a file path');
  if (typeof config.reuseCheckpoint !== 'boolean') fail('reuseCheckpoint', `must be true or false, got ${String(config.reuseCheckpoint)}`);
  if (!config.model || !config.train || !config.grid) fail('model/train/grid', 'must all be present');
  // A model's options once kept in the train config (a PixelVAE's KL schedule) would be dropped there unread.
  for (const [field, value] of Object.entries(config.train)) {
    const moved = modelOptions().find(({ option }) => option.field === field);
    if (moved) {
      fail(`train.${field}`, `is an option of the model (${moved.kinds.join(', ')}) now: move it to model, ` +
        `e.g. model: { kind: '${moved.kinds[0]}', ..., ${field}: ${JSON.stringify(value)} }`);
    }
  }
  checkInteger(config.grid.rows, 'grid.rows', 2);
  if (config.grid.rows % 2 !== 0) fail('grid.rows', `must be even (top half samples, bottom half completions), got ${config.grid.rows}`);
  checkInteger(config.grid.cols, 'grid.cols', 1);
  checkInteger(config.grid.seed, 'grid.seed', 0);
  if (config.grid.classColumns !== undefined) checkInteger(config.grid.classColumns, 'grid.classColumns', 1);
  if (config.vae !== undefined) {
    for (const field of ['reconstructions', 'samplesPerImage', 'latentRows'] as const) checkInteger(config.vae[field], `vae.${field}`, 1);
    checkInteger(config.vae.interpolationPoints, 'vae.interpolationPoints', 2);
    checkInteger(config.vae.seed, 'vae.seed', 0);
    if (!Array.isArray(config.vae.interpolate) || config.vae.interpolate.length !== 2) fail('vae.interpolate', 'must be two test image indices');
    config.vae.interpolate.forEach((index, k) => checkInteger(index, `vae.interpolate[${k}]`, 0));
  }
  if (config.compare !== undefined && !Array.isArray(config.compare)) checkInteger(config.compare, 'compare', 0);
  if (Array.isArray(config.compare) && !config.compare.every((ref) => typeof ref === 'string' && ref.trim() !== '')) {
    fail('compare', `must be a number of runs or a list of run ids, got ${JSON.stringify(config.compare)}`);
  }
  if (config.chartEverySeconds !== undefined && !(config.chartEverySeconds >= 0)) {
    fail('chartEverySeconds', `must be a number >= 0, got ${String(config.chartEverySeconds)}`);
  }
}

/** The training-relevant identity of a run: what must match for a checkpoint to be reused. */
export interface RunIdentity {
  dataset: string;
  model: ModelConfig;
  train: TrainConfig;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** Differences between two identities as "field: saved -> now" lines (empty when they match). */
export function identityDifferences(saved: RunIdentity, now: RunIdentity): string[] {
  const flat = (identity: RunIdentity): Map<string, string> => {
    const out = new Map<string, string>();
    out.set('dataset', JSON.stringify(identity.dataset));
    for (const [group, value] of [['model', identity.model], ['train', identity.train]] as const) {
      for (const [key, v] of Object.entries(canonical(value) as Record<string, unknown>)) out.set(`${group}.${key}`, JSON.stringify(v));
    }
    return out;
  };
  const a = flat(saved);
  const b = flat(now);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(unset)'} -> ${b.get(k) ?? '(unset)'}`);
}
