import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { createCanvas } from '@napi-rs/canvas';
import { loadDataset, type LoadProgress } from '../../lib/data';
import { decodeImage } from '../../lib/data/imagenet64';
import { JpegDecoder } from '../../lib/data/jpeg';
import { Mulberry32 } from '../../lib/data/random';
import { tempDir } from './helpers';

const quiet = { onProgress: () => {} };

/** A PNG whose pixel (x, y) is pixel(x, y) = [r, g, b, a]. */
function png(size: number, pixel: (x: number, y: number) => number[], options: { colorType?: 0 | 2 | 4 | 6 } = {}): Buffer {
  const img = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) img.data.set(pixel(x, y), (y * size + x) * 4);
  return PNG.sync.write(img, { colorType: options.colorType ?? 6 });
}

const patternA = (x: number, y: number) => [x * 4, y * 4, (x + y) % 256, 255];
const patternB = (x: number, y: number) => [255 - x, (x * y) % 256, 17, 255];

/** <root>/train/n01/{a,b}.png, <root>/train/n02/c.jpg (solid colour), <root>/valid/all/v.png. */
function makeTree(root: string): void {
  const write = (rel: string, data: Buffer) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  };
  write('train/n01/a.png', png(64, patternA));
  write('train/n01/b.png', png(64, patternB, { colorType: 2 }));
  const canvas = createCanvas(64, 64);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'rgb(200, 40, 90)';
  ctx.fillRect(0, 0, 64, 64);
  write('train/n02/c.jpg', canvas.encodeSync('jpeg', 95));
  write('valid/all/v.png', png(64, (x) => [x, x, x, 255], { colorType: 0 }));
  write('train/.DS_Store', Buffer.from('hidden files are skipped'));
}

function pixel(images: Uint8Array, i: number, x: number, y: number): number[] {
  const o = ((i * 64 + y) * 64 + x) * 3;
  return Array.from(images.subarray(o, o + 3));
}

test('imagenet64: a folder of 64x64 PNG and JPEG images loads, in sorted order', async (t) => {
  const root = tempDir(t);
  makeTree(root);
  const events: LoadProgress[] = [];
  const d = await loadDataset('imagenet64', { dataDirectory: root, onProgress: (p) => events.push({ ...p }) });
  assert.equal(d.name, 'imagenet64');
  assert.deepEqual([d.height, d.width, d.channels], [64, 64, 3]);
  assert.deepEqual([d.train.count, d.test.count], [3, 1]);
  assert.deepEqual(d.classNames, []);
  assert.deepEqual(Array.from(d.train.labels), [0, 0, 0]);
  assert.equal(d.train.images.length, 3 * 64 * 64 * 3);
  for (const [x, y] of [[0, 0], [5, 9], [63, 63], [40, 2]]) {
    assert.deepEqual(pixel(d.train.images, 0, x, y), patternA(x, y).slice(0, 3), `a.png (${x},${y})`);
    assert.deepEqual(pixel(d.train.images, 1, x, y), patternB(x, y).slice(0, 3), `b.png (${x},${y})`);
    // Greyscale PNG expanded to RGB.
    assert.deepEqual(pixel(d.test.images, 0, x, y), [x, x, x], `v.png (${x},${y})`);
    // JPEG: lossy, so within a few levels of the solid colour.
    const [r, g, b] = pixel(d.train.images, 2, x, y);
    assert.ok(Math.abs(r - 200) <= 4 && Math.abs(g - 40) <= 4 && Math.abs(b - 90) <= 4, `c.jpg (${x},${y}) = ${[r, g, b]}`);
  }
  const finished = events.filter((e) => e.finished);
  assert.deepEqual(finished.map((e) => [e.phase, e.unit, e.done, e.total]), [['decode', 'images', 3, 3], ['decode', 'images', 1, 1]]);
  const limited = await loadDataset('imagenet64', { ...quiet, dataDirectory: root, maxPerSplit: 1 });
  assert.deepEqual([limited.train.count, limited.test.count], [1, 1]);
  assert.deepEqual(limited.train.images, d.train.images.subarray(0, 64 * 64 * 3));
});

