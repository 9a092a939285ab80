import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { loadDataset, parseCifarBatch, CIFAR10_MD5, CIFAR10_URL, type LoadProgress } from '../../lib/data';
import type { Dataset } from '../../lib/data/dataset';
import { luma, rgbToGreyscale } from '../../lib/data/greyscale';
import { CIFAR_CLASS_NAMES, cifarFiles, cifarPattern, cifarRecord, cifarTarGz, listAll, localServer, tempDir } from './helpers';

const quiet = { onProgress: () => {} };
const md5 = (b: Buffer) => crypto.createHash('md5').update(b).digest('hex');

/** Checks every pixel of a loaded dataset against the pattern cifarFiles() wrote (see helpers). */
function checkAgainstPattern(d: Dataset, perBatch: number, testCount: number): void {
  assert.deepEqual([d.train.count, d.test.count], [5 * perBatch, testCount]);
  assert.deepEqual([d.height, d.width, d.channels], [32, 32, 3]);
  assert.deepEqual(d.classNames, CIFAR_CLASS_NAMES);
  const check = (images: Uint8Array, i: number, pattern: (p: number, c: number) => number) => {
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++)
        for (let c = 0; c < 3; c++) {
          const got = images[((i * 32 + y) * 32 + x) * 3 + c];
          if (got !== pattern(y * 32 + x, c)) assert.fail(`image ${i} pixel (${y},${x}) channel ${c}: ${got} != ${pattern(y * 32 + x, c)}`);
        }
  };
  for (let k = 0; k < 5 * perBatch; k++) {
    assert.equal(d.train.labels[k], k % 10);
    check(d.train.images, k, cifarPattern(k));
  }
  for (let k = 0; k < testCount; k++) {
    assert.equal(d.test.labels[k], (k + 3) % 10);
    check(d.test.images, k, cifarPattern(1000 + k));
  }
}

test('the defaults are the official CIFAR-10 binary archive and its MD5', () => {
  assert.equal(CIFAR10_URL, 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz');
  assert.equal(CIFAR10_MD5, 'c32a1d4ab5d03f1284b67883e8d87530');
});

test('parseCifarBatch turns R, G, B planes into NHWC', () => {
  // Record 0: R = pixel index mod 256, G = 255 - that, B = 7. Record 1: a single red pixel at (y=1, x=2).
  const r0 = cifarRecord(3, (p, c) => (c === 0 ? p % 256 : c === 1 ? 255 - (p % 256) : 7));
  const r1 = cifarRecord(9, (p, c) => (c === 0 && p === 1 * 32 + 2 ? 255 : 0));
  const s = parseCifarBatch(Buffer.concat([r0, r1]), 'x.bin');
  assert.equal(s.count, 2);
  assert.deepEqual(Array.from(s.labels), [3, 9]);
  assert.equal(s.images.length, 2 * 3072);
  // Image 0, pixel (y=0, x=5): p = 5.
  assert.deepEqual(Array.from(s.images.subarray(5 * 3, 5 * 3 + 3)), [5, 250, 7]);
  // Image 0, pixel (y=31, x=31): p = 1023 -> 1023 % 256 = 255.
  assert.deepEqual(Array.from(s.images.subarray(1023 * 3, 1024 * 3)), [255, 0, 7]);
  const img1 = s.images.subarray(3072);
  const at = (y: number, x: number) => Array.from(img1.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
  assert.deepEqual(at(1, 2), [255, 0, 0]);
  assert.deepEqual(at(2, 1), [0, 0, 0]);
  assert.equal(img1.reduce((a, v) => a + v, 0), 255);
});

test('records of the wrong length or with a bad label are errors naming the file', () => {
  const rec = cifarRecord(1, () => 0);
  assert.throws(
    () => parseCifarBatch(Buffer.concat([rec, rec.subarray(0, 100)]), 'data_batch_3.bin'),
    /data_batch_3\.bin: 3173 bytes is not a whole, non-zero number of 3073-byte records.*expected a multiple of 3073/,
  );
  assert.throws(() => parseCifarBatch(new Uint8Array(0), 'empty.bin'), /empty\.bin: 0 bytes/);
  const bad = cifarRecord(10, () => 0);
  assert.throws(() => parseCifarBatch(Buffer.concat([rec, bad]), 'test_batch.bin'), /test_batch\.bin: record 1 has label 10; expected 0\.\.9/);
});

test('an extracted cifar-10-batches-bin folder loads (dataDirectory), and a missing file is named', async (t) => {
  const dir = tempDir(t);
  for (const [name, data] of cifarFiles(2, 3)) fs.writeFileSync(path.join(dir, name), data);
  checkAgainstPattern(await loadDataset('cifar10', { ...quiet, dataDirectory: dir }), 2, 3);
  fs.rmSync(path.join(dir, 'data_batch_4.bin'));
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: dir }), new RegExp(`${dir}: missing data_batch_4\\.bin`));
  fs.writeFileSync(path.join(dir, 'data_batch_4.bin'), Buffer.alloc(3000));
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: dir }), /data_batch_4\.bin: 3000 bytes is not a whole/);
});

