/**
 * `npm run runs`: the listing, compare and remove on records made by the recorder, and a real `npm run train`
 * interrupted with Ctrl-C (SIGINT) after its first epoch, then resumed to the end.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../lib/cli/runs';
import { modelConfig } from '../../lib/models';
import { trainConfig } from '../../lib/train/config';
import type { TrainerState } from '../../lib/train/trainer';
import { readRecord, RECORD_FILE } from '../../lib/runs/record';
import { RecordedRun, RunRecorder } from '../../lib/runs/recorder';

const root = path.resolve(__dirname, '..', '..');

/** A simulated run of `steps` steps: 40 images an epoch in batches of 16, each epoch 1 s, test 7, 6.9, ... bits/dim. */
function fakeRun(model: Parameters<typeof modelConfig>[0], steps: number): RecordedRun {
  const state: TrainerState = {
    step: steps, position: { epoch: Math.floor(steps / 3), batchIndex: steps % 3 }, epochNats: 0, epochExamples: 0, epochSeconds: (steps % 3) / 3,
    history: {
      steps: Array.from({ length: steps }, (_, k) => ({ step: k + 1, bitsPerDim: 8 - k / 100 })),
      epochs: Array.from({ length: Math.floor(steps / 3) }, (_, epoch) => ({ epoch, trainBitsPerDim: 8, testBitsPerDim: 7 - epoch / 10, seconds: 1 })),
    },
  };
  return { dataset: { name: 'mnist', train: { count: 60000 } }, model: { config: modelConfig(model) }, trainer: { config: trainConfig({ epochs: 2, batchSize: 16, limit: 40 }), state } };
}

/** Three runs: a finished gated one, an interrupted notebook one with 7 layers, a failed simple one. */
function threeRuns() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runs-cli-'));
  const backend = { name: 'cpu', description: 'cpu' };
  const open = (folder: string, run: RecordedRun, hour: string, source: 'cli' | 'notebook:02-gated' = 'cli') =>
    RunRecorder.open(run, { folder: path.join(dir, folder), source, backend, workers: 0, smoke: false, now: () => new Date(`2026-11-30T${hour}:00:00Z`) });
  const finished = fakeRun({ kind: 'gated', layers: 2 }, 6);
  const a = open('a', finished, '06');
  a.finish(finished);
  const stopped = fakeRun({ kind: 'gated', layers: 7 }, 4);
  const b = open('nested/b', stopped, '07', 'notebook:02-gated');
  b.interrupt(stopped, 'interrupted at step 4');
  const broken = fakeRun({ kind: 'simple', layers: 2 }, 0);
  const c = open('c', broken, '08');
  c.fail(broken, new Error('training loss became NaN at step 1'));
  return { dir, ids: [a.record.id, b.record.id, c.record.id] };
}

function runs(args: string[]) {
  let out = '';
  let err = '';
  const code = main(args, { out: (text) => (out += text), err: (text) => (err += text) });
  return { code, out, err };
}

