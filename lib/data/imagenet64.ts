/**
 * Downsampled ImageNet 64x64 from a folder of images (Node only).
 *
 * Layout (as torchvision's ImageFolder reads it): `<dir>/train/` and `<dir>/valid/`, each holding one
 * subfolder (or more) of PNG or JPEG images, every one 64x64. Files and folders whose name starts with a dot
 * are skipped; any other file that is not a PNG or JPEG is an error. Images are taken in sorted path order.
 * Images are unlabelled: every label is 0 and classNames is []. Alpha channels are dropped (as PIL's
 * convert('RGB') does); greyscale images are expanded to RGB.
 *
 * PNGs are decoded with pngjs (exact pixels); JPEGs with @napi-rs/canvas (skia's decoder: values can differ
 * by a level or two from libjpeg's, as between any two JPEG decoders).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { Dataset, Split } from './dataset';
import { validateDataset } from './dataset';
import type { ProgressCallback } from './progress';

export const IMAGENET64_SIZE = 64;

export type ImageKind = 'png' | 'jpeg';

/** The kind of image from its first bytes (magic number), or undefined for anything else. */
export function sniffImage(bytes: Uint8Array): ImageKind | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, interleaved RGB, row-major. */
  rgb: Uint8Array;
}

function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return rgb;
}

/**
 * Decodes a PNG or JPEG file's bytes to RGB. When `expectSize` is given, an image of another size is an
 * error (checked from the PNG header before decoding). Errors name `file`.
 */
export async function decodeImage(bytes: Uint8Array, file: string, expectSize?: number): Promise<DecodedImage> {
  const kind = sniffImage(bytes);
  if (kind === undefined) {
    throw new Error(`${file}: not a PNG or JPEG image (unrecognised first bytes); expected a ${expectSize ?? ''}${expectSize ? 'x' + expectSize + ' ' : ''}PNG or JPEG`);
  }
  const checkSize = (width: number, height: number) => {
    if (expectSize !== undefined && (width !== expectSize || height !== expectSize)) {
      throw new Error(`${file}: image is ${width}x${height}; expected ${expectSize}x${expectSize}`);
    }
  };
  if (kind === 'png') {
    if (bytes.length >= 24) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      checkSize(view.getUint32(16, false), view.getUint32(20, false));
    }
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw new Error(`${file}: cannot decode PNG (${(e as Error).message})`);
    }
    checkSize(png.width, png.height);
    return { width: png.width, height: png.height, rgb: rgbaToRgb(png.data, png.width * png.height) };
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const canvas = require('@napi-rs/canvas') as typeof import('@napi-rs/canvas');
  let image: InstanceType<typeof canvas.Image>;
  try {
    image = await canvas.loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(`${file}: cannot decode JPEG (${(e as Error).message})`);
  }
  checkSize(image.width, image.height);
  if (image.width === 0 || image.height === 0) throw new Error(`${file}: cannot decode JPEG (no pixels)`);
  const c = canvas.createCanvas(image.width, image.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  return { width: image.width, height: image.height, rgb: rgbaToRgb(data, image.width * image.height) };
}

/** Every non-hidden file under `dir`, recursively, in sorted order. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

export interface ImageFolderOptions {
  /** Required side length (images must be size x size). */
  size: number;
  /** Read at most this many images (the first in sorted order). */
  maxImages?: number;
  onProgress?: ProgressCallback;
}

/** Reads every image under `dir` (recursively) into an unlabelled RGB split. */
export async function readImageFolder(dir: string, options: ImageFolderOptions): Promise<Split> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`image folder ${dir} does not exist; expected a folder holding subfolders of ${options.size}x${options.size} PNG or JPEG images`);
  }
  let files = listFiles(dir);
  if (options.maxImages !== undefined) files = files.slice(0, options.maxImages);
  if (files.length === 0) throw new Error(`image folder ${dir} holds no images; expected PNG or JPEG files in its subfolders`);
  const bytesPerImage = options.size * options.size * 3;
  const images = new Uint8Array(files.length * bytesPerImage);
  const report = (done: number, finished: boolean) =>
    options.onProgress?.({ phase: 'decode', file: dir, done, total: files.length, unit: 'images', finished });
  report(0, false);
  try {
    for (let i = 0; i < files.length; i++) {
      const decoded = await decodeImage(fs.readFileSync(files[i]), files[i], options.size);
      images.set(decoded.rgb, i * bytesPerImage);
      if (i % 1000 === 999) report(i + 1, false);
    }
  } finally {
    report(files.length, true);
  }
  return { images, labels: new Uint8Array(files.length), count: files.length };
}

export interface Imagenet64Options {
  /** The folder holding train/ and valid/. */
  dataDirectory: string;
  /** Read at most this many images per split. */
  maxPerSplit?: number;
  onProgress?: ProgressCallback;
}

/** Loads 64x64 ImageNet from `<dataDirectory>/train` (train split) and `<dataDirectory>/valid` (test split). */
export async function loadImagenet64(options: Imagenet64Options): Promise<Dataset> {
  const root = path.resolve(options.dataDirectory);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new Error(
      `imagenet64 folder ${root} does not exist; expected a folder with train/ and valid/, each holding a ` +
        `subfolder of 64x64 PNG or JPEG images (pass { dataDirectory })`,
    );
  }
  const splits: Split[] = [];
  for (const name of ['train', 'valid']) {
    const dir = path.join(root, name);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`imagenet64: folder ${dir} is missing; expected ${root} to hold train/ and valid/ folders of 64x64 images`);
    }
    splits.push(await readImageFolder(dir, { size: IMAGENET64_SIZE, maxImages: options.maxPerSplit, onProgress: options.onProgress }));
  }
  const dataset: Dataset = {
    name: 'imagenet64',
    train: splits[0],
    test: splits[1],
    height: IMAGENET64_SIZE,
    width: IMAGENET64_SIZE,
    channels: 3,
    classNames: [],
    source: root,
  };
  validateDataset(dataset);
  return dataset;
}
