/**
 * CIFAR-10, binary version: download (once, into a cache folder), verify, and parse into NHWC. Node only.
 *
 * The archive cifar-10-binary.tar.gz holds cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin and
 * batches.meta.txt. Each .bin file is a sequence of 3073-byte records: 1 label byte, then the 1024 red, the
 * 1024 green and the 1024 blue values of a 32x32 image, each plane row-major. batches.meta.txt lists the
 * class names, one a line.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import * as tar from 'tar-stream';
import * as crypto from 'crypto';
import { Transform, TransformCallback } from 'stream';
import { pipeline } from 'stream/promises';
import type { Dataset, Split } from './dataset';
import { validateDataset } from './dataset';
import { downloadFile } from './download';
import { pathKind, requireDataFolder } from './folders';
import type { ProgressCallback } from './progress';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR10_META_FILE = 'batches.meta.txt';
const SIDE = 32;
const PLANE = SIDE * SIDE;
export const CIFAR10_RECORD_BYTES = 1 + 3 * PLANE;

/**
 * Parses one CIFAR-10 .bin file's bytes into a split (NHWC, 3 channels). `file` names it in errors.
 * Every label must be < numClasses.
 */
export function parseCifarBatch(bytes: Uint8Array, file: string, numClasses = 10): Split {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new Error(
      `${file}: ${bytes.length} bytes is not a whole, non-zero number of ${CIFAR10_RECORD_BYTES}-byte records ` +
        `(1 label byte + 3 x 1024 pixel bytes); expected a multiple of ${CIFAR10_RECORD_BYTES}`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(count * PLANE * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const r = i * CIFAR10_RECORD_BYTES;
    const label = bytes[r];
    if (label >= numClasses) {
      throw new Error(`${file}: record ${i} has label ${label}; expected 0..${numClasses - 1}`);
    }
    labels[i] = label;
    const o = i * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      images[o + 3 * p] = bytes[r + 1 + p];
      images[o + 3 * p + 1] = bytes[r + 1 + PLANE + p];
      images[o + 3 * p + 2] = bytes[r + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels, count };
}

/** Parses batches.meta.txt: one class name a line, blank lines ignored. */
export function parseCifarMeta(text: string, file: string): string[] {
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length === 0) throw new Error(`${file}: no class names found; expected one class name a line`);
  return names;
}

function concatSplits(splits: Split[]): Split {
  const count = splits.reduce((a, s) => a + s.count, 0);
  const images = new Uint8Array(splits.reduce((a, s) => a + s.images.length, 0));
  const labels = new Uint8Array(count);
  let io = 0;
  let lo = 0;
  for (const s of splits) {
    images.set(s.images, io);
    labels.set(s.labels, lo);
    io += s.images.length;
    lo += s.count;
  }
  return { images, labels, count };
}

/** Builds the dataset from the contents of the needed files (keyed by base name). */
export function cifarFromFiles(files: Map<string, Uint8Array>, where: string): Dataset {
  const need = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE];
  const missing = need.filter((n) => !files.has(n));
  if (missing.length > 0) {
    throw new Error(`${where}: missing ${missing.join(', ')}; expected all of ${need.join(', ')}`);
  }
  const metaName = `${where}/${CIFAR10_META_FILE}`;
  const classNames = parseCifarMeta(Buffer.from(files.get(CIFAR10_META_FILE)!).toString('utf8'), metaName);
  const train = concatSplits(
    CIFAR10_TRAIN_FILES.map((n) => parseCifarBatch(files.get(n)!, `${where}/${n}`, classNames.length)),
  );
  const test = parseCifarBatch(files.get(CIFAR10_TEST_FILE)!, `${where}/${CIFAR10_TEST_FILE}`, classNames.length);
  const dataset: Dataset = { name: 'cifar10', train, test, height: SIDE, width: SIDE, channels: 3, classNames, source: where };
  validateDataset(dataset);
  return dataset;
}

