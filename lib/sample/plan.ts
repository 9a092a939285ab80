/**
 * Sampling options, and their checked, normalised form (`SamplePlan`) that both samplers work from.
 *
 * Browser-safe: no Node-only imports.
 */
import * as tf from '@tensorflow/tfjs';
import { Mulberry32 } from '../data/random';
import type { IncrementalBatch } from '../models/incremental';
import type { PixelModel } from '../models/model';
import { checkTemperature, drawCategorical, negativeLogLikelihood, sampleStream } from './categorical';
import { eventLoopTurns } from '../train/stop';

/**
 * Per-sample condition for conditional models (`model.conditionShape`). Give `labels` (class indices of a
 * class-conditional model, turned into one-hot vectors of length `model.classes`) or `vector` ([count,
 * conditionShape.vector]); and `map` ([count, H, W, conditionShape.map]) for map-conditioned models. A model's
 * `scratchCondition` and `completionCondition` make these. Tensors passed here are read, never disposed.
 */
export interface SampleCondition {
  labels?: ArrayLike<number>;
  vector?: ArrayLike<number> | tf.Tensor2D;
  map?: ArrayLike<number> | tf.Tensor4D;
}

/**
 * Pixels that are given and kept untouched (completions). `images` holds `count` images [H, W, C] of raw
 * values 0..255 (NHWC, flattened); which of their subpixels are given is said by `rows` (the top `rows`
 * rows of every image) or by `mask` (non-zero = given), of length count*H*W*C (per sample), H*W*C or H*W
 * (the same for every sample; H*W covers all colours of a pixel).
 */
export interface GivenPixels {
  images: ArrayLike<number>;
  rows?: number;
  mask?: ArrayLike<number>;
}

export interface SampleProgress {
  /** Subpixels drawn so far, summed over samples (given subpixels are not counted). */
  done: number;
  /** Subpixels to draw in all. */
  total: number;
  /** done / total (1 when there is nothing to draw). */
  fraction: number;
}

export interface SampleOptions {
  /** Number of samples; by default taken from `given`, the condition, or 1. */
  count?: number;
  /** Run seed (default 0): sample n draws from Mulberry32(hashSeeds(seed, n)). */
  seed?: number;
  /**
   * Explicit per-sample generator seeds (instead of `seed`): sample n draws from Mulberry32(sampleSeeds[n]).
   * `streamSeeds(seed, count, first)` gives the default ones, so a batch can be split without changing samples.
   */
  sampleSeeds?: ArrayLike<number>;
  /** Softmax temperature (default 1); 0 takes the most likely value. */
  temperature?: number;
  condition?: SampleCondition;
  given?: GivenPixels;
  /** Called after every subpixel step (a few thousand times per batch at most). */
  onProgress?: (progress: SampleProgress) => void;
  /** Aborts between subpixel steps; the sampler then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface SampleResult {
  /** count * height * width * colours values 0..255, NHWC. */
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  colours: number;
}

/**
 * Teacher forcing (lib/sample/teacher.ts): the samplers' loop runs unchanged, but instead of drawing a
 * value every subpixel takes its true value, and its negative log-likelihood under the logits the model gave
 * it (computed from the subpixels already set, the later ones still blank) is recorded.
 */
export interface TeacherForcing {
  /** The true images, count * imageSize raw values 0..255. */
  truth: Uint8Array;
  /** Per sample and subpixel: -ln p(true value), nats (temperature 1); 0 where given. */
  nats: Float64Array;
}

/**
 * The checked, normalised form of the options. It is the batch the model's incremental evaluator reads
 * (`model.incremental(plan)`): `images` holds the given values where given, 0 elsewhere until drawn; `vector`
 * and `map` the condition of each sample (one-hot labels or the vectors, and the map; undefined where the
 * model takes none).
 */
export interface SamplePlan extends IncrementalBatch {
  model: PixelModel;
  /** count * imageSize flags (1 = given), or undefined when nothing is given. */
  given: Uint8Array | undefined;
  /** For each subpixel index s = (i*W + j)*C + c: how many samples draw it (are not given there). */
  drawnAt: Int32Array;
  /** Total subpixels to draw. */
  total: number;
  streams: Mulberry32[];
  temperature: number;
  onProgress: ((progress: SampleProgress) => void) | undefined;
  signal: AbortSignal | undefined;
  /** Yields an event-loop turn every few milliseconds (see `pause`). */
  turn: () => Promise<void> | undefined;
  /** Set by `teacherForce`: score the true values instead of drawing (undefined when sampling). */
  teacher: TeacherForcing | undefined;
}