test('imagenet64: alpha is dropped as PIL convert("RGB") does', async () => {
  const decoded = await decodeImage(png(64, () => [10, 20, 30, 0]), 'alpha.png', 64);
  assert.deepEqual(Array.from(decoded.rgb.subarray(0, 6)), [10, 20, 30, 10, 20, 30]);
});

test('imagenet64: an image of the wrong size is an error naming the file', async (t) => {
  const root = tempDir(t);
  makeTree(root);
  const bad = path.join(root, 'train', 'n01', 'small.png');
  fs.writeFileSync(bad, png(32, patternA));
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), (e: Error) => {
    assert.equal(e.message, `${bad}: image is 32x32; expected 64x64`);
    return true;
  });
  fs.rmSync(bad);
  const badJpeg = path.join(root, 'valid', 'all', 'wide.jpg');
  const canvas = createCanvas(80, 64);
  fs.writeFileSync(badJpeg, canvas.encodeSync('jpeg', 90));
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), new RegExp(`${badJpeg}: image is 80x64; expected 64x64`));
});

test('imagenet64: a non-image file or a damaged image is an error naming the file', async (t) => {
  const root = tempDir(t);
  makeTree(root);
  const notes = path.join(root, 'train', 'n02', 'notes.txt');
  fs.writeFileSync(notes, 'not an image');
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), (e: Error) => {
    assert.ok(e.message.startsWith(`${notes}: not a PNG or JPEG image`), e.message);
    return true;
  });
  fs.rmSync(notes);
  const broken = path.join(root, 'train', 'n01', 'broken.png');
  fs.writeFileSync(broken, png(64, patternA).subarray(0, 100));
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), new RegExp(`${broken}: cannot decode PNG`));
  fs.rmSync(broken);
  // A truncated JPEG (this one used to crash skia, and so the whole process).
  const brokenJpeg = path.join(root, 'train', 'n02', 'broken.jpg');
  fs.writeFileSync(brokenJpeg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), new RegExp(`${brokenJpeg}: damaged or truncated JPEG`));
  const good = fs.readFileSync(path.join(root, 'train', 'n02', 'c.jpg'));
  fs.writeFileSync(brokenJpeg, good.subarray(0, good.length - 5)); // cut inside the scan data
  await assert.rejects(
    loadDataset('imagenet64', { ...quiet, dataDirectory: root }),
    new RegExp(`${brokenJpeg}: damaged or truncated JPEG \\(no end-of-image marker: the file is truncated\\)`),
  );
});

test('JPEG decoding survives a crash of the decoder process and reports the file', async () => {
  const canvas = createCanvas(64, 64);
  canvas.getContext('2d').fillRect(0, 0, 64, 64);
  const jpeg = canvas.encodeSync('jpeg', 90);
  const decoder = new JpegDecoder();
  try {
    const first = await decodeImage(jpeg, 'first.jpg', 64, decoder);
    assert.deepEqual(Array.from(first.rgb.subarray(0, 3)), [0, 0, 0]);
    // Simulate skia crashing on a file. The child decodes a small JPEG in well under a millisecond, so a kill sent
    // after the request can arrive after the reply (a loaded CI machine saw that): stop the child first, queue the
    // request and the crash, then let it run; the pending SIGSEGV is delivered before it reads the request.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const child = (decoder as any).child as import('node:child_process').ChildProcess;
    child.kill('SIGSTOP');
    const pending = decoder.decode(jpeg, 'victim.jpg');
    child.kill('SIGSEGV');
    child.kill('SIGCONT');
    await assert.rejects(pending, /victim\.jpg: cannot decode JPEG \(the decoder crashed with SIGSEGV on this file: damaged data\)/);
    // The next file gets a fresh decoder process.
    const after = await decodeImage(jpeg, 'after.jpg', 64, decoder);
    assert.deepEqual(after.rgb, first.rgb);
  } finally {
    decoder.close();
  }
});

