/**
 * One run of the live sampler: the settings read from its controls -> the model's condition for them
 * (PixelModel.scratchCondition / completionCondition: class one-hots, a PixelVAE's prior or encoded z) -> the
 * fast sampler -> the record the widget keeps. It asks the model what it takes, never which kind it is.
 *
 * Browser-safe (bundled into lib/live/browser.ts); no DOM.
 */
import * as tf from '@tensorflow/tfjs';
import type { Condition } from '../models/layers';
import { disposeCondition } from '../models/model';
import type { LatentSource, PixelModel } from '../models/model';
import { runFast } from '../sample/fast';
import { preparePlan } from '../sample/plan';
import type { SampleOptions } from '../sample/plan';

export type LiveAction = 'sample' | 'complete';

/** What the controls ask for. */
export interface LiveSettings {
  action: LiveAction;
  /** The grid: rows x cols images. */
  rows: number;
  cols: number;
  seed: number;
  temperature: number;
  /** The class of every image (class-conditional models only). */
  label?: number;
  /** Complete only: the test image and how many of its rows are kept. */
  image?: number;
  givenRows?: number;
  /** Complete, models with a latent: where z comes from. */
  latentFrom?: LatentSource;
}

/** A finished run, as the debug hook (`window.__pixelLive.last`) and the tests read it. */
export interface LiveRun {
  kind: LiveAction;
  seed: number;
  temperature: number;
  count: number;
  label?: number;
  image?: number;
  givenRows?: number;
  /** Models with a latent: where z came from (the prior, the given rows of the test image, or all of it). */
  latent?: 'prior' | LatentSource;
  images: number[];
  seconds: number;
  backend: string;
}

/** Where a run shows its images while they are drawn (subpixels not drawn yet are 0). */
export interface LiveView {
  draw(images: ArrayLike<number>): void;
  /** Called after every sampled pixel: throttle. */
  progress(images: ArrayLike<number>, fraction: number): void;
}

/** The test images the widget carries: NHWC bytes of images of the model's shape. */
export interface TestImages {
  data: Uint8Array;
  size: number;
}

function testImage(images: TestImages, n: number): Uint8Array {
  return images.data.subarray(n * images.size, (n + 1) * images.size);
}

/** Each of `condition`'s tensors [1, ...] repeated `count` times along the batch: [count, ...]. */
function repeatCondition(condition: Condition, count: number): Condition {
  const first = tf.zeros([count], 'int32'); // [count]: every image takes example 0
  return {
    vector: condition.vector && (tf.gather(condition.vector, first) as tf.Tensor2D), // [count, vector]
    map: condition.map && (tf.gather(condition.map, first) as tf.Tensor4D), // [count, H, W, map]
  };
}

/**
 * The condition of a run's `count` images (the caller disposes it), or undefined when the model takes none.
 * A completion asks for the condition of its one test image and repeats it: a PixelVAE encodes the image
 * once and every image of the grid is drawn given the same z.
 */
export function runCondition(model: PixelModel, settings: LiveSettings, count: number, images: TestImages): Condition | undefined {
  const labels = settings.label === undefined ? undefined : new Array<number>(count).fill(settings.label);
  if (settings.image === undefined) return model.scratchCondition({ count, seed: settings.seed, labels });
  const n = settings.image;
  const { height, width, colours } = model.config;
  return tf.tidy(() => {
    const image = tf.tensor4d(testImage(images, n), [1, height, width, colours], 'float32'); // [1, H, W, C]
    const one = model.completionCondition({ images: image, givenRows: settings.givenRows ?? 0, labels: labels?.slice(0, 1), latentFrom: settings.latentFrom });
    return one && repeatCondition(one, count);
  });
}

/** Samples (or completes) the grid the settings ask for with the fast sampler, showing progress in `view`. */
export async function liveRun(model: PixelModel, settings: LiveSettings, images: TestImages, backend: string, view: LiveView): Promise<LiveRun> {
  const started = performance.now();
  const { seed, temperature } = settings;
  const count = settings.rows * settings.cols;
  const record: LiveRun = { kind: settings.action, seed, temperature, count, images: [], seconds: 0, backend };
  if (settings.label !== undefined) record.label = settings.label;
  const options: SampleOptions = { count, seed, temperature };
  if (settings.image !== undefined) {
    const given = new Uint8Array(count * images.size);
    for (let k = 0; k < count; k++) given.set(testImage(images, settings.image), k * images.size);
    options.given = { images: given, rows: settings.givenRows ?? 0 };
    record.image = settings.image;
    record.givenRows = options.given.rows;
  }
  if (model.latentSources.length > 0) record.latent = settings.image === undefined ? 'prior' : settings.latentFrom ?? model.latentSources[0];
  const condition = runCondition(model, settings, count, images);
  try {
    const plan = await preparePlan(model, { ...options, condition, onProgress: (p) => view.progress(plan.images, p.fraction) });
    view.draw(plan.images);
    await runFast(plan);
    view.draw(plan.images);
    record.images = Array.from(plan.images);
  } finally {
    disposeCondition(condition);
  }
  record.seconds = (performance.now() - started) / 1000;
  return record;
}