function lengthOf(value: ArrayLike<number> | tf.Tensor): number {
  return value instanceof tf.Tensor ? value.size : value.length;
}

async function toFloat32(value: ArrayLike<number> | tf.Tensor, what: string, expected: number): Promise<Float32Array> {
  const data = value instanceof tf.Tensor ? await value.data() : value;
  if (data.length !== expected) throw new Error(`sampling: ${what} has ${data.length} values; expected ${expected}`);
  return Float32Array.from(data as ArrayLike<number>);
}

/** Checks the options against the model and builds the plan (reads condition tensors asynchronously). */
export async function preparePlan(model: PixelModel, options: SampleOptions = {}): Promise<SamplePlan> {
  const { height, width, colours } = model.config;
  const { vector: conditionSize, map: conditionMapChannels } = model.conditionShape;
  const classes = model.classes;
  const imageSize = height * width * colours;
  const given = options.given;
  const condition = options.condition ?? {};

  // The sample count: explicit, or implied by whatever per-sample input there is.
  const implied: [string, number][] = [];
  if (given) implied.push(['given.images', given.images.length / imageSize]);
  if (condition.labels) implied.push(['condition.labels', condition.labels.length]);
  if (condition.vector && conditionSize > 0) implied.push(['condition.vector', lengthOf(condition.vector) / conditionSize]);
  if (condition.map && conditionMapChannels > 0) implied.push(['condition.map', lengthOf(condition.map) / (height * width * conditionMapChannels)]);
  if (options.sampleSeeds) implied.push(['sampleSeeds', options.sampleSeeds.length]);
  const count = options.count ?? (implied.length > 0 ? implied[0][1] : 1);
  if (!Number.isInteger(count) || count < 1) throw new Error(`sampling: count must be a positive integer, got ${count}`);
  for (const [what, n] of implied) {
    if (n !== count) throw new Error(`sampling: ${what} is for ${n} samples but count is ${count}`);
  }
  const temperature = checkTemperature(options.temperature ?? 1);

  // Given pixels.
  const images = new Uint8Array(count * imageSize);
  let givenMask: Uint8Array | undefined;
  if (given) {
    if (given.rows !== undefined && given.mask !== undefined) throw new Error('sampling: give either given.rows or given.mask, not both');
    if (given.rows === undefined && given.mask === undefined) throw new Error('sampling: given needs rows (the top rows to keep) or a mask');
    givenMask = new Uint8Array(count * imageSize);
    if (given.rows !== undefined) {
      const rows = given.rows;
      if (!Number.isInteger(rows) || rows < 0 || rows > height) throw new Error(`sampling: given.rows must be an integer in 0..${height}, got ${rows}`);
      for (let n = 0; n < count; n++) givenMask.fill(1, n * imageSize, n * imageSize + rows * width * colours);
    } else {
      const mask = given.mask as ArrayLike<number>;
      const perPixel = mask.length === height * width;
      if (mask.length !== count * imageSize && mask.length !== imageSize && !perPixel) {
        throw new Error(`sampling: given.mask has ${mask.length} entries; expected count*H*W*C = ${count * imageSize}, H*W*C = ${imageSize} or H*W = ${height * width}`);
      }
      for (let n = 0; n < count; n++) {
        for (let s = 0; s < imageSize; s++) {
          const m = perPixel ? mask[Math.floor(s / colours)] : mask.length === imageSize ? mask[s] : mask[n * imageSize + s];
          givenMask[n * imageSize + s] = m ? 1 : 0;
        }
      }
    }
    for (let k = 0; k < images.length; k++) {
      if (!givenMask[k]) continue;
      const v = given.images[k];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`sampling: given.images[${k}] = ${v} is not an integer 0..255`);
      images[k] = v;
    }
  }
  const drawnAt = new Int32Array(imageSize);
  let total = 0;
  for (let s = 0; s < imageSize; s++) {
    let drawn = 0;
    for (let n = 0; n < count; n++) if (!givenMask || !givenMask[n * imageSize + s]) drawn++;
    drawnAt[s] = drawn;
    total += drawn;
  }

  // Conditions.
  let vector: Float32Array | undefined;
  if (conditionSize > 0) {
    if (condition.labels && condition.vector) throw new Error('sampling: give condition.labels or condition.vector, not both');
    if (condition.labels) {
      if (classes === 0) throw new Error(`sampling: condition.labels given, but the model is not class-conditional: pass its ${conditionSize}-long condition.vector`);
      vector = new Float32Array(count * conditionSize);
      for (let n = 0; n < count; n++) {
        const label = condition.labels[n];
        if (!Number.isInteger(label) || label < 0 || label >= classes) {
          throw new Error(`sampling: condition.labels[${n}] = ${label} is not a class index 0..${classes - 1}`);
        }
        vector[n * conditionSize + label] = 1;
      }
    } else if (condition.vector) {
      vector = await toFloat32(condition.vector, 'condition.vector', count * conditionSize);
    } else {
      throw new Error(`sampling: this model is conditional (a condition vector of length ${conditionSize}): pass ` +
        `${classes > 0 ? 'condition.labels or ' : ''}condition.vector`);
    }
  } else if (condition.labels || condition.vector) {
    throw new Error('sampling: condition.labels / condition.vector given, but the model takes no condition vector');
  }
  let map: Float32Array | undefined;
  if (conditionMapChannels > 0) {
    if (!condition.map) throw new Error(`sampling: this model is conditioned on a ${conditionMapChannels}-channel map: pass condition.map`);
    map = await toFloat32(condition.map, 'condition.map', count * height * width * conditionMapChannels);
  } else if (condition.map) {
    throw new Error('sampling: condition.map given, but the model takes no condition map');
  }

  // Random streams.
  if (options.sampleSeeds && options.seed !== undefined) throw new Error('sampling: give seed or sampleSeeds, not both');
  const seed = options.seed ?? 0;
  const streams: Mulberry32[] = [];
  for (let n = 0; n < count; n++) {
    streams.push(options.sampleSeeds ? new Mulberry32(options.sampleSeeds[n]) : sampleStream(seed, n));
  }

  return {
    model, count, height, width, colours, imageSize, images, given: givenMask, drawnAt, total, streams, temperature,
    vector, map, onProgress: options.onProgress, signal: options.signal, turn: eventLoopTurns(), teacher: undefined,
  };
}

