/**
 * `npm run reproduce` on a tiny run list (a 2-layer gated PixelCNN, 10 steps per epoch, 2 epochs; a 1-layer PixelVAE) in temporary
 * folders: a run interrupted after its first epoch (a real child process, stopped with SIGINT) continues to the same
 * weights as an uninterrupted one (to float32 rounding, as test/train/trainer.test.ts allows a resumed run), is exported (weights only, history, grid, result.json), recomputed from its
 * weights file by verifyResult, skipped once up to date, estimated while unfinished (or timed over its first steps
 * before it starts), and tabulated.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { reproduce } from '../../lib/cli/reproduce';
import { loadDataset } from '../../lib/data';
import { Dataset } from '../../lib/data/dataset';
import { exportRun } from '../../lib/results/export';
import { readResult } from '../../lib/results/result';
import { ReproduceRun } from '../../lib/results/runs';
import { verifyResult } from '../../lib/results/verify';
import { formatSpan } from '../../lib/duration';
import { lockWork } from '../../lib/results/work';
import { describeTiming, readTiming, timedSeconds } from '../../lib/results/timing';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import { setUpBackend } from '../helpers';

const root = path.resolve(__dirname, '..', '..');
const ARGV = ['-m', 'gated', '-x', '2', '-k', '3', '-c', '8', '-b', '32', '--limit', '320', '--test-limit', '32', '-e', '2', '--no-samples', '--workers', '0'];
const tiny = (name: string, argv = ARGV): ReproduceRun => ({ name, summary: `tiny gated ${name}`, task: 'mnist', argv, reference: 'a test' });
// A PixelVAE as small as its flags allow: its test noise is drawn per batch from a seed, so its figure recomputes too.
const VAE_ARGV = ['-m', 'vae-up', '-x', '1', '-k', '3', '-c', '8', '--zsize', '4', '--vae-channels', '16', '-b', '32', '--limit', '320', '--test-limit', '32', '-e', '1', '--no-samples', '--workers', '0'];
const RUNS = [tiny('tiny'), tiny('tiny-again'), tiny('tiny-later'), tiny('tiny-vae', VAE_ARGV)];

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Runs reproduce.ts in a child process and interrupts it (SIGINT, as Ctrl-C) once its first epoch is logged. */
function runAndInterrupt(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/reproduce.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Logged after the epoch's checkpoint and history are written; epoch 1 has 10 steps still to go.
      if (/epoch 0: train/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGINT');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('npm run reproduce', () => {
  let scratch: string;
  let results: string;
  let work: string;
  let runsFile: string;
  let dataset: Dataset;
  const lines: string[] = [];
  const run = (names: string[], extra: { estimate?: boolean; exportOnly?: boolean; keepPartial?: boolean; timeSteps?: number; work?: string; results?: string } = {}) => {
    lines.length = 0;
    return reproduce({ names, runs: RUNS, results, work, log: (line) => lines.push(line), ...extra });
  };

  before(async () => {
    await setUpBackend();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'reproduce-'));
    results = path.join(scratch, 'results');
    work = path.join(scratch, 'work');
    runsFile = path.join(scratch, 'runs.json');
    fs.writeFileSync(runsFile, JSON.stringify(RUNS));
    dataset = await loadDataset('mnist', { onProgress: () => {} });
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('an interrupted run continues from its last checkpoint to the weights of an uninterrupted one, then is exported', async () => {
    const stopped = await runAndInterrupt(['tiny', '--runs-file', runsFile, '--results', results, '--work', work]);
    // Killed by the signal, or (where the training CLI catches Ctrl-C to record the stop) exited with an error code.
    assert.ok(stopped.signal === 'SIGINT' || (stopped.code ?? 0) !== 0, stopped.stderr);
    const dir = path.join(work, 'tiny');
    const interrupted = readCheckpoint(path.join(dir, 'checkpoint.ckpt')).trainerState!;
    assert.equal(interrupted.position.epoch, 1, 'interrupted in epoch 2 of 2, after the first');
    assert.equal(fs.existsSync(path.join(results, 'tiny')), false, 'nothing exported from an unfinished run');
    const firstEpoch = (readJson(path.join(dir, 'history.json')) as unknown[])[0];
    fs.cpSync(dir, path.join(scratch, 'stopped', 'tiny'), { recursive: true }); // for the --estimate test

    // Continued (its stale lock taken over), and the same run trained without a stop.
    assert.equal(await run(['tiny', 'tiny-again']), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /tiny: continuing .*work\/tiny \(1 of 2 epochs trained;/);
    for (const name of ['tiny', 'tiny-again']) {
      for (const file of ['weights.ckpt', 'history.json', 'grid.png', 'result.json']) assert.ok(fs.existsSync(path.join(results, name, file)), `${name}/${file}`);
    }
    const history = readJson(path.join(results, 'tiny', 'history.json')) as Record<string, unknown>[];
    assert.equal(history.length, 2);
    assert.deepEqual(history[0], firstEpoch, 'the first epoch is the one trained before the interruption');
    assert.deepEqual(history[1].resumed, { step: interrupted.step, changes: {} }, 'the resumption is recorded, without its local checkpoint path');

    const [stoppedWeights, straightWeights] = ['tiny', 'tiny-again'].map((name) => readCheckpoint(path.join(results, name, 'weights.ckpt')));
    assert.equal(stoppedWeights.optimizer, undefined, 'no Adam state');
    assert.equal(stoppedWeights.trainerState, undefined, 'no step history');
    assert.deepEqual(stoppedWeights.meta, { task: 'mnist', run: 'tiny' });
    for (const [name, { values }] of straightWeights.weights) {
      const resumed = stoppedWeights.weights.get(name)!.values;
      const worst = values.reduce((most, value, i) => Math.max(most, Math.abs(value - resumed[i])), 0);
      assert.ok(worst <= 1e-5, `${name}: the resumed run's weights differ by up to ${worst}`);
    }

    const result = readResult(path.join(results, 'tiny'));
    const parameters = [...stoppedWeights.weights.values()].reduce((n, { values }) => n + values.length, 0);
    assert.deepEqual(
      { name: result.name, argv: result.argv, model: result.model, parameters: result.parameters, epochs: result.epochs, imagesSeen: result.imagesSeen, testImages: result.test.images, subset: [result.subset.images, result.subset.batchSize], steps: result.source.steps },
      { name: 'tiny', argv: ARGV, model: 'gated', parameters, epochs: 2, imagesSeen: 2 * 320, testImages: 32, subset: [1000, 32], steps: 20 });
    assert.equal(result.test.bitsPerDim, history[1].testBitsPerDim);
    assert.equal(result.wallSeconds, (history as { seconds: number }[]).reduce((s, e) => s + e.seconds, 0));
    assert.ok(Math.abs(result.subset.bitsPerDim - readResult(path.join(results, 'tiny-again')).subset.bitsPerDim) <= 1e-5);
    assert.match(result.commit ?? '', /^[0-9a-f]{40}$/);
    assert.match(result.backend.description, new RegExp(`^${result.backend.name}`));
  });

  test('verifyResult recomputes the subset bits/dim from the weights file within 1e-5', async () => {
    const check = await verifyResult(path.join(results, 'tiny'), { dataset });
    assert.equal(check.images, 1000);
    assert.ok(check.difference <= 1e-5, `recomputed ${check.recomputed.bitsPerDim}, recorded ${check.recorded.bitsPerDim}`);
    assert.ok(check.recomputed.bitsPerDim > 0 && check.recomputed.bitsPerDim < 8);
    assert.equal(check.recomputed.latent, undefined, 'a PixelCNN has no z');
  });

  test('a PixelVAE run is exported with its ELBO parts and its use of z, and verifyResult recomputes them from its weights file', async () => {
    assert.equal(await run(['tiny-vae']), 0, lines.join('\n'));
    const result = readResult(path.join(results, 'tiny-vae'));
    assert.equal(result.model, 'vae-up');
    const { reconstruction, kl } = result.test.parts!;
    // The parts are summed apart in float32: they add up to float32 rounding.
    assert.ok(Math.abs(reconstruction + kl - result.test.bitsPerDim) <= 1e-5, JSON.stringify(result.test));
    assert.ok(kl > 0, `kl ${kl}`);
    const check = await verifyResult(path.join(results, 'tiny-vae'), { dataset });
    assert.equal(check.images, 1000);
    assert.ok(check.difference <= 1e-5, `recomputed ${check.recomputed.bitsPerDim}, recorded ${check.recorded.bitsPerDim}`);
    for (const part of ['reconstruction', 'kl'] as const) {
      const [recorded, recomputed] = [check.recorded.parts![part], check.recomputed.parts![part]];
      assert.ok(Math.abs(recorded - recomputed) <= 1e-5, `${part}: recorded ${recorded}, recomputed ${recomputed}`);
    }
    // Whether the PixelCNN uses z, measured on the same 1,000 images: own z vs the next image's, in bits per image.
    const latent = result.subset.latent!;
    assert.equal(latent.images, 1000);
    assert.ok(Math.abs(latent.bitsPerImage - (latent.otherBitsPerDim - latent.ownBitsPerDim) * 28 * 28) <= 1e-9, JSON.stringify(latent));
    assert.ok(Math.abs(check.recomputed.latent!.bitsPerImage - latent.bitsPerImage) <= 1e-2, `z saves ${check.recomputed.latent!.bitsPerImage} now, ${latent.bitsPerImage} recorded`);
    assert.match(fs.readFileSync(path.join(results, 'README.md'), 'utf8'),
      new RegExp(`\\| \`tiny-vae\` \\|[^\\n]*\\| ${result.test.bitsPerDim.toFixed(4)} = reconstruction ${reconstruction.toFixed(4)} \\+ kl ${kl.toFixed(4)} ` +
        `\\(32 images; on the first 1,000, its own z saves ${latent.bitsPerImage.toFixed(1)} bits per image(: z ignored)?\\) \\|`));
  });

  test('a run already exported and unchanged is skipped; the table has its row and the rest pending', async () => {
    const before = fs.readFileSync(path.join(results, 'tiny', 'result.json'), 'utf8');
    assert.equal(await run(['tiny']), 0, lines.join('\n'));
    assert.match(lines[0], /^tiny: nothing to do: .*results\/tiny is up to date with .*work\/tiny\/checkpoint\.ckpt$/);
    assert.equal(fs.readFileSync(path.join(results, 'tiny', 'result.json'), 'utf8'), before);
    const table = fs.readFileSync(path.join(results, 'README.md'), 'utf8').split('\n');
    const { test: measured, parameters, date, backend, wallSeconds } = readResult(path.join(results, 'tiny'));
    const threads = backend.threads === null ? '' : `, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`;
    assert.ok(table.includes(`| \`tiny\` | \`${ARGV.join(' ')}\` | ${parameters.toLocaleString('en-US')} | 2 | ${measured.bitsPerDim.toFixed(4)} (32 images) | ` +
      `${formatSpan(wallSeconds)} | ${backend.name}${threads} | ${date.slice(0, 10)} |`), table.join('\n'));
    assert.ok(table.includes(`| \`tiny-later\` | \`${ARGV.join(' ')}\` | — | — | pending: not started | — | — | — |`), table.join('\n'));
  });

  test('--estimate and --export-only train nothing; the estimate scales the first epoch', async () => {
    const stopped = path.join(scratch, 'stopped');
    const estimates = path.join(scratch, 'estimates');
    assert.equal(await run(['tiny', 'tiny-later'], { estimate: true, work: stopped, results: estimates }), 0);
    const first = (readJson(path.join(stopped, 'tiny', 'history.json')) as { seconds: number }[])[0].seconds;
    assert.deepEqual(lines.slice(0, 2), [
      `tiny: 1 of 2 epochs trained; at the first epoch's ${formatSpan(first)}, about ${formatSpan(2 * first)} in all, ${formatSpan(first)} left`,
      'tiny-later: not started',
    ]);
    assert.ok(fs.readFileSync(path.join(estimates, 'README.md'), 'utf8').includes(`pending: ${lines[0].slice('tiny: '.length)} |`));
    assert.equal(await run(['tiny'], { exportOnly: true, work: stopped, results: estimates }), 0);
    assert.match(lines[0], /^tiny: 1 of 2 epochs trained; .* \(not exported: it is not finished\)$/);
    assert.equal(readCheckpoint(path.join(stopped, 'tiny', 'checkpoint.ckpt')).trainerState!.position.epoch, 1);
    assert.equal(fs.existsSync(path.join(estimates, 'tiny')), false);
  });

  test('--keep-partial carries an unfinished run in results/NAME/partial/; a machine without the work folder continues from it', async () => {
    const stopped = path.join(scratch, 'stopped');
    const carried = path.join(scratch, 'carried');
    const elsewhere = path.join(scratch, 'elsewhere');
    assert.equal(await run(['tiny', 'tiny-later'], { keepPartial: true, work: stopped, results: carried }), 0, lines.join('\n'));
    assert.match(lines[0], /^tiny: kept 1 of 2 epochs in .*carried\/tiny\/partial$/);
    assert.equal(lines[1], 'tiny-later: not started: nothing to keep');
    assert.deepEqual(fs.readdirSync(path.join(carried, 'tiny', 'partial')).sort(), ['checkpoint.ckpt', 'history.json']);
    // The table reads the partial run where there is no work folder (another machine).
    assert.equal(await run(['tiny'], { estimate: true, work: elsewhere, results: carried }), 0);
    assert.match(fs.readFileSync(path.join(carried, 'README.md'), 'utf8'), /\| `tiny` \|[^\n]*\| 1 of 2 \| pending: 1 of 2 epochs trained; /);
    assert.equal(await run(['tiny'], { work: elsewhere, results: carried }), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /tiny: continuing from .*carried\/tiny\/partial \(1 of 2 epochs trained there\)/);
    const history = readJson(path.join(carried, 'tiny', 'history.json')) as Record<string, unknown>[];
    assert.equal(history.length, 2);
    assert.deepEqual(history[0], (readJson(path.join(stopped, 'tiny', 'history.json')) as unknown[])[0], 'epoch 1 is the carried one');
    assert.equal(fs.existsSync(path.join(carried, 'tiny', 'partial')), false, 'the partial run goes once exported');
  });

  test('--time times a run not started into results/NAME/timing.json; its row and --estimate scale it; its export drops it', async () => {
    const stopped = path.join(scratch, 'stopped');
    const timed = path.join(scratch, 'timed');
    assert.equal(await run(['tiny', 'tiny-later'], { timeSteps: 3, work: stopped, results: timed }), 0, lines.join('\n'));
    assert.match(lines[0], /^tiny: not timed: its first epoch's time is its estimate \(1 of 2 epochs trained; /);
    const dir = path.join(timed, 'tiny-later');
    const timing = readTiming(dir)!;
    // 320 images in batches of 32: 10 steps per epoch; 2 epochs, each evaluated on the 32 test images of --test-limit
    const { steps, warmupSteps, batchSize, stepsPerEpoch, epochs, evaluations, testImages, evaluationImages } = timing;
    assert.deepEqual({ steps, warmupSteps, batchSize, stepsPerEpoch, epochs, evaluations, testImages, evaluationImages },
      { steps: 3, warmupSteps: 3, batchSize: 32, stepsPerEpoch: 10, epochs: 2, evaluations: 2, testImages: 32, evaluationImages: 32 });
    assert.ok(timing.secondsPerStep > 0 && timing.evaluationSeconds > 0, JSON.stringify(timing));
    const total = 2 * 10 * timing.secondsPerStep + 2 * timing.evaluationSeconds;
    assert.ok(Math.abs(timedSeconds(timing) - total) < 1e-9, `${timedSeconds(timing)} vs ${total}`);
    const said = `about ${formatSpan(total)} for 2 epochs at ${timing.secondsPerStep.toFixed(2)} s per step (3 steps of its first epoch timed on ${timing.backend.name}`;
    assert.equal(lines[1], 'tiny-later: 3 of 3 steps timed, ' + `${timing.secondsPerStep.toFixed(2)} s per step`);
    assert.ok(lines[2].startsWith(`tiny-later: ${said}`) && lines[2].endsWith(`; written to ${path.join(dir, 'timing.json')}`), lines[2]);
    assert.match(fs.readFileSync(path.join(timed, 'README.md'), 'utf8'), new RegExp(`\\| pending: not started; ${said.replace(/[().]/g, '\\$&')}`));
    assert.equal(await run(['tiny-later'], { estimate: true, work: stopped, results: timed }), 0);
    assert.equal(lines[0], `tiny-later: not started; ${describeTiming(timing)}`);
    // A broken file is an error naming it and the field
    const file = path.join(dir, 'timing.json');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace('"stepsPerEpoch": 10', '"stepsPerEpoch": "10"'));
    assert.throws(() => readTiming(dir), new RegExp(`${file.replace(/[.]/g, '\\.')}: field "stepsPerEpoch" is "10"; expected a whole number >= 0`));
    fs.writeFileSync(file, good);
    // Trained, the run's own epochs take over, and the export drops the timing
    assert.equal(await run(['tiny-later'], { work: path.join(scratch, 'timed-work'), results: timed }), 0, lines.join('\n'));
    assert.equal(fs.existsSync(file), false, 'timing.json goes with the export');
    assert.equal(await run(['tiny-later'], { timeSteps: 3, work: path.join(scratch, 'timed-work'), results: timed }), 0);
    assert.equal(lines[0], `tiny-later: not timed: it is exported (${dir})`);
  });

  test('a work folder trained with other flags is refused, naming them', async () => {
    const other = tiny('tiny', ARGV.map((word) => (word === '8' ? '10' : word)));
    await assert.rejects(exportRun(other, path.join(work, 'tiny'), path.join(scratch, 'other'), { dataset }), /tiny: .*checkpoint\.ckpt was trained with other flags than the run's: -c 10 \(checkpoint: 8\)/);
  });

  test('a live lock refuses a second trainer; a dead one is taken over', () => {
    const dir = path.join(scratch, 'locked');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '.reproduce.lock'), `${process.ppid}\n`);
    assert.throws(() => lockWork(dir), new RegExp(`is being trained by process ${process.ppid}`));
    fs.writeFileSync(path.join(dir, '.reproduce.lock'), '999999999\n');
    const release = lockWork(dir);
    assert.equal(fs.readFileSync(path.join(dir, '.reproduce.lock'), 'utf8'), `${process.pid}\n`);
    release();
    assert.equal(fs.existsSync(path.join(dir, '.reproduce.lock')), false);
  });

  test('a folder that npm run train is training into is refused, naming the process', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    const dir = path.join(scratch, 'cli-trained');
    // A stand-in with the command line of `npm run train -- ... --out DIR`, run from another folder.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)', 'lib/cli/train.ts', '-m', 'gated', '--out', dir], { cwd: os.tmpdir(), stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      assert.throws(() => lockWork(dir), new RegExp(`is being trained by process ${child.pid} \\(npm run train\\)`));
      assert.equal(fs.existsSync(dir), false, 'nothing created');
    } finally {
      child.kill();
    }
  });
});
