import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { parseIdx, readIdxFile, readIdxSplit } from '../../lib/data/idx';
import { loadIdxDataset } from '../../lib/data/mnist';
import { idxBytes, tempDir } from './helpers';

const shape = { height: 2, width: 3, numClasses: 10 };
const images5 = () => idxBytes([5, 2, 3], Array.from({ length: 30 }, (_, i) => i * 8));
const labels = (n: number) => idxBytes([n], Array.from({ length: n }, (_, i) => i % 10));

test('parses a valid IDX file, raw and gzipped, to the same result', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'raw'), images5());
  fs.writeFileSync(path.join(dir, 'packed.gz'), zlib.gzipSync(images5()));
  const raw = readIdxFile(path.join(dir, 'raw'), { ndims: 3 });
  const gz = readIdxFile(path.join(dir, 'packed.gz'), { ndims: 3 });
  assert.deepEqual(raw.dims, [5, 2, 3]);
  assert.equal(raw.data.length, 30);
  assert.equal(raw.data[29], 232);
  assert.deepEqual(gz.dims, raw.dims);
  assert.deepEqual(gz.data, raw.data);
  assert.ok(!Buffer.isBuffer(raw.data), 'data is a plain Uint8Array');
});

test('wrong magic number is an error naming the file', () => {
  const bytes = images5();
  bytes[0] = 0x08; // e.g. a little-endian or foreign file
  assert.throws(() => parseIdx(bytes, 'some/file-idx3-ubyte'), (e: Error) => {
    assert.equal(e.message, 'some/file-idx3-ubyte: bad IDX magic number 0x08000803 (expected 0x00000803 for images): not an IDX file (its first two bytes must be 0)');
    return true;
  });
});

test('a magic number announcing other dimensions is a bad magic number, with the expected one for images or labels', (t) => {
  // Images files start 0x00000803, labels files 0x00000801: a 4-dimensional file, or a labels file, where images belong.
  const dir = tempDir(t);
  const file = path.join(dir, 'train-images-idx3-ubyte');
  fs.writeFileSync(file, idxBytes([5, 2, 3, 1], new Uint8Array(30)));
  assert.throws(() => readIdxSplit(file, file, shape), (e: Error) => {
    assert.equal(e.message, `${file}: bad IDX magic number 0x00000804 (expected 0x00000803 for images): 4 dimensions where images have 3`);
    return true;
  });
  fs.writeFileSync(file, labels(5));
  assert.throws(() => readIdxSplit(file, file, shape), (e: Error) => {
    assert.equal(e.message, `${file}: bad IDX magic number 0x00000801 (expected 0x00000803 for images): 1 dimension where images have 3 (a labels file?)`);
    return true;
  });
  const labelsFile = path.join(dir, 'train-labels-idx1-ubyte');
  fs.writeFileSync(labelsFile, images5());
  fs.writeFileSync(file, images5());
  assert.throws(() => readIdxSplit(file, labelsFile, shape), (e: Error) => {
    assert.equal(e.message, `${labelsFile}: bad IDX magic number 0x00000803 (expected 0x00000801 for labels): 3 dimensions where labels have 1 (an images file?)`);
    return true;
  });
});

test('an element type other than unsigned byte is an error naming it', () => {
  const bytes = images5();
  bytes[2] = 0x0d;
  assert.throws(() => parseIdx(bytes, 'f'), (e: Error) => {
    assert.equal(e.message, 'f: bad IDX magic number 0x00000d03 (expected 0x00000803 for images): element type 0x0d (float (float32)); only 0x08 (unsigned byte) is read');
    return true;
  });
});

test('wrong number of dimensions or wrong image size is an error', () => {
  assert.throws(() => parseIdx(labels(4), 'labels-file', { ndims: 3 }), /labels-file: bad IDX magic number 0x00000801 \(expected 0x00000803 for images\)/);
  assert.throws(
    () => parseIdx(images5(), 'img', { ndims: 3, dims: [undefined, 28, 28] }),
    /img: IDX dimension 1 is 2 \(dims 5x2x3\); expected 28/,
  );
});

test('a truncated file is an error naming the file and the expected and actual sizes', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'train-images-idx3-ubyte');
  fs.writeFileSync(file, images5().subarray(0, 16 + 29));
  assert.throws(() => readIdxFile(file), (e: Error) => {
    assert.match(e.message, /truncated: 45 bytes; expected 46 \(16-byte header \+ 5 x 2 x 3 unsigned bytes\)/);
    assert.ok(e.message.startsWith(file), e.message);
    return true;
  });
  // Truncated inside the header too.
  assert.throws(() => parseIdx(images5().subarray(0, 10), 'h'), /h: truncated IDX header: 10 bytes; expected at least 16/);
  assert.throws(() => parseIdx(new Uint8Array(2), 'tiny'), /tiny: 2 bytes is too short/);
});

test('an oversized file is an error naming the file and the expected and actual sizes', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'big.gz');
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat([images5(), Buffer.from([1, 2, 3])])));
  assert.throws(() => readIdxFile(file), new RegExp(`${file.replace(/[.]/g, '\\.')} \\(after gunzip\\): too long: 49 bytes; expected 46`));
});

test('a corrupt gzip file is an error naming the file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'bad.gz');
  fs.writeFileSync(file, zlib.gzipSync(images5()).subarray(0, 20));
  assert.throws(() => readIdxFile(file), /bad\.gz: not a valid gzip file/);
  assert.throws(() => readIdxFile(path.join(dir, 'absent')), /absent: cannot read IDX file/);
});

test('images/labels count mismatch is an error naming both files', (t) => {
  const dir = tempDir(t);
  const img = path.join(dir, 'imgs');
  const lab = path.join(dir, 'labs');
  fs.writeFileSync(img, images5());
  fs.writeFileSync(lab, labels(4));
  assert.throws(() => readIdxSplit(img, lab, shape), (e: Error) => {
    assert.match(e.message, /count mismatch/);
    assert.ok(e.message.includes(`${img} holds 5 images`), e.message);
    assert.ok(e.message.includes(`${lab} holds 4 labels`), e.message);
    return true;
  });
  fs.writeFileSync(lab, labels(5));
  const split = readIdxSplit(img, lab, shape);
  assert.equal(split.count, 5);
  assert.deepEqual(Array.from(split.labels), [0, 1, 2, 3, 4]);
});

test('a label outside the classes is an error naming the file', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'imgs'), images5());
  fs.writeFileSync(path.join(dir, 'labs'), idxBytes([5], [0, 1, 2, 10, 4]));
  assert.throws(() => readIdxSplit(path.join(dir, 'imgs'), path.join(dir, 'labs'), shape), /labs: label 3 is 10; expected 0\.\.9/);
});

test('loadIdxDataset finds raw, .gz and dotted names, and names a missing file', (t) => {
  const dir = tempDir(t);
  const img = (n: number) => idxBytes([n, 28, 28], new Uint8Array(n * 784).fill(7));
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(img(3)));
  fs.writeFileSync(path.join(dir, 'train-labels.idx1-ubyte'), labels(3));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), img(2));
  assert.throws(
    () => loadIdxDataset({ name: 'x', directory: dir, classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] }),
    /missing t10k-labels-idx1-ubyte; expected one of t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte\.gz/,
  );
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(labels(2)));
  const d = loadIdxDataset({ name: 'x', directory: dir, classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] });
  assert.deepEqual([d.train.count, d.test.count, d.height, d.width, d.channels], [3, 2, 28, 28, 1]);
  assert.equal(d.train.images.length, 3 * 784);
});