/**
 * Where sampling may stop: gives the event loop a turn now and then (an interrupt's listener, a page's repaint
 * can only run then: the model's reads resolve without one), then throws if the plan's signal was aborted.
 */
export async function pause(plan: SamplePlan): Promise<void> {
  await plan.turn();
  throwIfAborted(plan);
}

export function throwIfAborted(plan: SamplePlan): void {
  const signal = plan.signal;
  if (signal && signal.aborted) {
    throw signal.reason instanceof Error ? signal.reason : new Error(`sampling aborted${signal.reason !== undefined ? `: ${String(signal.reason)}` : ''}`);
  }
}

/**
 * Draws subpixel s for every sample from logits [count, 256] (row n at n * rowStride + offset), writing the
 * values into plan.images; consumes one uniform per sample, given or not. Returns how many were drawn.
 * Under teacher forcing the value written is the true one and its negative log-likelihood is recorded.
 */
export function drawSubpixel(plan: SamplePlan, s: number, logits: Float32Array | undefined, rowStride: number, offset: number): number {
  let drawn = 0;
  for (let n = 0; n < plan.count; n++) {
    const u = plan.streams[n].next();
    const k = n * plan.imageSize + s;
    if (plan.given && plan.given[k]) continue;
    if (!logits) throw new Error('internal: logits missing for a subpixel that must be drawn');
    const teacher = plan.teacher;
    if (teacher) {
      const value = teacher.truth[k];
      teacher.nats[k] = negativeLogLikelihood(logits, n * rowStride + offset, value);
      plan.images[k] = value;
    } else {
      plan.images[k] = drawCategorical(logits, n * rowStride + offset, plan.temperature, u);
    }
    drawn++;
  }
  return drawn;
}

/** Consumes one uniform per sample for subpixels nobody draws (all given). */
export function skipSubpixels(plan: SamplePlan, subpixels: number): void {
  for (const stream of plan.streams) for (let k = 0; k < subpixels; k++) stream.next();
}

/** A progress reporter counting drawn subpixels. */
export function progressReporter(plan: SamplePlan): (drawn: number) => void {
  let done = 0;
  const report = plan.onProgress;
  return (drawn: number) => {
    done += drawn;
    if (report) report({ done, total: plan.total, fraction: plan.total === 0 ? 1 : done / plan.total });
  };
}

export function result(plan: SamplePlan): SampleResult {
  return { images: plan.images, count: plan.count, height: plan.height, width: plan.width, colours: plan.colours };
}