test('the data folder may be the cifar-10-binary.tar.gz itself: it loads without a download, and a damaged one is named', async (t) => {
  const dir = tempDir(t);
  const archive = await cifarTarGz(cifarFiles(2, 3));
  const file = path.join(dir, 'cifar-10-binary.tar.gz');
  fs.writeFileSync(file, archive);
  checkAgainstPattern(await loadDataset('cifar10', { ...quiet, dataDirectory: file }), 2, 3);
  assert.equal((await loadDataset('cifar-gs', { ...quiet, dataDirectory: file })).channels, 1);
  // gzip's checksum catches damage anywhere in the data; the user's file is not "cached" or to be deleted.
  const damaged = Buffer.from(archive);
  damaged[damaged.length - 10] ^= 0xff;
  fs.writeFileSync(file, damaged);
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: file }), (e: Error) => {
    assert.ok(e.message.startsWith(`${file}: cannot read the CIFAR-10 archive`), e.message);
    assert.match(e.message, /It may be damaged: download it again$/);
    return true;
  });
  // An MD5, when given, is checked for such an archive too.
  fs.writeFileSync(file, archive);
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: file, md5: '0'.repeat(32) }), new RegExp(`${file}: MD5 is ${md5(archive)}; expected 0{32}\\. The archive is damaged or not the official one`));
});

test('a data folder that is a file but no archive, or does not exist, says what was expected', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'data_batch_1.bin');
  fs.writeFileSync(file, cifarFiles(1, 1).get('data_batch_1.bin')!);
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: file }), (e: Error) => {
    assert.equal(e.message, `CIFAR-10: ${file} is a file but not a gzip archive; expected a folder holding the extracted cifar-10-batches-bin files ` +
      '(data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin, batches.meta.txt), or the cifar-10-binary.tar.gz archive itself');
    return true;
  });
  const absent = path.join(dir, 'nowhere');
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: absent }), (e: Error) => {
    assert.ok(e.message.startsWith(`CIFAR-10: data folder ${absent} does not exist; expected a folder holding the extracted cifar-10-batches-bin files`), e.message);
    assert.match(e.message, /Leave the data folder unset to download the archive$/);
    return true;
  });
});

test('a folder holding only cifar-10-batches-bin/ (where the archive was extracted) names that subfolder', async (t) => {
  const dir = tempDir(t);
  const inner = path.join(dir, 'cifar-10-batches-bin');
  fs.mkdirSync(inner);
  for (const [name, data] of cifarFiles(1, 1)) fs.writeFileSync(path.join(inner, name), data);
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: dir }), (e: Error) => {
    assert.equal(e.message, `CIFAR-10: ${dir} holds none of the CIFAR-10 files, but it holds cifar-10-batches-bin: use ${inner} as the data folder`);
    return true;
  });
  assert.equal((await loadDataset('cifar10', { ...quiet, dataDirectory: inner })).train.count, 5);
  // The download cache (which holds the archive) given as the data folder: the archive is named.
  fs.rmSync(inner, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cifar-10-binary.tar.gz'), await cifarTarGz(cifarFiles(1, 1)));
  await assert.rejects(loadDataset('cifar10', { ...quiet, dataDirectory: dir }), new RegExp(`use ${path.join(dir, 'cifar-10-binary\\.tar\\.gz')} as the data folder$`));
});

