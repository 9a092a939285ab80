/**
 * The PyTorch reference beside a run (lib/results/reference.ts): bench/torch_train_mnist.py --export writes a file
 * the reader accepts (where PyTorch is installed: it is not in CI), a reference with other flags or a broken field
 * is an error naming the file and the field, and the table sets the run's figure beside the reference's after the
 * same epochs (exact text), with the difference.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareWithReference, readReference, REFERENCE_FILE, referenceConflicts, TorchReference } from '../../lib/results/reference';
import { ExportedEpoch, HISTORY_FILE, readHistory } from '../../lib/results/result';
import { ReproduceRun, RUNS } from '../../lib/results/runs';
import { renderRow, renderTable } from '../../lib/results/table';
import { resultRecord } from './result-record';

const root = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';
const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const gated: ReproduceRun = RUNS.find((run) => run.name === 'gated-5x30')!;

/** A reference as the script writes it for gated-5x30's flags, `epochs` of them trained. */
function reference(epochs: number, overrides: Partial<TorchReference['flags']> = {}): TorchReference {
  return {
    script: 'bench/torch_train_mnist.py', argv: ['--model', 'gated', '--epochs', '15', '--out', 'runs/torch/gated-5x30'], torch: '1.13.0', threads: 2,
    flags: { model: 'gated', layers: 5, kernel: 5, channels: 30, epochs: 15, batch: 64, lr: 0.001, seed: 0, limit: 0, test_limit: 0, ...overrides },
    epochs: Array.from({ length: epochs }, (_, epoch) => ({ epoch, train_bits_per_dim: 1.3 - epoch / 100, test_bits_per_dim: 1.2 - epoch / 100, test_images: 10000, seconds: 600 })),
  };
}

/** Our exported history: test bits/dim 1.25, 1.24, ... */
const history: ExportedEpoch[] = Array.from({ length: 15 }, (_, epoch) => ({ epoch, trainBitsPerDim: 1.3, testBitsPerDim: 1.25 - epoch / 100, seconds: 400 }));

