/**
 * Kernel -> Interrupt in the notebook helpers, without Jupyter (an injected interrupt source stands in for the
 * kernel's SIGINT; test/e2e/interrupt.test.ts does it in the real page): train stops at a step boundary, saves
 * the checkpoint there, marks the chart and the session, and runs on from there when called again; a call made
 * while an interrupted one is still stopping waits for it; sampling and the blind-spot maps stop too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { NotebookConfig } from '../../lib/notebook/config';
import { showBlindSpots } from '../../lib/notebook/diagnostics';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import { prepare, showSamples, train, TrainingEnd } from '../../lib/notebook/session';
import { listRuns } from '../../lib/runs/store';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import { interruptAfter, testInterrupts } from './test-interrupts';

function config(checkpoint: string): NotebookConfig {
  return {
    name: 'interrupt-test', dataset: 'mnist',
    model: { kind: 'simple', layers: 2, kernelSize: 3, channels: 8 },
    train: { epochs: 2, batchSize: 16, learningRate: 0.001, limit: 160, testLimit: 32 }, // 10 steps per epoch
    grid: { rows: 2, cols: 2, seed: 0 },
    checkpoint, reuseCheckpoint: true,
  };
}

test('an interrupted train call stops at a step, saves it, says so, and running it again goes on from there (never alongside)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-interrupt-'));
  const interrupts = testInterrupts();
  const outputs = recordingOutputs();
  const session = await prepare(config(path.join(dir, 'run.ckpt')), { outputs, interrupts, env: { PIXEL_RUNS_DIR: dir } });
  const ends: TrainingEnd[] = [];
  session.onTrainingEnd = (end) => { ends.push(end); };
  const trainer = session.run.trainer;
  // Every trainer.run start and end, to show that the two calls never train at once.
  const events: string[] = [];
  const run = trainer.run.bind(trainer);
  trainer.run = (...args) => {
    events.push('start');
    return run(...args).finally(() => events.push('end'));
  };

  const { call: first } = await interruptAfter(session, interrupts, 3);
  // The cell run again at once (tslab has already released the interrupted one): it waits for the stop.
  const second = train(session);
  await first;
  const step = trainer.state.step;
  const saved = readCheckpoint(session.checkpointFile);
  assert.equal(session.status, 'interrupted');
  assert.ok(step >= 3 && step < 10, `stopped mid-epoch (step ${step})`);
  assert.deepEqual(ends.map((e) => [e.status, e.step]), [['interrupted', step]]);
  // The checkpoint holds the stopped position; the display says where it stopped.
  assert.equal(saved.trainerState!.step, step);
  assert.deepEqual(saved.trainerState!.position, { epoch: 0, batchIndex: step });
  const texts = outputs.areas().map((r) => htmlToText(String(r.value)));
  assert.ok(texts.some((t) => new RegExp(`^interrupted at step ${step} \\(epoch 1 of 2, batch ${step} of 10\\).*checkpoint saved`).test(t)), texts.join('\n'));
  assert.ok(outputs.areas().some((r) => String(r.value).includes(`interrupted at step ${step}`) && String(r.value).includes('pixel-chart')), 'the chart is marked');

  await second;
  assert.deepEqual(events, ['start', 'end', 'start', 'end']);
  assert.equal(session.status, 'finished');
  assert.deepEqual(trainer.state.history.steps.map((s) => s.step), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(ends.map((e) => e.status), ['interrupted', 'finished']);
  assert.equal(readCheckpoint(session.checkpointFile).trainerState!.step, 20);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('prepare with reuseCheckpoint resumes an interrupted checkpoint mid-epoch and trains on from its step', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-interrupt-'));
  const interrupts = testInterrupts();
  const session = await prepare(config(path.join(dir, 'run.ckpt')), { outputs: recordingOutputs(), interrupts, env: { PIXEL_RUNS_DIR: dir } });
  await (await interruptAfter(session, interrupts, 3)).call;
  const step = session.run.trainer.state.step;
  const resumed = await prepare(config(path.join(dir, 'run.ckpt')), { outputs: recordingOutputs(), interrupts, env: { PIXEL_RUNS_DIR: dir } });
  assert.equal(resumed.start, 'resumed');
  assert.match(resumed.startNote, new RegExp(`stopped at step ${step}, batch ${step} of epoch 1 of 2`));
  await train(resumed);
  assert.equal(resumed.status, 'finished');
  // The resumed run goes on in the interrupted run's record (test/notebooks/run-records.test.ts checks records in detail).
  assert.deepEqual(resumed.runRecord, session.runRecord);
  assert.deepEqual(listRuns({ env: { PIXEL_RUNS_DIR: dir } }).map((r) => [r.record.id, r.record.status]), [[session.runRecord!.id, 'finished']]);
  assert.deepEqual(resumed.run.trainer.state.history.steps.map((s) => s.step), Array.from({ length: 20 }, (_, i) => i + 1));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an interrupt stops sampling (the grid is not shown) and the blind-spot maps (the call rejects)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-interrupt-'));
  const outputs = recordingOutputs();
  const session = await prepare(config(path.join(dir, 'run.ckpt')), { outputs, interrupts: testInterrupts(true), env: { PIXEL_RUNS_DIR: dir } });
  await showSamples(session);
  assert.equal(session.samples, undefined);
  assert.equal(outputs.records.filter((r) => r.kind === 'png').length, 0);
  assert.match(String(outputs.areas().at(-1)!.value), /^sampling the 2 x 2 grid \(4 images\): interrupted at 0% after/);

  const maps = recordingOutputs();
  await assert.rejects(showBlindSpots({ depths: [1, 2] }, maps, testInterrupts(true)), /receptive fields stopped: interrupted/);
  assert.match(String(maps.areas().at(-1)!.value), /^receptive fields: interrupted after 0 of 6/);
  fs.rmSync(dir, { recursive: true, force: true });
});
