/**
 * Downsampled ImageNet 64x64 from a folder of images (Node only).
 *
 * Layout (as torchvision's ImageFolder reads it): `<dir>/train/` and `<dir>/valid/`, each holding one
 * subfolder (or more) of PNG or JPEG images, every one 64x64. Files and folders whose name starts with a dot
 * are skipped; any other file that is not a PNG or JPEG is an error. Images are taken in sorted path order.
 * Images are unlabelled: every label is 0 and classNames is []. Alpha channels are dropped (as PIL's
 * convert('RGB') does); greyscale images are expanded to RGB.
 *
 * PNGs are decoded with pngjs (exact pixels, CRC-checked); JPEGs with @napi-rs/canvas (skia's decoder: values
 * can differ by a level or two from libjpeg's, as between any two JPEG decoders), in a child process because
 * skia crashes on some damaged JPEGs (see ./jpeg).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { Dataset, Split } from './dataset';
import { pathKind, requireDataFolder } from './folders';
import { validateDataset } from './dataset';
import { JpegDecoder, type RgbaImage } from './jpeg';
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
 * error (checked from the header before decoding). Errors name `file`. JPEGs are decoded by `decoder`
 * (a child process, see ./jpeg); without one, a decoder is started and stopped for this image.
 */
export async function decodeImage(
  bytes: Uint8Array,
  file: string,
  expectSize?: number,
  decoder?: JpegDecoder,
): Promise<DecodedImage> {
  const format = sniffImage(bytes);
  if (format === undefined) {
    throw new Error(`${file}: not a PNG or JPEG image (unrecognised first bytes); expected a ${expectSize ?? ''}${expectSize ? 'x' + expectSize + ' ' : ''}PNG or JPEG`);
  }
  const checkSize = (width: number, height: number) => {
    if (expectSize !== undefined && (width !== expectSize || height !== expectSize)) {
      throw new Error(`${file}: image is ${width}x${height}; expected ${expectSize}x${expectSize}`);
    }
  };
  if (format === 'png') {
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
  // Check the file's structure ourselves first (a clear error for a truncated file), and read the size from
  // the frame header; then decode in the child process (see ./jpeg).
  const info = jpegInfo(bytes, file);
  checkSize(info.width, info.height);
  const own = decoder === undefined;
  const jpeg = decoder ?? new JpegDecoder();
  let image: RgbaImage;
  try {
    image = await jpeg.decode(bytes, file);
  } finally {
    if (own) jpeg.close();
  }
  if (image.width !== info.width || image.height !== info.height) {
    throw new Error(`${file}: cannot decode JPEG (decoded ${image.width}x${image.height}, header says ${info.width}x${info.height})`);
  }
  const data = image.rgba;
  // A JPEG has no alpha: pixels the decoder could not produce come back transparent.
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      const p = (i - 3) / 4;
      throw new Error(`${file}: cannot decode JPEG (pixel (${p % image.width}, ${Math.floor(p / image.width)}) was not decoded: damaged data)`);
    }
  }
  return { width: image.width, height: image.height, rgb: rgbaToRgb(data, image.width * image.height) };
}

export interface JpegInfo {
  width: number;
  height: number;
  components: number;
}

/**
 * Walks a JPEG's marker segments: start-of-image, segments lying wholly inside the file, a frame header
 * (SOFn: size and components), a start-of-scan, and an end-of-image marker after the scan data. Throws an
 * error naming `file` when the structure is broken (a truncated file, typically).
 */
export function jpegInfo(bytes: Uint8Array, file: string): JpegInfo {
  const damaged = (why: string) => new Error(`${file}: damaged or truncated JPEG (${why}); expected a complete JPEG file`);
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw damaged('no start-of-image marker');
  let i = 2;
  let frame: JpegInfo | undefined;
  for (;;) {
    if (i + 1 >= n) throw damaged(`file ends at byte ${n} before the image data`);
    if (bytes[i] !== 0xff) throw damaged(`expected a marker at byte ${i}, found 0x${bytes[i].toString(16)}`);
    let marker = bytes[i + 1];
    while (marker === 0xff && i + 2 < n) marker = bytes[++i + 1]; // fill bytes
    i += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // markers without a segment
    if (marker === 0xd9) throw damaged('end-of-image marker before any image data');
    if (i + 2 > n) throw damaged(`file ends inside the header of marker 0xff${marker.toString(16)}`);
    const length = (bytes[i] << 8) | bytes[i + 1];
    if (length < 2 || i + length > n) throw damaged(`segment 0xff${marker.toString(16)} at byte ${i - 2} runs past the end of the file`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (length < 8) throw damaged('frame header too short');
      frame = { height: (bytes[i + 3] << 8) | bytes[i + 4], width: (bytes[i + 5] << 8) | bytes[i + 6], components: bytes[i + 7] };
      if (frame.width === 0 || frame.height === 0) throw damaged(`frame header gives size ${frame.width}x${frame.height}`);
      if (frame.components !== 1 && frame.components !== 3) throw damaged(`${frame.components} colour components; expected 1 or 3`);
    }
    i += length;
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
  }
  if (!frame) throw damaged('no frame header before the image data');
  // In entropy-coded data 0xff is always followed by 0x00 or a restart marker, so 0xff 0xd9 is the end.
  let end = -1;
  for (let k = i; k + 1 < n; k++) {
    if (bytes[k] === 0xff && bytes[k + 1] === 0xd9) {
      end = k;
      break;
    }
  }
  if (end < 0) throw damaged('no end-of-image marker: the file is truncated');
  return frame;
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
  const report = (done: number, finished: boolean, failed = false) =>
    options.onProgress?.({ phase: 'decode', file: dir, done, total: files.length, unit: 'images', finished, ...(failed ? { failed } : {}) });
  report(0, false);
  const decoder = new JpegDecoder();
  try {
    for (let i = 0; i < files.length; i++) {
      let decoded: DecodedImage;
      try {
        decoded = await decodeImage(fs.readFileSync(files[i]), files[i], options.size, decoder);
      } catch (e) {
        report(i, true, true);
        throw e;
      }
      images.set(decoded.rgb, i * bytesPerImage);
      if (i % 1000 === 999) report(i + 1, false);
    }
  } finally {
    decoder.close();
  }
  report(files.length, true);
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
  requireDataFolder(root, { dataset: 'imagenet64', holding: 'train/ and valid/, each holding a subfolder of 64x64 PNG or JPEG images' });
  const splits: Split[] = [];
  for (const name of ['train', 'valid']) {
    const dir = path.join(root, name);
    const found = pathKind(dir);
    if (found !== 'folder') {
      throw new Error(`imagenet64: folder ${dir} is ${found === 'file' ? 'a file' : 'missing'}; expected ${root} to hold train/ and valid/ folders of 64x64 images`);
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
