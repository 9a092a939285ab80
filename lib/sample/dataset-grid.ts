/**
 * The 12x12 grid for a model trained on a dataset: completions of the dataset's first test images (with
 * their class labels for class-conditional models). For a PixelVAE, samples from scratch take z from the
 * prior and completions take z inferred by the encoder from the visible top rows. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { Dataset, imageSize } from '../data/dataset';
import type { PixelModel } from '../models/model';
import { isPixelVAE, PixelVAE } from '../models/vae';
import { GridOptions, sampleGrid, SampleGridResult } from './grid';

/** Per-cell decoder condition of a PixelVAE grid: prior z for the top half, encodeTop z for the bottom half. */
function vaeGridCondition(vae: PixelVAE, testImages: Uint8Array, rows: number, cols: number, givenRows: number, seed: number) {
  const { height, width, colours } = vae.config;
  const half = (rows / 2) * cols;
  return tf.tidy(() => {
    const prior = vae.priorLatent(half, seed); // [half, Z]
    const tests = tf.tensor4d(testImages, [cols, height, width, colours], 'float32'); // [cols, H, W, C]
    const inferred = vae.encodeTop(tests, givenRows); // [cols, Z]
    const bottom = tf.tile(inferred, [rows / 2, 1]); // [half, Z]: cell k of the bottom half completes test k % cols
    const condition = vae.decoderCondition(tf.concat([prior, bottom], 0) as tf.Tensor2D);
    return { vector: condition.vector, map: condition.map };
  });
}

export async function datasetGrid(model: PixelModel, dataset: Dataset, options: GridOptions = {}): Promise<SampleGridResult> {
  const rows = options.rows ?? 12;
  const cols = options.cols ?? 12;
  if (dataset.test.count < cols) throw new Error(`datasetGrid: ${dataset.name} has ${dataset.test.count} test images, the grid completes ${cols}`);
  const testImages = dataset.test.images.subarray(0, cols * imageSize(dataset));
  if (isPixelVAE(model)) {
    const givenRows = options.givenRows ?? Math.floor(model.config.height / 2);
    const condition = vaeGridCondition(model, testImages, rows, cols, givenRows, options.seed ?? 0);
    try {
      return await sampleGrid(model, testImages, { ...options, rows, cols, givenRows, condition });
    } finally {
      tf.dispose([condition.vector, condition.map] as tf.Tensor[]);
    }
  }
  const labels = model.config.conditionSize > 0 && dataset.classNames.length > 0
    ? { ...options.labels, test: options.labels?.test ?? dataset.test.labels.subarray(0, cols) }
    : options.labels;
  return sampleGrid(model, testImages, { ...options, rows, cols, labels });
}