test('download: happy path, progress reported, then loads from the cache without the network', async (t) => {
  const archive = await cifarTarGz(cifarFiles(2, 3));
  const server = await localServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': archive.length });
    // Send in pieces so progress has something to report.
    let offset = 0;
    const pump = () => {
      if (offset >= archive.length) return res.end();
      res.write(archive.subarray(offset, offset + 4096));
      offset += 4096;
      setImmediate(pump);
    };
    pump();
  });
  const cache = tempDir(t);
  const events: LoadProgress[] = [];
  const d = await loadDataset('cifar10', { cacheDirectory: cache, url: server.url, md5: md5(archive), onProgress: (p) => events.push({ ...p }) });
  checkAgainstPattern(d, 2, 3);
  assert.deepEqual(listAll(cache), ['cifar-10-binary.tar.gz']);
  assert.ok(fs.readFileSync(path.join(cache, 'cifar-10-binary.tar.gz')).equals(archive));
  const last = events[events.length - 1];
  assert.deepEqual([last.phase, last.unit, last.finished, last.done, last.total], ['download', 'bytes', true, archive.length, archive.length]);
  assert.ok(events.every((e, i) => i === 0 || e.done >= events[i - 1].done), 'progress never goes backwards');
  assert.equal(server.requests, 1);
  await server.close();
  // Second load: from the cache, no request.
  const again = await loadDataset('cifar10', { ...quiet, cacheDirectory: cache, url: server.url, md5: md5(archive) });
  checkAgainstPattern(again, 2, 3);
  // cifar-gs from the same cache: one channel, Pillow's luma of each pixel.
  const gs = await loadDataset('cifar-gs', { ...quiet, cacheDirectory: cache, url: server.url, md5: md5(archive) });
  assert.deepEqual([gs.name, gs.channels, gs.train.count, gs.test.count], ['cifar-gs', 1, 10, 3]);
  assert.equal(gs.train.images.length, 10 * 1024);
  assert.deepEqual(gs.train.labels, d.train.labels);
  const pat = cifarPattern(7);
  for (const p of [0, 1, 100, 1023]) assert.equal(gs.train.images[7 * 1024 + p], luma(pat(p, 0), pat(p, 1), pat(p, 2)));
});

test('download: a checksum mismatch is an error and leaves no file behind', async (t) => {
  const archive = await cifarTarGz(cifarFiles(1, 1));
  const server = await localServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': archive.length });
    res.end(archive);
  });
  const cache = tempDir(t);
  const wrong = '0'.repeat(32);
  await assert.rejects(loadDataset('cifar10', { ...quiet, cacheDirectory: cache, url: server.url, md5: wrong }), (e: Error) => {
    assert.match(e.message, /checksum mismatch/);
    assert.ok(e.message.includes(`MD5 is ${md5(archive)}; expected ${wrong}`), e.message);
    assert.ok(e.message.includes(path.join(cache, 'cifar-10-binary.tar.gz')), e.message);
    return true;
  });
  assert.deepEqual(listAll(cache), []);
});

