/** The training command line, run as a real child process on real MNIST. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import { gridGeometry } from '../../lib/render/grid';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import { initBackend } from '../../lib/backend';
import { loadDataset } from '../../lib/data';
import { latentUsage } from '../../lib/diagnostics/latent-usage';
import type { PixelVAE } from '../../lib/models/vae';
import { disposeRun, resumeRun } from '../../lib/train/run';
import { readRecord } from '../../lib/runs/record';

const root = path.resolve(__dirname, '..', '..');

function train(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/train.ts'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run train', () => {
  test('trains, writes the run folder, prints JSON lines, and resumes', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-run-'));
    const tiny = ['-x', '2', '-c', '4', '-k', '3', '-b', '16', '--limit', '32', '--test-limit', '16', '--json', '--out', out];
    const first = train(['-m', 'gated', '-e', '1', ...tiny]);
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['epoch', 'seconds', 'test_bits_per_dim', 'train_bits_per_dim']);
    assert.equal(lines[0].epoch, 0);
    assert.ok(lines[0].test_bits_per_dim > 7 && lines[0].test_bits_per_dim < 9, first.stdout);
    assert.match(first.stderr, /backend: (native|wasm) /); // native where its addon is built (lib/backend/native.ts)
    assert.match(first.stderr, /model: gated, \d+ parameters/);
    assert.ok(fs.existsSync(path.join(out, 'checkpoint.ckpt')));
    const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'));
    assert.equal(history.length, 1);
    // The 12x12 grid of 28x28 MNIST images, as the renderer lays it out.
    const png = PNG.sync.read(fs.readFileSync(path.join(out, 'samples-epoch-0.png')));
    const geometry = gridGeometry({ height: 28, width: 28 }, { rows: 12, cols: 12, sectionBreaks: [5], rowLabels: [...Array(6).fill('sample'), ...Array(6).fill('complete')] });
    assert.deepEqual([png.width, png.height], [geometry.width, geometry.height]);
    // The run folder is a record folder (lib/runs): run.json beside the checkpoint, with the grid's thumbnail.
    const record = readRecord(out);
    assert.equal(record.status, 'finished');
    assert.equal(record.source, 'cli');
    assert.equal(record.task, 'mnist');
    assert.deepEqual([record.model.kind, record.train.limit, record.train.batchSize], ['gated', 32, 16]);
    assert.deepEqual(record.steps.imagesSeen, [16, 32]);
    assert.equal(record.imagesSeen, 32);
    assert.equal(record.testBitsPerDim, lines[0].test_bits_per_dim);
    assert.equal(record.checkpoint, 'checkpoint.ckpt');
    assert.match(record.backend.description, /^(native|wasm) /);
    const thumb = PNG.sync.read(fs.readFileSync(path.join(out, record.thumbnail ?? 'no thumbnail')));
    // The grid at one pixel per image pixel, without labels, halved to fit 192 pixels.
    const small = gridGeometry({ height: 28, width: 28 }, { rows: 12, cols: 12, sectionBreaks: [5], scale: 1, sectionSeparator: 2 });
    assert.deepEqual([thumb.width, thumb.height], [Math.ceil(small.width / 2), Math.ceil(small.height / 2)]);

    const resumed = train(['--resume', out, '-e', '2', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const more = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(more.map((l) => l.epoch), [1], 'resuming continues with the next epoch');
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')).length, 2);
    assert.ok(fs.existsSync(path.join(out, 'samples-epoch-1.png')));
    const continued = readRecord(out);
    assert.deepEqual([continued.id, continued.status, continued.imagesSeen, continued.epochs.length], [record.id, 'finished', 64, 2]);
    assert.equal(continued.testBitsPerDim, more[0].test_bits_per_dim);
  });

  test('a PixelVAE with KL warm-up, free bits and a narrow initial posterior: the options reach the model, the trainer, the checkpoint and the log; z usage is reported', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-vae-'));
    const result = train(['-m', 'vae-up', '--zsize', '2', '--vae-channels', '8', '-x', '1', '-c', '3', '-k', '3', '-b', '8',
      '--limit', '16', '--test-limit', '8', '-e', '1', '--no-samples', '--workers', '0', '--json', '--out', out,
      '--kl-warmup', '40', '--free-bits', '0.25', '--posterior-logvar-init', '-4']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /\n--kl-warmup 40: the KL term's weight rises linearly from 0 to 1 over this many steps/);
    assert.match(result.stderr, /\n--free-bits 0\.25: while training, each latent dimension's KL counts as at least this many nats/);
    const [line] = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // The reported figure is the true negative ELBO: its parts add up to it, whatever the training weights.
    assert.ok(Math.abs(line.test_reconstruction_bits_per_dim + line.test_kl_bits_per_dim - line.test_bits_per_dim) < 1e-4, result.stdout);
    const checkpoint = readCheckpoint(path.join(out, 'checkpoint.ckpt'));
    // The KL options are the model config's (the objective's), not the train config's.
    const model = checkpoint.modelConfig;
    assert.ok(model.kind === 'vae-up', model.kind);
    assert.equal(model.klWarmupSteps, 40);
    assert.equal(model.freeBits, 0.25);
    assert.equal(model.posteriorLogVarInit, -4);
    assert.ok(!('klWarmupSteps' in checkpoint.trainConfig!) && !('freeBits' in checkpoint.trainConfig!), JSON.stringify(checkpoint.trainConfig));
    // The record keeps the parts the history has, whatever the model.
    const record = readRecord(out);
    assert.deepEqual(record.testParts, { reconstruction: line.test_reconstruction_bits_per_dim, kl: line.test_kl_bits_per_dim });
    assert.deepEqual(Object.keys(record.steps.parts ?? {}).sort(), ['kl', 'reconstruction']);
    assert.equal(record.thumbnail, undefined, '--no-samples: no grid, no thumbnail');
    // The z-usage figure, recomputed here from the saved weights on the same 8 test images.
    await initBackend('wasm');
    const run = await resumeRun(checkpoint, await loadDataset('mnist'));
    const usage = await latentUsage(run.model as PixelVAE, run.dataset.test.images, 8, 8);
    disposeRun(run);
    assert.ok(Math.abs(line.test_z_saves_bits_per_image - usage.bitsPerImage) < 1e-3, `${line.test_z_saves_bits_per_image} vs ${usage.bitsPerImage}`);
    assert.match(result.stderr, new RegExp(`z: on the first 8 test images, their own z saves ${usage.bitsPerImage.toFixed(1).replace('.', '\\.')} bits per image over another image's z`));
  });

  for (const [args, pattern] of [
    [['-k', '4'], /kernelSize \(-k\) must be odd/],
    [['-x', 'five'], /option '-x, --layers <n>' argument 'five' is invalid/],
    [['--bogus'], /unknown option '--bogus'/],
    [['-m', 'pixelrnn'], /option '-m, --model <kind>' argument 'pixelrnn' is invalid/],
    [['-t', 'svhn'], /option '-t, --task <task>' argument 'svhn' is invalid/],
    [['--resume', '/nonexistent/run'], /--resume: \/nonexistent\/run does not exist/],
    [['-m', 'gated', '--kl-warmup', '100'], /--kl-warmup sets a PixelVAE's klWarmupSteps \(-m vae-up or -m vae-straight\); -m gated has none/],
    [['-m', 'simple', '--free-bits', '1', '--kl-warmup', '0'], /--kl-warmup and --free-bits set a PixelVAE's klWarmupSteps and freeBits \(-m vae-up or -m vae-straight\); -m simple has none/],
    [['-m', 'gated', '--zsize', '4'], /--zsize sets a PixelVAE's latentSize \(-m vae-up or -m vae-straight\); -m gated has none/],
    [['-m', 'vae-up', '--free-bits', '-1'], /option '--free-bits <nats>' argument '-1' is invalid\. expected a number >= 0/],
  ] as [string[], RegExp][]) {
    test(`bad input ${args.join(' ')} gives a clear error`, () => {
      const result = train([...args, '-e', '1', '--limit', '1']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, pattern);
    });
  }
});