class Md5Pass extends Transform {
  readonly hash = crypto.createHash('md5');
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

/**
 * Reads the needed members of a cifar-10-binary.tar.gz into memory (by base name), checking the archive's
 * MD5 on the way when `md5` is given. `cached`: the archive is this loader's download, so a damaged one is
 * to be deleted and downloaded again (otherwise it is the user's file).
 */
export async function readCifarArchive(archive: string, md5?: string, cached = true): Promise<Map<string, Uint8Array>> {
  const wanted = new Set([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE]);
  const files = new Map<string, Uint8Array>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const base = path.posix.basename(header.name);
    if (header.type !== 'file' || !wanted.has(base)) {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      const buf = Buffer.concat(chunks);
      files.set(base, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      next();
    });
    stream.on('error', next);
  });
  const hasher = new Md5Pass();
  try {
    await pipeline(fs.createReadStream(archive), hasher, zlib.createGunzip(), extract);
  } catch (e) {
    throw new Error(
      `${archive}: cannot read the CIFAR-10 archive (${(e as Error).message}); expected a cifar-10-binary.tar.gz. ` +
        (cached ? 'If it is a damaged download, delete it to download it again' : 'It may be damaged: download it again'),
    );
  }
  if (md5 !== undefined) {
    const actual = hasher.hash.digest('hex');
    if (actual !== md5.toLowerCase()) {
      throw new Error(
        `${archive}: MD5 is ${actual}; expected ${md5}. ` +
          (cached ? 'The cached archive is corrupt: delete it to download it again' : 'The archive is damaged or not the official one'),
      );
    }
  }
  return files;
}

/** The folder name the official archive extracts to. */
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
const CIFAR_HOLDING = `the extracted ${CIFAR10_FOLDER} files (${[...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE].join(', ')}), or the ${CIFAR10_ARCHIVE} archive itself`;

/**
 * Reads an extracted cifar-10-batches-bin folder. A folder holding none of the files, but the folder the
 * archive extracts to or the archive itself, is an error that names the one to use.
 */
export function readCifarFolder(folder: string): Map<string, Uint8Array> {
  requireDataFolder(folder, { dataset: 'CIFAR-10', holding: CIFAR_HOLDING, howToGet: 'Leave the data folder unset to download the archive' });
  const files = new Map<string, Uint8Array>();
  for (const n of [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE, CIFAR10_META_FILE]) {
    const p = path.join(folder, n);
    if (fs.existsSync(p)) {
      const buf = fs.readFileSync(p);
      files.set(n, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    }
  }
  if (files.size === 0) {
    const inside = [path.join(folder, CIFAR10_FOLDER), path.join(folder, CIFAR10_ARCHIVE)].filter((p) => fs.existsSync(p));
    if (inside.length > 0) {
      throw new Error(`CIFAR-10: ${folder} holds none of the CIFAR-10 files, but it holds ${inside.map((p) => path.basename(p)).join(' and ')}: ` +
        `use ${inside.join(' or ')} as the data folder`);
    }
  }
  return files;
}

function isGzipFile(file: string): boolean {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    fs.closeSync(fd);
  }
}

export interface CifarOptions {
  /** An extracted cifar-10-batches-bin folder, or the cifar-10-binary.tar.gz archive, to read instead of downloading. */
  dataDirectory?: string;
  /** Where the archive is downloaded and kept (required unless dataDirectory is given). */
  cacheDirectory?: string;
  /** Download URL (default CIFAR10_URL); tests point this at a local server. */
  url?: string;
  /**
   * Expected MD5 of the archive (default CIFAR10_MD5 for a download; an archive given as dataDirectory is checked
   * only when this is set: gzip's own checksum catches a damaged file, and the contents are checked in full).
   */
  md5?: string;
  onProgress?: ProgressCallback;
}

/** Loads CIFAR-10 (32x32x3), downloading the archive into the cache folder on first use. */
export async function loadCifar10(options: CifarOptions): Promise<Dataset> {
  if (options.dataDirectory !== undefined) {
    const given = path.resolve(options.dataDirectory);
    if (pathKind(given) === 'file') {
      // The archive as downloaded: read in place (tar-stream), as the cache's copy is.
      if (!isGzipFile(given)) throw new Error(`CIFAR-10: ${given} is a file but not a gzip archive; expected a folder holding ${CIFAR_HOLDING}`);
      return cifarFromFiles(await readCifarArchive(given, options.md5, false), given);
    }
    return cifarFromFiles(readCifarFolder(given), given);
  }
  if (options.cacheDirectory === undefined) throw new Error('loadCifar10: cacheDirectory or dataDirectory is required');
  const archive = path.resolve(options.cacheDirectory, CIFAR10_ARCHIVE);
  const md5 = options.md5 ?? CIFAR10_MD5;
  if (!fs.existsSync(archive)) {
    await downloadFile(options.url ?? CIFAR10_URL, archive, { md5, onProgress: options.onProgress });
  }
  return cifarFromFiles(await readCifarArchive(archive, md5), archive);
}