describe('npm run runs', () => {
  test('lists the runs newest first; a corrupt record is skipped with a warning naming it', () => {
    const { dir, ids: [a, b, c] } = threeRuns();
    fs.mkdirSync(path.join(dir, 'half'));
    fs.writeFileSync(path.join(dir, 'half', RECORD_FILE), '{"format": "pixel-notebooks run", "version": 1, "id": "2026');
    const listed = runs(['--root', dir]);
    assert.equal(listed.code, 0, listed.err);
    assert.equal(listed.out, [
      `3 runs under ${dir}, newest first`,
      'run                   source             task   model   images seen  test bits/dim  images/s  time  status                                      folder',
      '--------------------  -----------------  -----  ------  -----------  -------------  --------  ----  ------------------------------------------  --------',
      `${c}  cli                mnist  simple            0              -         -  0:00  failed: training loss became NaN at step 1  c`,
      `${b}  notebook:02-gated  mnist  gated            56         7.0000      42.0  0:00  interrupted                                 nested/b`,
      `${a}  cli                mnist  gated            80         6.9000      40.0  0:00  finished                                    a`,
      '',
    ].join('\n'));
    assert.match(listed.err, new RegExp(`^warning: skipped the run record ${path.join(dir, 'half', RECORD_FILE)}: not valid JSON, a half-written or damaged record \\(`));
    assert.equal(runs(['--root', path.join(dir, 'none')]).out, `no recorded runs under ${path.join(dir, 'none')}\n`);
  });

  test('compares runs by id or folder against the first named', () => {
    const { dir, ids: [a, b, c] } = threeRuns();
    const compared = runs(['compare', a, path.join(dir, 'nested', 'b'), c.slice(0, 13), '--root', dir]);
    assert.equal(compared.code, 0, compared.err);
    assert.equal(compared.out, [
      `settings vs ${a}`,
      'run                   differing settings  images seen  test bits/dim  images/s  time  status',
      '--------------------  ------------------  -----------  -------------  --------  ----  ------------------------------------------',
      `${a}  reference                    80         6.9000      40.0  0:00  finished`,
      `${b}  layers 7                     56         7.0000      42.0  0:00  interrupted`,
      `${c}  kind simple                   0              -         -  0:00  failed: training loss became NaN at step 1`,
      '',
    ].join('\n'));
  });

  test('removes a run by id; errors name the run; usage errors exit with 2', () => {
    const { dir, ids: [a, b] } = threeRuns();
    const removed = runs(['remove', a, '--root', dir]);
    assert.equal(removed.code, 0, removed.err);
    assert.equal(removed.out, `removed run ${a}: ${path.join(dir, 'a')}\n`);
    assert.ok(!fs.existsSync(path.join(dir, 'a')) && fs.existsSync(path.join(dir, 'nested', 'b', RECORD_FILE)));
    const missing = runs(['compare', b, a, '--root', dir]);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, `error: run ${a}: no run with this id under ${dir} (ids look like 20261130-055825-a3f9; \`npm run runs\` lists them, or name the run folder)\n`);
    assert.equal(runs(['remove', path.join(dir, 'nested'), '--root', dir]).err, `error: run ${path.join(dir, 'nested')}: ${path.join(dir, 'nested')} is not a run folder (it has no run.json)\n`);
    assert.equal(runs(['compare', '--root', dir]).code, 2);
    const unknown = runs(['list', '--root', dir]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'list' \(expected compare or remove; none lists the runs\)/);
  });

  test('Ctrl-C after the first epoch of `npm run train` records the run as interrupted; --resume finishes the same record', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runs-interrupt-'));
    // A smoke run: its default folder is in the smoke space of PIXEL_RUNS_DIR.
    const env = { ...process.env, PIXEL_RUNS_DIR: dir, PIXEL_SMOKE: '1' };
    const args = ['-m', 'simple', '-e', '3', '-x', '1', '-c', '4', '-k', '3', '-b', '16', '--limit', '320', '--test-limit', '16', '--no-samples', '--workers', '0'];
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/train.ts'), ...args], { cwd: root, env });
    let stderr = '';
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && /\nepoch 0: train/.test(stderr)) sent = child.kill('SIGINT');
    });
    const { code, signal } = await ended;
    assert.equal(signal, 'SIGINT', `the process ends as Ctrl-C ends it (code ${code}): ${stderr}`);
    const [folder] = fs.readdirSync(path.join(dir, 'smoke')).map((name) => path.join(dir, 'smoke', name));
    assert.match(path.basename(folder), /^mnist-simple-/);
    const interrupted = readRecord(folder);
    assert.equal(interrupted.status, 'interrupted', stderr);
    assert.match(interrupted.message ?? '', /^interrupted at step \d+ \(epoch [12], batch \d+\)$/);
    assert.match(stderr, /\ninterrupted at step \d+ \(epoch [12], batch \d+\); continue from the last checkpoint: npm run train -- --resume \S+checkpoint\.ckpt\n/);
    assert.ok(interrupted.steps.step.length >= 20 && interrupted.steps.step.length < 60, `${interrupted.steps.step.length} steps recorded`);
    assert.equal(interrupted.smoke, true);
    assert.equal(interrupted.checkpoint, 'checkpoint.ckpt');
    assert.equal(interrupted.checkpointStep, 20 * interrupted.epochs.length);

    const resumed = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/train.ts'), '--resume', folder], { cwd: root, env, encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const finished = readRecord(folder);
    assert.equal(finished.id, interrupted.id);
    assert.equal(finished.status, 'finished');
    assert.equal(finished.message, undefined);
    assert.deepEqual(finished.epochs.map((e) => e.imagesSeen), [320, 640, 960]);
    assert.deepEqual(finished.steps.step, Array.from({ length: 60 }, (_, k) => k + 1));
    assert.equal(finished.imagesSeen, 960);
    assert.equal(finished.startedAt, interrupted.startedAt);
    assert.ok(finished.wallSeconds > interrupted.wallSeconds);

    // Smoke runs are listed only in their own space.
    assert.equal(runs(['--root', dir]).out, `no recorded runs under ${dir}\n`);
    const smoke = runs(['--root', dir, '--smoke']);
    assert.match(smoke.out.split('\n')[3], new RegExp(`^${finished.id}  cli     mnist  simple          960         \\d\\.\\d{4} +\\d+\\.\\d  \\d:\\d\\d  finished  ${path.basename(folder)}$`));
  });
});
