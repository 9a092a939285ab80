/**
 * The sample grid of the original project (12 x 12 by default): the top half sampled from scratch, the
 * bottom half completing test images. Column c of the bottom half completes test image c; each of its
 * rows is another completion, with the top `givenRows` rows (H/2 by default) of the test image given and
 * kept.
 *
 * Cell (r, c) is image r * cols + c of the result and draws from stream hashSeeds(seed, r * cols + c), so
 * a grid is reproducible from its seed whichever sampler computed it.
 *
 * Browser-safe: no Node-only imports (see lib/render/grid.ts for the PNG).
 */
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
  /** Any other per-cell condition (e.g. maps from an encoder), in grid order: rows * cols entries. */
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
  const imageSize = height * width * colours;
  if (testImages.length < cols * imageSize) {
    throw new Error(`sampleGrid: need ${cols} test images of ${height}x${width}x${colours} (${cols * imageSize} values), got ${testImages.length} values`);
  }
  const half = (rows / 2) * cols;
  const count = rows * cols;
  const given = new Uint8Array(count * imageSize);
  const mask = new Uint8Array(count * imageSize);
  const givenPerImage = givenRows * width * colours;
  for (let k = half; k < count; k++) {
    const test = (k - half) % cols;
    for (let s = 0; s < givenPerImage; s++) given[k * imageSize + s] = testImages[test * imageSize + s];
    mask.fill(1, k * imageSize, k * imageSize + givenPerImage);
  }
  const condition: SampleCondition = { ...options.condition };
  if (conditionSize > 0 && !condition.vector && !condition.labels) {
    const test = options.labels?.test;
    if (!test) throw new Error('sampleGrid: the model is class-conditional: pass labels.test (the classes of the test images)');
    const labels: number[] = [];
    for (let k = 0; k < count; k++) {
      if (k < half) labels.push(options.labels?.samples ? options.labels.samples[k] : (k % cols) % conditionSize);
      else labels.push(test[(k - half) % cols]);
    }
    condition.labels = labels;
  }
  const result = await sample(model, {
    sampler: options.sampler,
    count,
    sampleSeeds: streamSeeds(options.seed ?? 0, count),
    temperature: options.temperature,
    condition,
    given: { images: given, mask },
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const rowLabels: string[] = [];
  for (let r = 0; r < rows; r++) rowLabels.push(r < rows / 2 ? 'sample' : 'complete');
  return { ...result, rows, cols, givenRows, layout: { rows, cols, sectionBreaks: [rows / 2 - 1], rowLabels } };
}
