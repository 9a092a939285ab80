/** Run records: the format, the recorder's writes (atomic, as the run goes, resumed), and the store. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileWriteError } from '../../lib/io/atomic-file';
import { modelConfig } from '../../lib/models';
import { trainConfig } from '../../lib/train/config';
import type { TrainerState } from '../../lib/train/trainer';
import { runsRoot, runsSpace } from '../../lib/runs/location';
import { imagesSeenAfter, newRunId, parseRecord, readRecord, RECORD_FILE, RecordError, recordJson } from '../../lib/runs/record';
import { RecordedRun, RunRecorder } from '../../lib/runs/recorder';
import { checkpointFile, findRun, listRuns, processGone, removeRun } from '../../lib/runs/store';

const temp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `runs-${name}-`));

/** A run whose trainer is simulated: 40 images an epoch in batches of 16 (3 steps, the last of 8 images). */
function fakeRun(options: { layers?: number; epochs?: number; parts?: boolean } = {}) {
  const state: TrainerState = {
    step: 0, position: { epoch: 0, batchIndex: 0 }, epochNats: 0, epochExamples: 0, epochSeconds: 0, history: { epochs: [], steps: [] },
  };
  const run: RecordedRun = {
    dataset: { name: 'mnist', train: { count: 60000 } },
    model: { config: modelConfig({ kind: 'gated', layers: options.layers ?? 2, channels: 4 }) },
    trainer: { config: trainConfig({ epochs: options.epochs ?? 2, batchSize: 16, limit: 40 }), state },
  };
  /** `n` steps; an epoch ends every 3 (1 s each, test 7 bits/dim). */
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      state.step += 1;
      state.epochSeconds += 1 / 3;
      const parts = options.parts ? { reconstruction: 6, kl: 2 - state.step / 100 } : undefined;
      state.history.steps.push({ step: state.step, bitsPerDim: 8 - state.step / 100, ...(parts ? { parts } : {}) });
      if (state.step % 3 === 0) {
        const epoch = state.step / 3 - 1;
        state.history.epochs.push({ epoch, trainBitsPerDim: 8 - epoch / 10, testBitsPerDim: 7 - epoch / 10, seconds: 1,
          ...(options.parts ? { testParts: { reconstruction: 5, kl: 2 - epoch / 10 } } : {}) });
        state.epochSeconds = 0;
        state.position = { epoch: epoch + 1, batchIndex: 0 };
      } else {
        state.position = { epoch: state.position.epoch, batchIndex: state.position.batchIndex + 1 };
      }
    }
  };
  return { run, state, advance };
}

const backend = { name: 'cpu', description: 'cpu (test)' };
const at = (iso: string) => () => new Date(iso);

