/**
 * The one in-memory dataset shape every task loads into, and checks on it.
 *
 * Browser-safe: no Node-only imports (the loaders that read files live in the other modules of lib/data).
 */

/** The task names, as in the original PyTorch project. */
export const TASK_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'cifar-gs', 'imagenet64'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export function isTaskName(name: string): name is TaskName {
  return (TASK_NAMES as readonly string[]).includes(name);
}

/**
 * One split of a dataset.
 *
 * - `images`: `count * height * width * channels` bytes, NHWC order (row-major, channels last), values 0..255.
 * - `labels`: one byte per image, a class index into `Dataset.classNames` (at most 256 classes). Unlabelled
 *   datasets (`classNames` empty) have every label 0.
 */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  /** The task name (for example `mnist`) or any name for a dataset built by hand. */
  name: string;
  train: Split;
  test: Split;
  height: number;
  width: number;
  channels: number;
  /** Class names indexed by label; empty for an unlabelled dataset (all labels 0). */
  classNames: string[];
  /** Where the data came from (a folder or file), for reports. */
  source?: string;
}

/** Bytes per image: height * width * channels. */
export function imageSize(dataset: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return dataset.height * dataset.width * dataset.channels;
}

/** The bytes of image `index` of a split, as a view (no copy). */
export function imageAt(split: Split, index: number, bytesPerImage: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= split.count) {
    throw new Error(`image index ${index} is out of range: the split has ${split.count} images`);
  }
  return split.images.subarray(index * bytesPerImage, (index + 1) * bytesPerImage);
}

/**
 * Checks that a split is consistent: `count` is a non-negative integer, `images` holds exactly
 * `count * bytesPerImage` bytes, `labels` exactly `count` entries, each < `numClasses` (or 0 when unlabelled).
 * Throws an error naming `what` (for example "mnist train") and the field otherwise.
 */
export function validateSplit(split: Split, bytesPerImage: number, numClasses: number, what: string): void {
  if (!Number.isInteger(split.count) || split.count < 0) {
    throw new Error(`${what}: count must be a non-negative integer; got ${split.count}`);
  }
  if (!(split.images instanceof Uint8Array)) throw new Error(`${what}: images must be a Uint8Array`);
  if (!(split.labels instanceof Uint8Array)) throw new Error(`${what}: labels must be a Uint8Array`);
  if (split.images.length !== split.count * bytesPerImage) {
    throw new Error(
      `${what}: images has ${split.images.length} bytes; expected count * height * width * channels = ` +
        `${split.count} * ${bytesPerImage} = ${split.count * bytesPerImage}`,
    );
  }
  if (split.labels.length !== split.count) {
    throw new Error(`${what}: labels has ${split.labels.length} entries; expected count = ${split.count}`);
  }
  const maxLabel = Math.max(numClasses - 1, 0);
  for (let i = 0; i < split.count; i++) {
    if (split.labels[i] > maxLabel) {
      throw new Error(
        `${what}: label ${i} is ${split.labels[i]}; expected 0..${maxLabel}` +
          (numClasses === 0 ? ' (unlabelled dataset)' : ` (${numClasses} classes)`),
      );
    }
  }
}

/** Checks a whole dataset (shape fields and both splits); throws an error naming the field otherwise. */
export function validateDataset(dataset: Dataset): void {
  for (const field of ['height', 'width', 'channels'] as const) {
    const v = dataset[field];
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`dataset ${dataset.name}: ${field} must be a positive integer; got ${v}`);
    }
  }
  if (!Array.isArray(dataset.classNames) || dataset.classNames.length > 256) {
    throw new Error(`dataset ${dataset.name}: classNames must be an array of at most 256 names`);
  }
  const size = imageSize(dataset);
  validateSplit(dataset.train, size, dataset.classNames.length, `dataset ${dataset.name} train`);
  validateSplit(dataset.test, size, dataset.classNames.length, `dataset ${dataset.name} test`);
}

/** The first `n` examples of a split (views, no copy); the whole split when n >= count. */
export function takeFirst(split: Split, n: number, bytesPerImage: number): Split {
  if (!Number.isInteger(n) || n < 0) throw new Error(`takeFirst: n must be a non-negative integer; got ${n}`);
  if (n >= split.count) return split;
  return { images: split.images.subarray(0, n * bytesPerImage), labels: split.labels.subarray(0, n), count: n };
}
