/**
 * The 12x12 grid for a model trained on a dataset: completions of the dataset's first test images (with
 * their class labels for class-conditional models). The model conditions the cells (grid.ts): a PixelVAE's
 * samples from scratch take z from the prior and its completions z inferred by the encoder from the visible
 * top rows. Browser-safe.
 */
import { Dataset, imageSize } from '../data/dataset';
import type { PixelModel } from '../models/model';
import { GridOptions, sampleGrid, SampleGridResult } from './grid';

export async function datasetGrid(model: PixelModel, dataset: Dataset, options: GridOptions = {}): Promise<SampleGridResult> {
  const rows = options.rows ?? 12;
  const cols = options.cols ?? 12;
  if (dataset.test.count < cols) throw new Error(`datasetGrid: ${dataset.name} has ${dataset.test.count} test images, the grid completes ${cols}`);
  const testImages = dataset.test.images.subarray(0, cols * imageSize(dataset));
  const labels = model.classes > 0 && dataset.classNames.length > 0
    ? { ...options.labels, test: options.labels?.test ?? dataset.test.labels.subarray(0, cols) }
    : options.labels;
  return sampleGrid(model, testImages, { ...options, rows, cols, labels });
}
