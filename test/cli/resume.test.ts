/**
 * `npm run train -- --resume`, run as a real child process on real MNIST: a resumed run continues as it was
 * configured, refuses flags that would make it another run, applies and records the training flags that may change,
 * and a diverged run points at the checkpoint it can go back to. Also the checks that must come before any data is
 * read (model options, --out). Every run is the tiny gated config below (4 steps per epoch, about a second).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint-file';
import { initBackend } from '../../lib/backend';
import { loadDataset } from '../../lib/data';
import type { Dataset } from '../../lib/data/dataset';
import { disposeRun, resumeRun } from '../../lib/train/run';
import { readRecord, RECORD_FILE } from '../../lib/runs/record';

const root = path.resolve(__dirname, '..', '..');
const TINY = ['-m', 'gated', '-x', '2', '-k', '3', '-c', '8', '-b', '16', '--limit', '64', '--test-limit', '32', '--no-samples', '--workers', '0'];

function train(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/train.ts'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function jsonLines(stdout: string): Record<string, number>[] {
  return stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

/** Every file of a folder with its bytes, to show a command changed nothing. */
/** The folder's files and contents; the run record (run.json) is left out, as it records every run's end. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(fs.readdirSync(dir).filter((name) => name !== RECORD_FILE).sort().map((name) => [name, fs.readFileSync(path.join(dir, name)).toString('base64')]));
}

function history(dir: string) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'history.json'), 'utf8'));
}

describe('npm run train -- --resume', () => {
  /** A finished run of one epoch; each test works on a copy. */
  let base: string;
  let scratch: string;
  const copyOfBase = (name: string) => {
    const dir = path.join(scratch, name);
    fs.cpSync(base, dir, { recursive: true });
    return dir;
  };

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-resume-'));
    base = path.join(scratch, 'base');
    const first = train([...TINY, '-e', '1', '--out', base]);
    assert.equal(first.code, 0, first.stderr);
  });

  test('without -e a finished run is not trained further and nothing in its folder changes', () => {
    const dir = copyOfBase('finished');
    const files = snapshot(dir);
    const result = train(['--resume', dir, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /checkpoint\.ckpt: the run is finished \(1 of 1 epochs trained\); nothing to do\. Pass -e 2 or more \(the new total\) to train it further\./);
    assert.deepEqual(snapshot(dir), files);
  });

  test('without -e an unfinished run trains to its own epochs with its own learning rate, limits and workers', () => {
    // A run configured for 3 epochs that stopped after its first: the same checkpoint with epochs 3.
    const dir = copyOfBase('unfinished');
    const file = path.join(dir, 'checkpoint.ckpt');
    const checkpoint = readCheckpoint(file);
    const configured = { ...checkpoint.trainConfig!, epochs: 3, learningRate: 0.002, evaluateEvery: 3 };
    saveCheckpoint(file, { ...checkpoint, trainConfig: configured });
    // The run was made with --workers 0; the default would now be 1.
    const result = train(['--resume', dir, '--json'], { PIXEL_WORKERS: '1' });
    assert.equal(result.code, 0, result.stderr);
    // Epoch 1 is not evaluated (every 3rd epoch is), the last one always is.
    assert.deepEqual(jsonLines(result.stdout).map((line) => [line.epoch, line.test_bits_per_dim === null]), [[1, true], [2, false]]);
    assert.match(result.stderr, /training on one thread/);
    assert.match(result.stderr, /resuming .*checkpoint\.ckpt after epoch 1 \(step 4\), training to epoch 3\n/);
    const resumed = readCheckpoint(file);
    assert.deepEqual(resumed.trainConfig, configured);
    assert.equal(resumed.trainerState?.step, 12);
    assert.deepEqual(resumed.meta, { dataset: 'mnist', task: 'mnist', workers: 0 });
    assert.deepEqual(history(dir)[1].resumed, { step: 4, checkpoint: file, changes: {} });
  });

  test('-e N extends a finished run to N epochs', () => {
    const dir = copyOfBase('extended');
    const result = train(['--resume', dir, '-e', '2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(jsonLines(result.stdout).map((line) => line.epoch), [1]);
    const file = path.join(dir, 'checkpoint.ckpt');
    assert.equal(readCheckpoint(file).trainConfig?.epochs, 2);
    const epochs = history(dir);
    assert.equal(epochs.length, 2);
    assert.equal(epochs[0].resumed, undefined);
    assert.deepEqual(epochs[1].resumed, { step: 4, checkpoint: file, changes: { epochs: { from: 1, to: 2 } } });
  });

  test('flags that define the model or its data are refused when they differ from the checkpoint, each named; equal ones are fine', () => {
    const dir = copyOfBase('conflicts');
    const files = snapshot(dir);
    const file = path.join(dir, 'checkpoint.ckpt');
    const model = train(['--resume', dir, '-m', 'simple', '-x', '3', '-c', '16', '-t', 'fashion-mnist', '-k', '3', '-b', '16', '-e', '2']);
    assert.equal(model.code, 1);
    assert.equal(model.stderr, `error: --resume ${file}: these flags differ from the checkpoint, and they define the model or its data: ` +
      '-t fashion-mnist (checkpoint: mnist), -m simple (checkpoint: gated), -x 3 (checkpoint: 2), -c 16 (checkpoint: 8). ' +
      'Leave them out to continue the run, or start a new run without --resume.\n');
    const data = train(['--resume', dir, '--zsize', '4', '--seed', '1', '-b', '32', '--limit', '128', '-e', '2']);
    assert.equal(data.code, 1);
    assert.match(data.stderr, /the model or its data: --zsize 4 \(checkpoint: gated has none\), --seed 1 \(checkpoint: 0\), -b 32 \(checkpoint: 16\), --limit 128 \(checkpoint: 64\)\./);
    const one = train(['--resume', dir, '-l', '0.01', '-x', '5', '-e', '2']);
    assert.equal(one.code, 1);
    assert.match(one.stderr, /: this flag differs from the checkpoint, and it defines the model or its data: -x 5 \(checkpoint: 2\)\./);
    // A training flag the checkpoint's kind has no field for is refused too, naming the kinds that have it.
    const kl = train(['--resume', dir, '--kl-warmup', '10', '-e', '2']);
    assert.equal(kl.code, 1);
    assert.equal(kl.stderr, 'error: --kl-warmup sets a PixelVAE\'s klWarmupSteps (-m vae-up or -m vae-straight); the checkpoint\'s model, gated, has none\n');
    assert.deepEqual(snapshot(dir), files);
    const same = train(['--resume', dir, '-t', 'mnist', '-m', 'gated', '-x', '2', '-c', '8', '-k', '3', '-b', '16', '--limit', '64', '--seed', '0', '-e', '2']);
    assert.equal(same.code, 0, same.stderr);
  });

  test('training flags given on resume take effect, are logged and recorded in the history and the checkpoint', async () => {
    const dir = copyOfBase('changed');
    const file = path.join(dir, 'checkpoint.ckpt');
    const result = train(['--resume', dir, '-e', '2', '-l', '0.0005', '--test-limit', '16', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /training to epoch 2; changed: -e 1 -> 2, -l 0\.001 -> 0\.0005, --test-limit 32 -> 16\n/);
    const saved = readCheckpoint(file);
    assert.deepEqual([saved.trainConfig?.learningRate, saved.trainConfig?.testLimit], [0.0005, 16]);
    assert.deepEqual(history(dir)[1].resumed.changes, {
      epochs: { from: 1, to: 2 }, learningRate: { from: 0.001, to: 0.0005 }, testLimit: { from: 32, to: 16 },
    });
    // The same epoch trained here from the base checkpoint (on the backend the command picked) gives the CLI's test
    // figure with the new learning rate, and not with the old one. Close, not equal: a multi-threaded backend may sum
    // in another order.
    await initBackend();
    const testBits = async (learningRate: number) => {
      const run = await resumeRun(readCheckpoint(path.join(base, 'checkpoint.ckpt')), await loadDataset('mnist'), { epochs: 2, learningRate, testLimit: 16 });
      const epochs = (await run.trainer.run()).epochs;
      disposeRun(run);
      return epochs[1].testBitsPerDim!;
    };
    const cli = jsonLines(result.stdout)[0].test_bits_per_dim;
    const [lowered, old] = [await testBits(0.0005), await testBits(0.001)];
    assert.ok(Math.abs(cli - lowered) < 1e-5, `CLI ${cli}, resumed here with -l 0.0005: ${lowered}`);
    assert.ok(Math.abs(cli - old) > 1e-3, `CLI ${cli}, resumed here with -l 0.001: ${old}`);
  });

  test('a PixelVAE\'s KL options given on resume take effect, are logged and recorded; its defining options are checked', async () => {
    const dir = path.join(scratch, 'vae');
    const vae = ['-m', 'vae-up', '--zsize', '2', '--vae-channels', '8', '-x', '1', '-c', '3', '-k', '3', '-b', '8', '--limit', '16', '--test-limit', '8', '--no-samples', '--workers', '0'];
    const first = train([...vae, '-e', '1', '--out', dir]);
    assert.equal(first.code, 0, first.stderr);
    const base = path.join(scratch, 'vae-base.ckpt');
    fs.copyFileSync(path.join(dir, 'checkpoint.ckpt'), base);
    const conflict = train(['--resume', dir, '--zsize', '3', '--vae-depth', '0', '--kl-warmup', '40', '-e', '2']);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /: this flag differs from the checkpoint, and it defines the model or its data: --zsize 3 \(checkpoint: 2\)\./);
    const result = train(['--resume', dir, '-e', '2', '--kl-warmup', '40', '--free-bits', '0.25', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /training to epoch 2; changed: -e 1 -> 2, --kl-warmup 0 -> 40, --free-bits 0 -> 0\.25\n/);
    assert.match(result.stderr, /\n--kl-warmup 40: the KL term's weight rises linearly/);
    const file = path.join(dir, 'checkpoint.ckpt');
    const model = readCheckpoint(file).modelConfig;
    assert.ok(model.kind === 'vae-up', model.kind);
    assert.deepEqual([model.klWarmupSteps, model.freeBits], [40, 0.25]);
    assert.deepEqual(history(dir)[1].resumed.changes, {
      epochs: { from: 1, to: 2 }, klWarmupSteps: { from: 0, to: 40 }, freeBits: { from: 0, to: 0.25 },
    });
    // The same epoch trained here from the base checkpoint gives the CLI's figure with the new KL options, not without.
    await initBackend();
    const testBits = async (objective: Record<string, number>) => {
      const run = await resumeRun(readCheckpoint(base), await loadDataset('mnist'), { epochs: 2 }, base, objective);
      const epochs = (await run.trainer.run()).epochs;
      disposeRun(run);
      return epochs[1].testBitsPerDim!;
    };
    const cli = jsonLines(result.stdout)[0].test_bits_per_dim;
    const [changed, old] = [await testBits({ klWarmupSteps: 40, freeBits: 0.25 }), await testBits({})];
    assert.ok(Math.abs(cli - changed) < 1e-5, `CLI ${cli}, resumed here with the KL options: ${changed}`);
    assert.ok(Math.abs(cli - old) > 1e-5, `CLI ${cli}, resumed here without: ${old}`);
  });

  test('a checkpoint for other images is named, and refused before the data is loaded', async () => {
    // A checkpoint that does not record its task (as older ones) is checked against -t by image shape.
    const dir = copyOfBase('shape');
    const file = path.join(dir, 'checkpoint.ckpt');
    saveCheckpoint(file, { ...readCheckpoint(file), meta: {} });
    const empty = fs.mkdtempSync(path.join(scratch, 'no-data-'));
    const result = train(['--resume', file, '-t', 'cifar-gs', '-D', empty, '-e', '2']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `error: ${file}: model expects 28x28x1 images, dataset cifar-gs has 32x32x1\n`);
    assert.deepEqual(fs.readdirSync(empty), []);
    // resumeRun names its source too.
    const split = { images: new Uint8Array(32 * 32), labels: new Uint8Array(1), count: 1 };
    const other: Dataset = { name: 'cifar-gs', train: split, test: split, height: 32, width: 32, channels: 1, classNames: [] };
    await initBackend();
    await assert.rejects(resumeRun(readCheckpoint(file), other, {}, file), { message: `${file}: model expects 28x28x1 images, dataset cifar-gs has 32x32x1` });
  });

  test('NaN in a run that has written no checkpoint says so and points at none', () => {
    const dir = path.join(scratch, 'nan-fresh');
    const result = train([...TINY, '-e', '1', '-l', '1e30', '--out', dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: training loss became NaN .*; no checkpoint was written yet \(one is written after each epoch\), so start again, e\.g\. with -l 3e\+29\n$/);
    assert.doesNotMatch(result.stderr, /--resume|last checkpoint/);
    assert.equal(fs.existsSync(path.join(dir, 'checkpoint.ckpt')), false);
  });

  test('NaN after a resume points at the checkpoint to go back to, and the advised command works', () => {
    const dir = copyOfBase('nan');
    const out = path.join(scratch, 'nan-out');
    const files = snapshot(dir);
    const file = path.join(dir, 'checkpoint.ckpt');
    // -l on resume takes effect: 1e30 makes the second step's loss NaN.
    const result = train(['--resume', dir, '-e', '3', '-l', '1e30', '--out', out]);
    assert.equal(result.code, 1);
    const advice = `; then resume from the last checkpoint: npm run train -- --resume ${file} -l 3e+29 -e 3 --out ${out}\n`;
    assert.ok(result.stderr.endsWith(advice), result.stderr);
    assert.match(result.stderr, /error: training loss became NaN/);
    assert.deepEqual(snapshot(dir), files);
    // Followed with a learning rate that does not diverge, it continues the run into the same folder.
    const args = advice.slice(advice.indexOf('--resume')).trim().split(' ');
    args[args.indexOf('-l') + 1] = '0.001';
    const again = train([...args, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(jsonLines(again.stdout).map((line) => line.epoch), [1, 2]);
    assert.equal(readCheckpoint(path.join(out, 'checkpoint.ckpt')).trainConfig?.epochs, 3);
  });

  test('a run that diverges without NaN warns, keeps its last healthy checkpoint and stops pointing at it', () => {
    const dir = copyOfBase('diverge');
    const file = path.join(dir, 'checkpoint.ckpt');
    const files = snapshot(dir);
    // lr 1e6 keeps the loss finite but far above 8 bits/dim; the watch judges 20-step windows and stops after 100.
    const result = train(['--resume', dir, '-e', '60', '-l', '1e6', '--json', '--no-samples']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\nwarning: .*step \d+/);
    assert.match(result.stderr, /error: training diverged: /);
    assert.ok(result.stderr.endsWith(`; then resume from the last checkpoint: npm run train -- --resume ${file} -l 300000 -e 60\n`), result.stderr);
    // Epochs that ended worse than uniform wrote neither checkpoint nor history: the epoch-1 files are untouched.
    assert.match(result.stderr, /checkpoint not written after epoch 1: the loss has been worse than uniform in this epoch \([\d.e+]+ bits\/dim\); .*checkpoint\.ckpt is kept\n[\s\S]*checkpoint not written after epoch \d+: the loss has been worse than uniform since step \d+; /);
    assert.ok(JSON.stringify(snapshot(dir)) === JSON.stringify(files), 'the run folder changed');
    const record = readRecord(dir);
    assert.equal(record.status, 'failed');
    assert.match(record.message ?? '', /training diverged/);
    assert.ok(jsonLines(result.stdout).length > 1, 'some epochs completed before the stop');
  });
});

describe('npm run train: checks before any data is read', () => {
  for (const [args, message] of [
    [['-t', 'cifar10', '-k', '4'], 'model config: kernelSize (-k) must be odd so the kernel has a centre pixel, got 4'],
    [['-t', 'cifar10', '-c', '16'], 'model config: channels (-c) must be divisible by colours (3) so each colour gets its own channel group, got 16'],
    [['-t', 'imagenet64', '-m', 'conditional'], 'dataset imagenet64 has no class labels: a class-conditional model cannot be trained on it'],
  ] as [string[], string][]) {
    test(`${args.join(' ')} fails on the model option, not on the missing data`, () => {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-no-data-'));
      const result = train([...args, '-D', empty, '-e', '1']);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `error: ${message}\n`);
      assert.deepEqual(fs.readdirSync(empty), []);
    });
  }

  test('--out at a file, or below one, is named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-out-'));
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'keep me');
    const at = train([...TINY, '-e', '1', '--out', file]);
    assert.equal(at.code, 1);
    assert.equal(at.stderr, `error: --out ${file} is a file; expected a folder for the run (it is created if missing)\n`);
    const below = train([...TINY, '-e', '1', '--out', path.join(file, 'run')]);
    assert.equal(below.code, 1);
    assert.equal(below.stderr, `error: --out ${path.join(file, 'run')}: cannot create the run folder there, ${file} is a file\n`);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  });
});