test('a JPEG the decoder could only partly decode (transparent pixels) is an error naming the file', async () => {
  const canvas = createCanvas(64, 64);
  const jpeg = canvas.encodeSync('jpeg', 90);
  // Skia leaves the pixels of damaged data transparent; stand in for it with a decoder that does so.
  class PartialDecoder extends JpegDecoder {
    override async decode(): Promise<{ width: number; height: number; rgba: Uint8Array }> {
      const rgba = new Uint8Array(64 * 64 * 4).fill(255);
      rgba[(10 * 64 + 3) * 4 + 3] = 0;
      return { width: 64, height: 64, rgba };
    }
  }
  await assert.rejects(
    decodeImage(jpeg, 'partial.jpg', 64, new PartialDecoder()),
    /^Error: partial\.jpg: cannot decode JPEG \(pixel \(3, 10\) was not decoded: damaged data\)$/,
  );
});

test('damaged JPEGs give errors naming the file, never a crash of this process', async () => {
  const canvas = createCanvas(64, 64);
  const ctx = canvas.getContext('2d');
  for (let k = 0; k < 50; k++) {
    ctx.fillStyle = `rgb(${(k * 53) % 256},${(k * 97) % 256},${(k * 31) % 256})`;
    ctx.fillRect((k * 7) % 60, (k * 13) % 60, 10, 12);
  }
  const good = canvas.encodeSync('jpeg', 90);
  const rng = new Mulberry32(1);
  const decoder = new JpegDecoder();
  let errors = 0;
  try {
    // Random byte changes: with skia 0.1.100 several of these crash a decoding process outright.
    for (let t = 0; t < 60; t++) {
      const b = Buffer.from(good);
      for (let f = 1 + rng.nextInt(5); f > 0; f--) b[rng.nextInt(b.length)] = rng.nextInt(256);
      try {
        const d = await decodeImage(b, `fuzz-${t}.jpg`, 64, decoder);
        assert.equal(d.rgb.length, 64 * 64 * 3);
      } catch (e) {
        errors++;
        assert.ok((e as Error).message.startsWith(`fuzz-${t}.jpg: `), (e as Error).message);
      }
    }
  } finally {
    decoder.close();
  }
  assert.ok(errors > 0);
});

test('imagenet64: missing folders are errors naming them', async (t) => {
  const root = tempDir(t);
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: path.join(root, 'nowhere') }), (e: Error) => {
    assert.equal(e.message, `imagenet64: data folder ${path.join(root, 'nowhere')} does not exist; expected a folder holding train/ and valid/, ` +
      'each holding a subfolder of 64x64 PNG or JPEG images. Set the data folder with -D DIR on the command line, or { dataDirectory: DIR } ' +
      'in prepare(config, ...) or loadDataset(task, ...) in a notebook');
    return true;
  });
  const archive = path.join(root, 'imagenet64.tar');
  fs.writeFileSync(archive, 'an archive');
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: archive }), (e: Error) => {
    assert.equal(e.message, `imagenet64: ${archive} is a file, not a folder; expected a folder holding train/ and valid/, each holding a ` +
      'subfolder of 64x64 PNG or JPEG images. It looks like an archive: extract it and use the extracted folder');
    return true;
  });
  fs.rmSync(archive);
  makeTree(root);
  fs.rmSync(path.join(root, 'valid'), { recursive: true });
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), new RegExp(`folder ${path.join(root, 'valid')} is missing`));
  fs.mkdirSync(path.join(root, 'valid', 'empty'), { recursive: true });
  await assert.rejects(loadDataset('imagenet64', { ...quiet, dataDirectory: root }), new RegExp(`${path.join(root, 'valid')} holds no images`));
});