describe('run records', () => {
  test('ids sort by start time; images seen count the short last batch of each epoch', () => {
    assert.equal(newRunId(new Date('2026-11-30T05:58:25.926Z'), 'a3f9'), '20261130-055825-a3f9');
    assert.match(newRunId(), /^\d{8}-\d{6}-[0-9a-f]{4}$/);
    assert.ok(newRunId(new Date('2026-11-30T05:58:26Z'), '0000') > newRunId(new Date('2026-11-30T05:58:25Z'), 'ffff'));
    assert.deepEqual([0, 1, 2, 3, 4, 6].map((step) => imagesSeenAfter(step, 16, 40)), [0, 16, 32, 40, 56, 80]);
  });

  test('the recorder writes the record as the run goes: running, per epoch, finished', () => {
    const folder = path.join(temp('life'), 'run');
    const { run, advance } = fakeRun({ parts: true });
    const recorder = RunRecorder.open(run, { folder, source: 'cli', backend, workers: 1, smoke: false, now: at('2026-11-30T05:58:25Z') });
    let record = readRecord(folder);
    assert.deepEqual(record, recorder.record);
    assert.match(record.id, /^20261130-055825-[0-9a-f]{4}$/);
    assert.equal(record.status, 'running');
    assert.deepEqual(record.backend, { name: 'cpu', description: 'cpu (test)', workers: 1 });
    assert.equal(record.task, 'mnist');
    assert.equal(record.model.kind, 'gated');
    assert.equal(record.imagesSeen, 0);

    advance(3);
    fs.writeFileSync(path.join(folder, 'checkpoint.ckpt'), 'weights');
    recorder.update(run, { checkpoint: path.join(folder, 'checkpoint.ckpt'), thumbnail: new Uint8Array([137, 80, 78, 71]) });
    record = readRecord(folder);
    assert.equal(record.checkpoint, 'checkpoint.ckpt');
    assert.equal(record.checkpointStep, 3);
    assert.equal(record.thumbnail, 'thumb.png');
    assert.deepEqual([...fs.readFileSync(path.join(folder, 'thumb.png'))], [137, 80, 78, 71]);

    advance(3);
    recorder.finish(run);
    record = readRecord(folder);
    assert.equal(record.status, 'finished');
    assert.equal(record.message, undefined);
    assert.deepEqual(record.steps.step, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(record.steps.imagesSeen, [16, 32, 40, 56, 72, 80]);
    assert.deepEqual(record.steps.bitsPerDim, [7.99, 7.98, 7.97, 7.96, 7.95, 7.94]);
    assert.deepEqual(record.steps.parts?.kl, [1.99, 1.98, 1.97, 1.96, 1.95, 1.94]);
    assert.deepEqual(record.epochs.map((e) => [e.epoch, e.step, e.imagesSeen]), [[0, 3, 40], [1, 6, 80]]);
    assert.equal(record.imagesSeen, 80);
    assert.equal(record.testBitsPerDim, 6.9);
    assert.deepEqual(record.testParts, { reconstruction: 5, kl: 1.9 });
    assert.equal(record.trainingSeconds, 2);
    assert.equal(record.imagesPerSecond, 40);
    assert.equal(record.checkpointStep, 3, 'the checkpoint named is the one last written');
    assert.ok(record.wallSeconds >= 0 && record.wallSeconds < 60, String(record.wallSeconds));
  });

  test('writes are atomic: a failing write leaves the previous record intact, and an interrupt only warns', () => {
    const folder = temp('atomic');
    const { run, advance } = fakeRun();
    let fail = false;
    const writeSync = (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => {
      if (!fail) return fs.writeSync(fd, buffer, offset, length, position);
      fs.writeSync(fd, buffer, offset, Math.min(length, 10), position); // part of the record lands, then the disk is full
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    const warnings: string[] = [];
    const recorder = RunRecorder.open(run, { folder, source: 'notebook:02-gated', backend, workers: 0, write: { writeSync }, warn: (m) => warnings.push(m) });
    advance(3);
    recorder.update(run);
    const before = fs.readFileSync(path.join(folder, RECORD_FILE), 'utf8');
    const written = recorder.record;

    fail = true;
    advance(2);
    assert.throws(() => recorder.update(run), (error: Error) => error instanceof FileWriteError && error.message.includes(path.join(folder, RECORD_FILE)));
    assert.equal(fs.readFileSync(path.join(folder, RECORD_FILE), 'utf8'), before);
    assert.equal(recorder.record, written, 'the recorder keeps the record as last written');
    assert.deepEqual(fs.readdirSync(folder), [RECORD_FILE], 'no temporary file is left');
    recorder.interrupt(run, 'interrupted at step 5');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /^the run record was not updated: .*run\.json/);
    assert.equal(readRecord(folder).status, 'running');

    fail = false;
    recorder.interrupt(run, 'interrupted at step 5');
    const record = readRecord(folder);
    assert.equal(record.status, 'interrupted');
    assert.equal(record.message, 'interrupted at step 5');
    assert.equal(record.source, 'notebook:02-gated');
    assert.equal(record.imagesSeen, 72);
  });

  test('a resumed run continues its record; resumed elsewhere, it starts a new one naming the old', () => {
    const folder = temp('resume');
    const first = fakeRun({ epochs: 3 });
    const recorder = RunRecorder.open(first.run, { folder, source: 'cli', backend, workers: 0, now: at('2026-11-30T06:00:00Z') });
    first.advance(3);
    recorder.update(first.run, { checkpoint: path.join(folder, 'checkpoint.ckpt') });
    first.advance(2);
    recorder.interrupt(first.run, 'interrupted at step 5');
    const interrupted = readRecord(folder);
    assert.equal(interrupted.steps.step.length, 5);

    // The resumed trainer starts from the checkpoint: 3 steps; the 2 after it are trained again.
    const second = fakeRun({ epochs: 3 });
    second.advance(3);
    const resumed = RunRecorder.open(second.run, { folder, source: 'cli', backend, workers: 0, resuming: path.join(folder, 'checkpoint.ckpt'), now: at('2026-11-30T07:00:00Z') });
    assert.equal(resumed.record.id, interrupted.id);
    assert.equal(resumed.record.startedAt, '2026-11-30T06:00:00.000Z');
    assert.equal(resumed.record.status, 'running');
    assert.equal(resumed.record.message, undefined);
    assert.deepEqual(resumed.record.steps.step, [1, 2, 3]);
    assert.ok(resumed.record.wallSeconds >= interrupted.wallSeconds);
    second.advance(6);
    resumed.finish(second.run);
    const finished = readRecord(folder);
    assert.equal(finished.status, 'finished');
    assert.deepEqual(finished.steps.step, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(finished.updatedAt, '2026-11-30T07:00:00.000Z');

    const elsewhere = temp('resume-elsewhere');
    const third = fakeRun({ epochs: 4 });
    third.advance(9);
    const branch = RunRecorder.open(third.run, { folder: elsewhere, source: 'cli', backend, workers: 0, resuming: path.join(folder, 'checkpoint.ckpt') });
    assert.notEqual(branch.record.id, finished.id);
    assert.equal(branch.record.resumedFrom, finished.id);
    assert.equal(branch.record.checkpoint, path.relative(elsewhere, path.join(folder, 'checkpoint.ckpt')));
    assert.equal(checkpointFile(findRun(elsewhere)), path.join(folder, 'checkpoint.ckpt'));
  });

  test('a record that cannot be used is refused with its file and what is wrong', () => {
    const { run } = fakeRun();
    const record = RunRecorder.open(run, { folder: temp('parse'), source: 'cli', backend, workers: 0 }).record;
    const text = recordJson(record);
    const problem = (t: string) => {
      try {
        parseRecord(t, 'x/run.json');
      } catch (error) {
        assert.ok(error instanceof RecordError);
        return error.message;
      }
      return 'accepted';
    };
    assert.deepEqual(parseRecord(text, 'x/run.json'), record);
    assert.match(problem(text.slice(0, 200)), /^x\/run\.json: not valid JSON, a half-written or damaged record \(/);
    assert.equal(problem(text.replace('"status": "running"', '"status": "paused"')),
      'x/run.json: status is "paused", expected running | finished | interrupted | failed');
    assert.equal(problem(text.replace(/ "imagesSeen": 0,\n/, '')), 'x/run.json: imagesSeen is missing (expected a number)');
    assert.equal(problem(text.replace('"version": 1', '"version": 2')),
      'x/run.json: written by a newer version of this project (record version 2; this one reads up to 1)');
    assert.equal(problem('[]'), 'x/run.json: expected a JSON object');
  });
});

describe('the run store', () => {
  /** Records started at 06:00, 07:00, 08:00 in root/a, root/nested/b, root/c, and a smoke one. */
  function store() {
    const root = temp('store');
    const ids: string[] = [];
    for (const [folder, hour] of [['a', '06'], ['nested/b', '07'], ['c', '08']] as const) {
      const { run } = fakeRun();
      ids.push(RunRecorder.open(run, { folder: path.join(root, folder), source: 'cli', backend, workers: 0, now: at(`2026-11-30T${hour}:00:00Z`) }).record.id);
    }
    const { run } = fakeRun();
    const smoke = RunRecorder.open(run, { folder: path.join(runsSpace({ root, smoke: true }), 'tiny'), source: 'cli', backend, workers: 0, smoke: true }).record.id;
    return { root, ids, smoke };
  }

  test('lists newest first, the smoke space on its own, the root from PIXEL_RUNS_DIR or the option', () => {
    const { root, ids, smoke } = store();
    assert.deepEqual(listRuns({ root }).map((r) => r.record.id), [...ids].reverse());
    assert.deepEqual(listRuns({ root }).map((r) => path.relative(root, r.folder)), ['c', path.join('nested', 'b'), 'a']);
    assert.deepEqual(listRuns({ root, smoke: true }).map((r) => r.record.id), [smoke]);
    assert.deepEqual(listRuns({ env: { PIXEL_RUNS_DIR: root, PIXEL_SMOKE: '1' } }).map((r) => r.record.id), [smoke]);
    assert.equal(runsRoot({ env: { PIXEL_RUNS_DIR: root } }), root);
    assert.equal(runsSpace({ root, env: { PIXEL_SMOKE: 'yes' } }), path.join(root, 'smoke'));
  });

  test('a corrupt or half-written record is skipped with a warning naming it', () => {
    const { root, ids } = store();
    fs.mkdirSync(path.join(root, 'broken'));
    fs.writeFileSync(path.join(root, 'broken', RECORD_FILE), fs.readFileSync(path.join(root, 'a', RECORD_FILE), 'utf8').slice(0, 120));
    fs.writeFileSync(path.join(root, 'nested', 'b', RECORD_FILE), '{"format":"pixel-notebooks run","version":1}');
    const warnings: string[] = [];
    assert.deepEqual(listRuns({ root, warn: (m) => warnings.push(m) }).map((r) => r.record.id), [ids[2], ids[0]]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], new RegExp(`^skipped the run record ${path.join(root, 'broken', RECORD_FILE)}: not valid JSON, a half-written or damaged record`));
    assert.equal(warnings[1], `skipped the run record ${path.join(root, 'nested', 'b', RECORD_FILE)}: id is missing (expected a run id such as 20261130-055825-a3f9)`);
  });

  test('finds a run by id, by the start of one, by folder or by run.json; errors name the run', () => {
    const { root, ids } = store();
    assert.equal(findRun(ids[1], { root }).folder, path.join(root, 'nested', 'b'));
    assert.equal(findRun(ids[2].slice(0, 11), { root }).record.id, ids[2]);
    assert.equal(findRun(path.join(root, 'a'), { root }).record.id, ids[0]);
    assert.equal(findRun(path.join(root, 'a', RECORD_FILE), { root }).record.id, ids[0]);
    assert.throws(() => findRun('20261130-0', { root }), new RegExp(`^Error: run 20261130-0: several runs start with this id: ${ids[2]} \\(`));
    assert.throws(() => findRun('19990101-000000-0000', { root }),
      new RegExp(`^Error: run 19990101-000000-0000: no run with this id under ${root} \\(ids look like`));
    assert.throws(() => findRun(path.join(root, 'nested'), { root }), /run .*nested: .*nested is not a run folder \(it has no run\.json\)/);
    assert.throws(() => findRun('/nonexistent/run', { root }), /^Error: run \/nonexistent\/run: no such folder$/);
  });

  test('removes a record folder only: the run by id, never the root or a folder holding other runs', () => {
    const { root, ids } = store();
    fs.writeFileSync(path.join(root, 'a', 'checkpoint.ckpt'), 'weights');
    assert.equal(removeRun(ids[0], { root }).folder, path.join(root, 'a'));
    assert.ok(!fs.existsSync(path.join(root, 'a')));
    assert.deepEqual(listRuns({ root }).map((r) => r.record.id), [ids[2], ids[1]]);
    // A record folder with another run inside it (someone's --out below a run folder) is not deleted.
    const { run } = fakeRun();
    RunRecorder.open(run, { folder: path.join(root, 'c', 'inner'), source: 'cli', backend, workers: 0 });
    assert.throws(() => removeRun(ids[2], { root }), /refusing to delete .*c: it also holds other runs \(.*inner\); remove those first/);
    assert.ok(fs.existsSync(path.join(root, 'c', RECORD_FILE)));
    // A record written straight into the root is not removed with the root.
    RunRecorder.open(run, { folder: root, source: 'cli', backend, workers: 0 });
    assert.throws(() => removeRun(root, { root }), /refusing to delete .*: it is the runs root, not a run's own folder/);
  });

  test('a running record whose process is gone is told apart', () => {
    const { run } = fakeRun();
    const record = RunRecorder.open(run, { folder: temp('gone'), source: 'cli', backend, workers: 0 }).record;
    assert.equal(processGone(record), false, 'this process is alive');
    assert.equal(processGone({ ...record, process: { pid: 2 ** 22 + 12345, host: record.process.host } }), true);
    assert.equal(processGone({ ...record, process: { pid: 2 ** 22 + 12345, host: 'another-machine' } }), false);
    assert.equal(processGone({ ...record, status: 'finished', process: { pid: 2 ** 22 + 12345, host: record.process.host } }), false);
  });
});
