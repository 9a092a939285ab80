import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { TASK_NAMES, defaultCacheDirectory, defaultProgress, loadDataset, validateDataset } from '../../lib/data';
import { projectRoot } from '../../lib/project-root';
import type { Dataset } from '../../lib/data/dataset';

test('an unknown task is an error listing the known ones', async () => {
  await assert.rejects(loadDataset('cifar100'), /unknown task "cifar100"; expected one of mnist, fashion-mnist, cifar10, cifar-gs, imagenet64/);
  assert.deepEqual([...TASK_NAMES], ['mnist', 'fashion-mnist', 'cifar10', 'cifar-gs', 'imagenet64']);
});

test('the default cache is <project>/datasets/cache', () => {
  const root = path.resolve(__dirname, '..', '..');
  assert.equal(projectRoot(), root);
  assert.equal(defaultCacheDirectory(), path.join(root, 'datasets', 'cache'));
});

test('the dataset type, batch iterator, PRNG and greyscale import nothing Node-only', () => {
  const browserSafe = ['dataset.ts', 'batches.ts', 'random.ts', 'greyscale.ts'];
  for (const file of browserSafe) {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', 'lib', 'data', file), 'utf8');
    const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of imports) {
      assert.ok(browserSafe.includes(`${spec.replace(/^\.\//, '')}.ts`), `${file} imports ${spec}: only ${browserSafe.join(', ')} allowed`);
    }
    assert.doesNotMatch(source, /\brequire\s*\(/, `${file} calls require`);
    assert.doesNotMatch(source, /\b(process|Buffer|__dirname)\b/, `${file} uses a Node global`);
  }
});

test('validateDataset rejects inconsistent datasets, naming the field', () => {
  const good = (): Dataset => ({
    name: 'toy',
    height: 2,
    width: 2,
    channels: 1,
    classNames: ['a', 'b'],
    train: { images: new Uint8Array(8), labels: new Uint8Array([0, 1]), count: 2 },
    test: { images: new Uint8Array(4), labels: new Uint8Array([1]), count: 1 },
  });
  validateDataset(good());
  const d1 = good();
  d1.train.images = new Uint8Array(7);
  assert.throws(() => validateDataset(d1), /dataset toy train: images has 7 bytes; expected count \* height \* width \* channels = 2 \* 4 = 8/);
  const d2 = good();
  d2.test.labels = new Uint8Array([2]);
  assert.throws(() => validateDataset(d2), /dataset toy test: label 0 is 2; expected 0\.\.1 \(2 classes\)/);
  const d3 = good();
  d3.channels = 0;
  assert.throws(() => validateDataset(d3), /dataset toy: channels must be a positive integer; got 0/);
  const d4 = good();
  d4.classNames = [];
  d4.train.labels = new Uint8Array([0, 1]);
  assert.throws(() => validateDataset(d4), /label 1 is 1; expected 0\.\.0 \(unlabelled dataset\)/);
  const d5 = good();
  d5.train.labels = new Uint8Array([0]);
  assert.throws(() => validateDataset(d5), /train: labels has 1 entries; expected count = 2/);
});

test('the default progress display logs start, tenths and end when not on a terminal', () => {
  const lines: string[] = [];
  const progress = defaultProgress({ log: (l) => lines.push(l), bar: false });
  const base = { phase: 'download' as const, file: 'x.tar.gz', total: 2_000_000, unit: 'bytes' as const };
  progress({ ...base, done: 0, finished: false });
  for (let done = 100_000; done <= 2_000_000; done += 100_000) progress({ ...base, done, finished: false });
  progress({ ...base, done: 2_000_000, finished: true });
  assert.equal(lines[0], 'download x.tar.gz: started (2.0 MB)');
  assert.equal(lines[1], 'download x.tar.gz: 10% (200.0 kB)');
  assert.equal(lines[lines.length - 1], 'download x.tar.gz: finished, 2.0 MB');
  assert.equal(lines.length, 11);
});

test('the default progress bar draws on its stream', () => {
  let out = '';
  const progress = defaultProgress({ bar: true, stream: { write: (s: string) => (out += s) } });
  const base = { phase: 'decode' as const, file: 'train', total: 10, unit: 'images' as const };
  for (let done = 0; done <= 10; done++) progress({ ...base, done, finished: done === 10 });
  assert.match(out, /decode train \[.*\] 100% 10 images/);
});