describe('PyTorch reference', () => {
  let scratch: string;
  let dir: string;
  const write = (value: unknown) => fs.writeFileSync(path.join(dir, REFERENCE_FILE), JSON.stringify(value));
  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'reference-'));
    dir = path.join(scratch, 'gated-5x30');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, HISTORY_FILE), JSON.stringify(history));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('bench/torch_train_mnist.py --export writes a reference the reader accepts, with the flags it trained with', { skip: !hasTorch && 'PyTorch is not installed (python3-torch)' }, () => {
    const file = path.join(scratch, 'exported', REFERENCE_FILE);
    const run = spawnSync(PYTHON, [path.join(root, 'bench/torch_train_mnist.py'), '--model', 'gated', '--layers', '2', '--kernel', '3', '--channels', '8',
      '--epochs', '2', '--limit', '128', '--test-limit', '64', '--threads', '1', '--out', path.join(scratch, 'torch-run'), '--export', file], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const read = readReference(path.dirname(file))!;
    assert.equal(read.epochs.length, 2);
    assert.deepEqual(read.epochs.map((e) => [e.epoch, e.test_images]), [[0, 64], [1, 64]]);
    assert.ok(read.epochs.every((e) => e.test_bits_per_dim > 0 && e.test_bits_per_dim < 10), JSON.stringify(read.epochs));
    const tiny: ReproduceRun = { name: 'tiny', summary: 'tiny', task: 'mnist', reference: 'a test',
      argv: ['-m', 'gated', '-x', '2', '-k', '3', '-c', '8', '-b', '64', '-l', '0.001', '-e', '2', '--limit', '128', '--test-limit', '64'] };
    assert.deepEqual(referenceConflicts(tiny, read), []);
    assert.deepEqual(referenceConflicts(gated, read), ['--layers 2 (run: -x 5)', '--kernel 3 (run: -k 5)', '--channels 8 (run: -c 30)',
      '--epochs 2 (run: -e 15)', '--limit 128 (run: --limit 0)', '--test-limit 64 (run: --test-limit 0)']);
  });

  test('the run beside its reference after the epochs both have: the table cell, and a section with the difference', () => {
    write(reference(4));
    const partial = compareWithReference(gated, dir, readHistory(dir), 10000)!;
    assert.deepEqual([partial.epochs, partial.ours, partial.theirs], [4, history[3].testBitsPerDim, 1.2 - 3 / 100]);
    write(reference(15));
    const full = compareWithReference(gated, dir, readHistory(dir), 10000)!;
    assert.deepEqual([full.epochs, full.ours, full.theirs], [15, history[14].testBitsPerDim, 1.2 - 14 / 100]);

    const result = resultRecord({ test: { images: 10000, bitsPerDim: 1.11 } });
    assert.match(renderRow({ run: gated, status: { state: 'done', result, reference: full } }), /\| 1\.1100 \(10,000 images; PyTorch reference 1\.0600\) \|/);
    assert.match(renderRow({ run: gated, status: { state: 'done', result, reference: partial } }), /\| 1\.1100 \(10,000 images; after 4 epochs 1\.2200, PyTorch reference 1\.1700\) \|/);
    const table = renderTable([{ run: gated, status: { state: 'done', result, reference: full } }]);
    assert.ok(table.includes('- `gated-5x30` after 15 epochs of 15: 1.1100 here, 1.0600 in PyTorch (ours minus PyTorch: +0.0500 bits/dim); PyTorch 1.13.0 on 2 threads, ' +
      '2.5 h for those epochs: `/usr/bin/python3 bench/torch_train_mnist.py --model gated --epochs 15 --out runs/torch/gated-5x30`.'), table);
    assert.ok(!renderTable([{ run: gated, status: { state: 'done', result } }]).includes('## Beside PyTorch'), 'no section without a reference');
    fs.rmSync(path.join(dir, REFERENCE_FILE));
    assert.equal(compareWithReference(gated, dir, readHistory(dir), 10000), undefined);
  });

  test('a reference with other flags, a broken field, epochs out of order or other test images is an error naming the file and the field', () => {
    const file = path.join(dir, REFERENCE_FILE);
    const name = file.replace(/[.]/g, '\\.');
    write(reference(3, { layers: 3, lr: 0.0001 }));
    assert.throws(() => compareWithReference(gated, dir, readHistory(dir), 10000),
      new RegExp(`^Error: ${name}: trained with other flags than run gated-5x30's: --layers 3 \\(run: -x 5\\), --lr 0\\.0001 \\(run: -l 0\\.001\\)$`));
    const broken = reference(3) as unknown as { flags: Record<string, unknown>; epochs: Record<string, unknown>[] };
    broken.flags.channels = '30';
    write(broken);
    assert.throws(() => readReference(dir), new RegExp(`${name}: field "flags\\.channels" is "30"; expected a whole number >= 0`));
    broken.flags.channels = 30;
    broken.epochs[2].epoch = 5;
    write(broken);
    assert.throws(() => readReference(dir), new RegExp(`${name}: epochs\\[2\\]: field "epoch" is 5; expected 2`));
    broken.epochs[2].epoch = 2;
    broken.epochs[2].test_bits_per_dim = null;
    write(broken);
    assert.throws(() => readReference(dir), new RegExp(`${name}: epochs\\[2\\]: field "test_bits_per_dim" is null; expected a finite number`));
    write(reference(3));
    assert.throws(() => compareWithReference(gated, dir, readHistory(dir), 1000), new RegExp(`${name}: epochs\\[2\\]: field "test_images" is 10000; expected 1000`));
    fs.writeFileSync(file, '{"script": ');
    assert.throws(() => readReference(dir), new RegExp(`${name}: not valid JSON`));
    fs.rmSync(file);
  });

  test('an exported history with an epoch out of order or a missing field is an error naming the file and the epoch', () => {
    const file = path.join(dir, HISTORY_FILE);
    fs.writeFileSync(file, JSON.stringify([history[0], history[2]]));
    assert.throws(() => readHistory(dir), new RegExp(`${file.replace(/[.]/g, '\\.')}: epoch 1: field "epoch" is 2; expected 1`));
    fs.writeFileSync(file, JSON.stringify([{ epoch: 0, seconds: 1 }]));
    assert.throws(() => readHistory(dir), /epoch 0: field "trainBitsPerDim" is missing; expected a finite number/);
    fs.writeFileSync(file, JSON.stringify(history));
  });
});