for (const chunked of [false, true]) {
  test(`download: a connection cut mid-transfer (${chunked ? 'chunked' : 'with Content-Length'}) leaves no file; a retry succeeds`, async (t) => {
    const archive = await cifarTarGz(cifarFiles(2, 2));
    const server = await localServer(t, (_req, res, n) => {
      res.writeHead(200, chunked ? {} : { 'Content-Length': archive.length });
      if (n === 1) {
        // First request: send about half, then cut the connection.
        res.write(archive.subarray(0, Math.floor(archive.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      } else {
        res.end(archive);
      }
    });
    const cache = tempDir(t);
    const options = { ...quiet, cacheDirectory: cache, url: server.url, md5: md5(archive) };
    await assert.rejects(loadDataset('cifar10', options), (e: Error) => {
      assert.ok(e.message.includes(`download of ${server.url} failed`), e.message);
      return true;
    });
    assert.deepEqual(listAll(cache), [], 'no partial or temporary file');
    const d = await loadDataset('cifar10', options);
    checkAgainstPattern(d, 2, 2);
    assert.equal(server.requests, 2);
    assert.deepEqual(listAll(cache), ['cifar-10-binary.tar.gz']);
  });
}

test('download: HTTP errors and redirects', async (t) => {
  const archive = await cifarTarGz(cifarFiles(1, 1));
  const server = await localServer(t, (req, res) => {
    if (req.url === '/missing') {
      res.writeHead(404);
      res.end('not here');
    } else if (req.url === '/moved') {
      res.writeHead(302, { Location: '/cifar-10-binary.tar.gz' });
      res.end();
    } else {
      res.writeHead(200);
      res.end(archive);
    }
  });
  const base = server.url.replace(/\/[^/]*$/, '');
  const cache = tempDir(t);
  await assert.rejects(loadDataset('cifar10', { ...quiet, cacheDirectory: cache, url: `${base}/missing`, md5: md5(archive) }), /missing failed: HTTP 404/);
  assert.deepEqual(listAll(cache), []);
  const d = await loadDataset('cifar10', { ...quiet, cacheDirectory: cache, url: `${base}/moved`, md5: md5(archive) });
  assert.equal(d.train.count, 5);
});

test('a corrupt cached archive is an error naming it', async (t) => {
  const cache = tempDir(t);
  const archive = await cifarTarGz(cifarFiles(1, 1));
  const file = path.join(cache, 'cifar-10-binary.tar.gz');
  const corrupt = Buffer.from(archive);
  corrupt[corrupt.length - 10] ^= 0xff;
  fs.writeFileSync(file, corrupt);
  await assert.rejects(loadDataset('cifar10', { ...quiet, cacheDirectory: cache, url: 'http://127.0.0.1:9/none', md5: md5(archive) }), (e: Error) => {
    assert.ok(e.message.startsWith(file), e.message);
    return true;
  });
  fs.writeFileSync(file, archive.subarray(0, 200));
  await assert.rejects(loadDataset('cifar10', { ...quiet, cacheDirectory: cache, md5: md5(archive) }), new RegExp(`${file}: cannot read the CIFAR-10 archive`));
});

test('luma matches Pillow convert("L") on known pixels (values from Pillow 9.4)', () => {
  // [R, G, B, Pillow's L]. (10,200,30): exact 123.83 -> 124 (truncation would give 123);
  // (0,18,131): exact 25.5 -> 25 and (0,255,51): exact 155.499 -> 156 (so not Math.round of the exact value).
  const pillow: [number, number, number, number][] = [
    [0, 0, 0, 0], [255, 255, 255, 255], [255, 0, 0, 76], [0, 255, 0, 150], [0, 0, 255, 29], [10, 200, 30, 124],
    [1, 1, 1, 1], [128, 128, 128, 128], [200, 100, 50, 124], [17, 34, 51, 31], [254, 1, 128, 91], [3, 250, 7, 148],
    [99, 99, 100, 99], [0, 18, 131, 25], [0, 255, 51, 156], [1, 19, 132, 26],
  ];
  for (const [r, g, b, l] of pillow) assert.equal(luma(r, g, b), l, `luma(${r}, ${g}, ${b})`);
  const rgb = new Uint8Array(pillow.flatMap(([r, g, b]) => [r, g, b]));
  assert.deepEqual(Array.from(rgbToGreyscale(rgb)), pillow.map((p) => p[3]));
  // A grey pixel stays itself for every level.
  for (let v = 0; v < 256; v++) assert.equal(luma(v, v, v), v);
  assert.throws(() => rgbToGreyscale(new Uint8Array(4)), /not a multiple of 3/);
});
