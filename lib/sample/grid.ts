/**
 * The sample grid of the original project (12 x 12 by default): the top half sampled from scratch, the
 * bottom half completing test images. Column c of the bottom half completes test image c; each of its
 * rows is another completion, with the top `givenRows` rows (H/2 by default) of the test image given and
 * kept.
 *
 * Cell (r, c) is image r * cols + c of the result and draws from stream hashSeeds(seed, r * cols + c), so
 * a grid is reproducible from its seed whichever sampler computed it. The halves are sampled as two
 * batches, so the completions start at their first free row (the given rows take one forward pass).
 *
 * The cells' conditions come from the model: the top half's from `scratchCondition` (a class per column for
 * class-conditional models; a PixelVAE's z from the prior, drawn from the grid's seed), the bottom half's from
 * `completionCondition` of the test images (their classes; z inferred by the encoder from the given rows),
 * computed once per test image and repeated down its column.
 *
 * Browser-safe: no Node-only imports (see lib/render/grid.ts for the PNG).
 */
import * as tf from '@tensorflow/tfjs';
import type { Condition } from '../models/layers';
import { disposeCondition, PixelModel } from '../models/model';
import type { GridLayout } from '../render/grid';
import { streamSeeds } from './categorical';
import { sample, SamplerName } from './sample';
import type { SampleProgress, SampleResult } from './plan';

export interface GridOptions {
  /** Grid rows (even) and columns; default 12 x 12. */
  rows?: number;
  cols?: number;
  seed?: number;
  temperature?: number;
  /** 'fast' (default) or 'reference'. */
  sampler?: SamplerName;
  /** Rows of each test image that are given (default floor(H / 2)). */
  givenRows?: number;
  /**
   * Class labels for class-conditional models: of the sampled half (default: column index mod the number
   * of classes, so each column is one class) and of the test images (required; column c uses test[c]).
   */
  labels?: { samples?: ArrayLike<number>; test?: ArrayLike<number> };
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
}

export interface SampleGridResult extends SampleResult {
  rows: number;
  cols: number;
  givenRows: number;
  /** Suggested per-row labels and section break for lib/render/grid.ts. */
  layout: GridLayout;
}

/**
 * Samples the grid. `testImages` holds at least `cols` test images (NHWC bytes, the model's shape); the
 * first `cols` are completed.
 */
