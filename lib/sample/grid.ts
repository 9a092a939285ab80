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
 * Browser-safe: no Node-only imports (see lib/render/grid.ts for the PNG).
 */
import * as tf from '@tensorflow/tfjs';
import type { PixelModel } from '../models/model';
import type { GridLayout } from '../render/grid';
import { streamSeeds } from './categorical';
import { sample, SamplerName } from './sample';
import type { SampleCondition, SampleProgress, SampleResult } from './plan';

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
  /** Any other per-cell condition (e.g. maps from a decoder), in grid order: rows * cols entries. */
  condition?: SampleCondition;
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
  const { height, width, colours, conditionSize } = model.config;
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

  // Per-cell conditions: class labels by default, or the caller's condition in grid order.
  let labels: number[] | undefined;
  if (conditionSize > 0 && !options.condition?.vector && !options.condition?.labels) {
    const test = options.labels?.test;
    if (!test) throw new Error('sampleGrid: the model is class-conditional: pass labels.test (the classes of the test images)');
    labels = [];
    for (let k = 0; k < count; k++) {
      if (k < half) labels.push(options.labels?.samples ? options.labels.samples[k] : (k % cols) % conditionSize);
      else labels.push(test[(k - half) % cols]);
    }
  }
  const c = options.condition;
  const vector = c?.vector instanceof tf.Tensor ? await c.vector.data() : c?.vector;
  const map = c?.map instanceof tf.Tensor ? await c.map.data() : c?.map;
  const conditionOf = (from: number, to: number): SampleCondition | undefined => {
    if (!c && !labels) return undefined;
    return {
      labels: labels ? labels.slice(from, to) : c?.labels ? cells(c.labels, count, from, to) : undefined,
      vector: vector ? cells(vector, count, from, to) : undefined,
      map: map ? cells(map, count, from, to) : undefined,
    };
  };

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
  const top = await sample(model, { ...common, count: half, sampleSeeds: seeds.slice(0, half), condition: conditionOf(0, half), onProgress: progress(0) });
  const bottom = await sample(model, {
    ...common, count: half, sampleSeeds: seeds.slice(half), condition: conditionOf(half, count), onProgress: progress(topTotal),
    given: { images: given, rows: givenRows },
  });
  const images = new Uint8Array(count * imageSize);
  images.set(top.images, 0);
  images.set(bottom.images, half * imageSize);
  const result: SampleResult = { images, count, height, width, colours };
  const rowLabels: string[] = [];
  for (let r = 0; r < rows; r++) rowLabels.push(r < rows / 2 ? 'sample' : 'complete');
  return { ...result, rows, cols, givenRows, layout: { rows, cols, sectionBreaks: [rows / 2 - 1], rowLabels } };
}

/** Cells from..to of a per-cell array of `count` equal-sized cells. */
function cells(values: ArrayLike<number>, count: number, from: number, to: number): number[] {
  const per = values.length / count;
  if (!Number.isInteger(per)) throw new Error(`sampleGrid: a per-cell condition has ${values.length} values, not a multiple of ${count} cells`);
  return Array.prototype.slice.call(values, from * per, to * per) as number[];
}
