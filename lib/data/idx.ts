/**
 * Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzipped (Node: reads files, uses zlib).
 *
 * Layout: bytes 0-1 are zero, byte 2 the element type (0x08 = unsigned byte), byte 3 the number of
 * dimensions d, then d big-endian uint32 sizes, then the data. We read only unsigned-byte files and insist
 * that the file holds exactly the bytes its header announces.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import type { Split } from './dataset';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export interface IdxExpectation {
  /** Required number of dimensions (3 for images, 1 for labels). */
  ndims?: number;
  /** What the file holds, for errors (default: "images" for 3 dimensions, "labels" for 1). */
  what?: string;
  /** Required sizes; `undefined` entries are free (for example [undefined, 28, 28]). */
  dims?: (number | undefined)[];
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short (int16)',
  0x0c: 'int (int32)',
  0x0d: 'float (float32)',
  0x0e: 'double (float64)',
};

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Returns the bytes, gunzipped when they start with the gzip magic number (1f 8b). */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {
    throw new Error(`${file}: not a valid gzip file (${(e as Error).message})`);
  }
}

/** Parses an (uncompressed) IDX file's bytes. `file` names it in error messages. */
export function parseIdx(bytes: Uint8Array, file: string, expect: IdxExpectation = {}): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${file}: ${bytes.length} bytes is too short for an IDX header (expected at least 4)`);
  }
  const type = bytes[2];
  const ndims = bytes[3];
  // The magic number is the whole first word, 0x000008NN for NN-dimensional unsigned bytes: judged as one, so
  // that a labels file (0x00000801) where images belong reads as a bad magic number, not a count of dimensions.
  const wantDims = expect.ndims ?? ndims;
  if (bytes[0] !== 0 || bytes[1] !== 0 || type !== 0x08 || ndims !== wantDims) {
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
    const what = expect.what ?? (wantDims === 3 ? 'images' : wantDims === 1 ? 'labels' : `${wantDims}-dimensional data`);
    let why: string;
    if (bytes[0] !== 0 || bytes[1] !== 0) why = 'not an IDX file (its first two bytes must be 0)';
    else if (type !== 0x08) why = `element type 0x${type.toString(16).padStart(2, '0')} (${IDX_TYPES[type] ?? 'unknown'}); only 0x08 (unsigned byte) is read`;
    else why = `${ndims} dimension${ndims === 1 ? '' : 's'} where ${what} have ${wantDims}${ndims === 1 ? ' (a labels file?)' : ndims === 3 ? ' (an images file?)' : ''}`;
    throw new Error(`${file}: bad IDX magic number ${hex(magic)} (expected ${hex(0x800 + wantDims)} for ${what}): ${why}`);
  }
  if (ndims === 0) throw new Error(`${file}: IDX header says 0 dimensions; expected at least 1`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${file}: truncated IDX header: ${bytes.length} bytes; expected at least ${headerBytes} for ${ndims} dimensions`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect.dims) {
    expect.dims.forEach((want, i) => {
      if (want !== undefined && dims[i] !== want) {
        throw new Error(`${file}: IDX dimension ${i} is ${dims[i]} (dims ${dims.join('x')}); expected ${want}`);
      }
    });
  }
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + dataBytes;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'too long';
    throw new Error(
      `${file}: ${what}: ${bytes.length} bytes; expected ${expected} (${headerBytes}-byte header + ` +
        `${dims.join(' x ')} unsigned bytes)`,
    );
  }
  // A plain Uint8Array view (not a Node Buffer), sharing the file's memory.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, dataBytes) };
}

/** Reads and parses an IDX file, raw or gzipped (detected by content, not by name). */
export function readIdxFile(path: string, expect: IdxExpectation = {}): IdxArray {
  let raw: Uint8Array;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read IDX file (${(e as Error).message})`);
  }
  // Sizes in errors are of the decompressed data; say so for gzipped files.
  return parseIdx(maybeGunzip(raw, path), isGzip(raw) ? `${path} (after gunzip)` : path, expect);
}

/**
 * Reads an images file (N x height x width) and its labels file (N) into a split, checking that the
 * counts agree and every label is < numClasses.
 */
export function readIdxSplit(
  imagesPath: string,
  labelsPath: string,
  shape: { height: number; width: number; numClasses: number },
): Split {
  const images = readIdxFile(imagesPath, { ndims: 3, dims: [undefined, shape.height, shape.width] });
  const labels = readIdxFile(labelsPath, { ndims: 1 });
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new Error(
      `count mismatch: ${imagesPath} holds ${count} images but ${labelsPath} holds ${labels.dims[0]} labels; ` +
        `expected the same number`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (labels.data[i] >= shape.numClasses) {
      throw new Error(`${labelsPath}: label ${i} is ${labels.data[i]}; expected 0..${shape.numClasses - 1}`);
    }
  }
  return { images: images.data, labels: labels.data, count };
}