export async function sampleGrid(model: PixelModel, testImages: ArrayLike<number>, options: GridOptions = {}): Promise<SampleGridResult> {
  const { height, width, colours } = model.config;
  const rows = options.rows ?? 12;
  const cols = options.cols ?? 12;
  if (!Number.isInteger(rows) || rows < 2 || rows % 2 !== 0) throw new Error(`sampleGrid: rows must be an even integer >= 2, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 1) throw new Error(`sampleGrid: cols must be a positive integer, got ${cols}`);
  const givenRows = options.givenRows ?? Math.floor(height / 2);
  if (!Number.isInteger(givenRows) || givenRows < 0 || givenRows > height) throw new Error(`sampleGrid: givenRows must be an integer in 0..${height}, got ${givenRows}`);
  const imageSize = height * width * colours;
  if (testImages.length < cols * imageSize) {
    throw new Error(`sampleGrid: need ${cols} test images of ${height}x${width}x${colours} (${cols * imageSize} values), got ${testImages.length} values`);
  }
  const half = (rows / 2) * cols;
  const count = rows * cols;
  const seeds = streamSeeds(options.seed ?? 0, count);

  // Class labels of class-conditional models: the sampled half's by column (or the caller's), the test images'.
  const classes = model.classes;
  let sampleLabels: number[] | undefined;
  let testLabels: number[] | undefined;
  if (classes > 0) {
    const test = options.labels?.test;
    if (!test) throw new Error('sampleGrid: the model is class-conditional: pass labels.test (the classes of the test images)');
    const samples = options.labels?.samples;
    sampleLabels = Array.from({ length: half }, (_, k) => (samples ? classLabel(samples, k, 'samples', classes) : (k % cols) % classes));
    testLabels = Array.from({ length: cols }, (_, k) => classLabel(test, k, 'test', classes));
  }

  // Bottom half: each test image's top rows, given.
  const given = new Uint8Array(half * imageSize);
  const givenPerImage = givenRows * width * colours;
  for (let k = 0; k < half; k++) {
    const test = k % cols;
    for (let s = 0; s < givenPerImage; s++) given[k * imageSize + s] = testImages[test * imageSize + s];
  }

  // Two batches, so that the completions skip their given rows; the per-cell streams make the result the
  // same as one batch of rows * cols.
  const topTotal = half * imageSize;
  const total = topTotal + half * (imageSize - givenPerImage);
  const progress = (offset: number) => options.onProgress && ((p: SampleProgress) => {
    const done = offset + p.done;
    options.onProgress!({ done, total, fraction: total === 0 ? 1 : done / total });
  });
  const common = { sampler: options.sampler, temperature: options.temperature, signal: options.signal };
  const topCondition = model.scratchCondition({ count: half, seed: options.seed ?? 0, labels: sampleLabels });
  let bottomCondition: Condition | undefined;
  let top: SampleResult;
  let bottom: SampleResult;
  try {
    bottomCondition = completionConditions(model, testImages, cols, rows / 2, givenRows, testLabels);
    top = await sample(model, { ...common, count: half, sampleSeeds: seeds.slice(0, half), condition: topCondition, onProgress: progress(0) });
    bottom = await sample(model, {
      ...common, count: half, sampleSeeds: seeds.slice(half), condition: bottomCondition, onProgress: progress(topTotal),
      given: { images: given, rows: givenRows },
    });
  } finally {
    disposeCondition(topCondition);
    disposeCondition(bottomCondition);
  }
  const images = new Uint8Array(count * imageSize);
  images.set(top.images, 0);
  images.set(bottom.images, half * imageSize);
  const result: SampleResult = { images, count, height, width, colours };
  const rowLabels: string[] = [];
  for (let r = 0; r < rows; r++) rowLabels.push(r < rows / 2 ? 'sample' : 'complete');
  return { ...result, rows, cols, givenRows, layout: { rows, cols, sectionBreaks: [rows / 2 - 1], rowLabels } };
}

/**
 * The condition of the grid's bottom half: `completionCondition` of the first `cols` test images (each
 * encoded once), repeated for each of the `repeats` rows, in grid order (cell k completes test image k % cols).
 */
function completionConditions(
  model: PixelModel, testImages: ArrayLike<number>, cols: number, repeats: number, givenRows: number, labels: number[] | undefined,
): Condition | undefined {
  const { height, width, colours } = model.config;
  const values = new Float32Array(cols * height * width * colours);
  for (let k = 0; k < values.length; k++) values[k] = testImages[k];
  const images = tf.tensor4d(values, [cols, height, width, colours]); // [cols, H, W, C]
  let once: Condition | undefined;
  try {
    once = model.completionCondition({ images, givenRows, labels });
    if (!once) return undefined;
    const { vector, map } = once;
    return {
      vector: vector && tf.tile(vector, [repeats, 1]), // [rows/2 * cols, V]
      map: map && tf.tile(map, [repeats, 1, 1, 1]), // [rows/2 * cols, H, W, M]
    };
  } finally {
    images.dispose();
    disposeCondition(once);
  }
}

/** labels[k] as a class index of a model with `classes` classes; the error names labels.<which>[k]. */
function classLabel(labels: ArrayLike<number>, k: number, which: string, classes: number): number {
  const label = labels[k];
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new Error(`sampleGrid: labels.${which}[${k}] = ${label} is not a class index 0..${classes - 1}`);
  }
  return label;
}
