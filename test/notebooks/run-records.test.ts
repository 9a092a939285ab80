/**
 * Notebook runs and their records (lib/notebook/run-record.ts, compare-runs.ts, load-run.ts), without Jupyter
 * (test/e2e/compare-runs.test.ts does it in the real page): every training run is recorded under
 * <PIXEL_RUNS_DIR>/notebooks/<name>/<id>/ with a copy of its checkpoint, interrupted, continued, finished or
 * reused; a later run draws the earlier ones beside its live curve, named by what differs, and tables them;
 * compareRuns puts runs of two notebooks side by side; loadRun brings back an overwritten run's weights; a corrupt
 * record is skipped with a note naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { modelConfig, ModelInput } from '../../lib/models';
import { compareRuns, comparisonTableHtml } from '../../lib/notebook/compare-runs';
import type { NotebookConfig } from '../../lib/notebook/config';
import { formatDuration } from '../../lib/notebook/html';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import type { PlotlyFigure } from '../../lib/notebook/plotly';
import { loadRun, prepare, results, Session, showResults, showSamples, train } from '../../lib/notebook/session';
import { RECORD_FORMAT, RECORD_VERSION, readRecord, RunRecord, writeRecord } from '../../lib/runs/record';
import { listRuns } from '../../lib/runs/store';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import { trainConfig } from '../../lib/train/config';
import { interruptAfter, testInterrupts } from './test-interrupts';

type Recording = ReturnType<typeof recordingOutputs>;

function config(checkpoint: string, layers: number): NotebookConfig {
  return {
    name: 'records-test', dataset: 'mnist',
    model: { kind: 'simple', layers, kernelSize: 3, channels: 8 },
    train: { epochs: 2, batchSize: 16, learningRate: 0.001, limit: 160, testLimit: 32 }, // 10 steps per epoch
    grid: { rows: 2, cols: 2, seed: 0 },
    checkpoint, reuseCheckpoint: false,
  };
}

/** The figure of the last chart shown. */
function lastFigure(outputs: Recording): PlotlyFigure {
  const html = outputs.records.map((r) => String(r.value)).filter((v) => v.includes('pixel-chart-data')).at(-1)!;
  return JSON.parse(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/.exec(html)![1]
    .replace(/\\u003c/g, '<').replace(/\\u003e/g, '>').replace(/\\u0026/g, '&')) as PlotlyFigure;
}

/** The rows of the comparison table in `html`, each as its cells joined by tabs. */
function comparisonRowsText(html: string): string[] {
  const table = /<table class="pixel-table pixel-comparison"[\s\S]*?<\/table>/.exec(html);
  assert.ok(table, 'a comparison table is shown');
  return htmlToText(table[0]).split('\n').slice(2); // caption, header
}

async function weights(session: Session): Promise<Map<string, Float32Array>> {
  const values = new Map<string, Float32Array>();
  for (const [name, variable] of session.run.model.params.variables) values.set(name, (await variable.data()) as Float32Array);
  return values;
}

const steps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('notebook runs are recorded (interrupted, continued, finished, reused), earlier runs are drawn and tabled, loadRun brings one back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-records-'));
  const env = { PIXEL_RUNS_DIR: path.join(dir, 'runs') };
  const checkpoint = path.join(dir, 'notebook.ckpt');
  const interrupts = testInterrupts();
  const options = (outputs: Recording) => ({ outputs, interrupts, env, workers: 0 });

  // The first run, interrupted after a few steps: recorded as interrupted, with a copy of the checkpoint where it stopped.
  const first = await prepare(config(checkpoint, 2), options(recordingOutputs()));
  await (await interruptAfter(first, interrupts, 3)).call;
  const step = first.run.trainer.state.step;
  let runs = listRuns({ env });
  assert.equal(runs.length, 1);
  const [{ record: interrupted, folder }] = runs;
  assert.equal(folder, path.join(dir, 'runs', 'notebooks', 'records-test', interrupted.id));
  assert.equal(interrupted.status, 'interrupted');
  assert.equal(interrupted.message, `interrupted at step ${step} (epoch 0, batch ${step})`);
  assert.equal(interrupted.source, 'notebook:records-test');
  assert.deepEqual([interrupted.task, interrupted.model, interrupted.train], [first.dataset.name, first.identity.model, first.identity.train]);
  assert.equal(interrupted.backend.name, first.backend.name);
  assert.deepEqual(interrupted.steps.step, steps(step));
  assert.deepEqual([interrupted.checkpoint, interrupted.checkpointStep], ['checkpoint.ckpt', step]);
  assert.equal(readCheckpoint(path.join(folder, 'checkpoint.ckpt')).trainerState!.step, step);
  assert.deepEqual(readCheckpoint(checkpoint).meta!.runRecord, { id: interrupted.id, folder });

  // Run again: the same record continues to the end; the grid becomes its thumbnail.
  await train(first);
  runs = listRuns({ env });
  assert.equal(runs.length, 1);
  let record = runs[0].record;
  assert.deepEqual([record.id, record.status, record.message], [interrupted.id, 'finished', undefined]);
  assert.deepEqual(record.steps.step, steps(20));
  assert.deepEqual([record.imagesSeen, record.testBitsPerDim, record.checkpointStep], [320, results(first).testBitsPerDim, 20]);
  await showSamples(first);
  record = readRecord(folder);
  assert.equal(record.thumbnail, 'thumb.png');
  assert.ok(fs.statSync(path.join(folder, 'thumb.png')).size > 0);
  const firstWeights = await weights(first);

  // The same configuration reused: the same record, no new one.
  const reused = await prepare({ ...config(checkpoint, 2), reuseCheckpoint: true }, options(recordingOutputs()));
  assert.equal(reused.start, 'reused');
  assert.deepEqual(reused.runRecord, { id: record.id, folder });
  await train(reused);
  assert.equal(listRuns({ env }).length, 1);

  // A second run with another layer count: the first is drawn beneath it, named by what differs, on images seen.
  const shown = recordingOutputs();
  const second = await prepare(config(checkpoint, 3), options(shown));
  await train(second);
  const secondRecord = readRecord(second.runRecord!.folder);
  assert.notEqual(secondRecord.id, record.id);
  const figure = lastFigure(shown);
  assert.deepEqual(figure.data.slice(0, 2).map((t) => t.name), [`layers 2 (${record.id})`, `layers 2 (${record.id}): test`]);
  assert.deepEqual(figure.data.slice(2).map((t) => t.name), ['train (per step)', 'train (average of 3 steps)', 'test']);
  assert.deepEqual(figure.data[0].x, record.steps.imagesSeen);
  assert.deepEqual(figure.data[1].x, [160, 320]);
  assert.deepEqual(figure.data[2].x, secondRecord.steps.imagesSeen, 'the live run on images seen too');
  assert.equal((figure.layout.xaxis as { title: { text: string } }).title.text, 'training images seen');

  // showResults tables this run and the earlier one, exactly as recorded.
  showResults(second);
  const row = (r: RunRecord, settings: string) => [r.id, settings, '320', r.testBitsPerDim!.toFixed(4), r.imagesPerSecond!.toFixed(1),
    formatDuration(r.wallSeconds), 'finished'].join('\t');
  assert.deepEqual(comparisonRowsText(String(shown.records.at(-1)!.value)), [row(secondRecord, 'this run'), row(readRecord(folder), 'layers 2')]);

  // The notebook's checkpoint now holds the second run; loadRun brings back the first one's weights from its record.
  assert.equal(readCheckpoint(checkpoint).modelConfig.layers, 3);
  const loaded = await loadRun(record.id, undefined, options(recordingOutputs()));
  assert.equal(loaded.start, 'reused');
  assert.equal(loaded.config.name, 'records-test');
  assert.equal(loaded.run.model.config.layers, 2);
  assert.deepEqual(loaded.runRecord, { id: record.id, folder });
  assert.deepEqual(await weights(loaded), firstWeights);
  assert.equal(listRuns({ env }).length, 2, 'loading a run records nothing new');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a reused checkpoint without a record gets one; a corrupt record is skipped with a note naming it; an interrupted run loads and trains on', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-records-'));
  const env = { PIXEL_RUNS_DIR: path.join(dir, 'runs') };
  const checkpoint = path.join(dir, 'notebook.ckpt');
  const first = await prepare(config(checkpoint, 2), { outputs: recordingOutputs(), env, workers: 0 });
  await train(first);
  fs.rmSync(path.join(dir, 'runs'), { recursive: true });

  const reused = await prepare({ ...config(checkpoint, 2), reuseCheckpoint: true }, { outputs: recordingOutputs(), env, workers: 0 });
  assert.equal(reused.start, 'reused');
  const [stored] = listRuns({ env });
  assert.deepEqual(reused.runRecord, { id: stored.record.id, folder: stored.folder });
  assert.deepEqual([stored.record.status, stored.record.imagesSeen, stored.record.checkpoint], ['finished', 320, 'checkpoint.ckpt']);
  assert.deepEqual(readCheckpoint(checkpoint).meta!.runRecord, reused.runRecord, "the notebook's checkpoint names the new record");

  const corrupt = path.join(dir, 'runs', 'notebooks', 'records-test', '20990101-000000-dead', 'run.json');
  fs.mkdirSync(path.dirname(corrupt), { recursive: true });
  fs.writeFileSync(corrupt, `{"format": "${RECORD_FORMAT}", "version": 1, "id": "2099`);
  const outputs = recordingOutputs();
  const second = await prepare(config(checkpoint, 3), { outputs, env, workers: 0 });
  await train(second);
  showResults(second);
  const notes = outputs.records.map((r) => htmlToText(String(r.value))).filter((t) => t.startsWith('warning:'));
  assert.ok(notes.length >= 1 && notes.every((t) => t.startsWith(`warning: skipped the run record ${corrupt}: not valid JSON, a half-written or damaged record`)), notes.join('\n'));
  assert.deepEqual(comparisonRowsText(String(outputs.records.at(-1)!.value)).map((r) => r.split('\t').slice(0, 2)),
    [[second.runRecord!.id, 'this run'], [stored.record.id, 'layers 2']]);

  // An interrupted run loaded by its id trains on in its own record folder, leaving the notebook's checkpoint alone.
  const interrupts = testInterrupts();
  const third = await prepare(config(checkpoint, 4), { outputs: recordingOutputs(), env, workers: 0, interrupts });
  await (await interruptAfter(third, interrupts, 3)).call;
  const stoppedAt = third.run.trainer.state.step;
  const loaded = await loadRun(third.runRecord!.id, config(checkpoint, 2), { outputs: recordingOutputs(), env, workers: 0 });
  assert.deepEqual([loaded.start, loaded.run.model.config.layers, loaded.run.trainer.state.step], ['resumed', 4, stoppedAt]);
  assert.equal(loaded.checkpointFile, path.join(third.runRecord!.folder, 'checkpoint.ckpt'));
  await train(loaded);
  const continued = readRecord(third.runRecord!.folder);
  assert.deepEqual([continued.id, continued.status, continued.steps.step], [third.runRecord!.id, 'finished', steps(20)]);
  assert.equal(readCheckpoint(loaded.checkpointFile).trainerState!.step, 20);
  assert.equal(readCheckpoint(checkpoint).trainerState!.step, stoppedAt, "the notebook's checkpoint is not written");
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A finished record of a notebook run: `n` steps of `batchSize` over 128 images an epoch, test after each epoch. */
function fixture(root: string, notebook: string, id: string, model: ModelInput, batchSize: number, test: number[]): RunRecord {
  const perEpoch = 128 / batchSize;
  const n = perEpoch * test.length;
  const record: RunRecord = {
    format: RECORD_FORMAT, version: RECORD_VERSION, id, source: `notebook:${notebook}`, status: 'finished', smoke: false, task: 'mnist',
    model: modelConfig({ layers: 5, kernelSize: 5, channels: 30, ...model }), train: trainConfig({ epochs: test.length, batchSize, limit: 128 }),
    backend: { name: 'cpu', description: 'cpu (test)', workers: 0 }, startedAt: '2026-11-30T05:58:25Z', updatedAt: '2026-11-30T06:00:00Z',
    process: { pid: 1, host: 'test' },
    epochs: test.map((bits, e) => ({ epoch: e, trainBitsPerDim: bits + 0.1, testBitsPerDim: bits, seconds: 30, step: (e + 1) * perEpoch, imagesSeen: (e + 1) * 128 })),
    steps: { step: steps(n), imagesSeen: steps(n).map((s) => s * batchSize), bitsPerDim: steps(n).map((s) => 8 - s / n) },
    imagesSeen: 128 * test.length, testBitsPerDim: test.at(-1), imagesPerSecond: 128 / 30, trainingSeconds: 30 * test.length, wallSeconds: 75,
  };
  const folder = path.join(root, 'notebooks', notebook, id);
  fs.mkdirSync(folder, { recursive: true });
  writeRecord(folder, record);
  return record;
}

test('compareRuns puts two notebooks\' runs side by side on images seen; the table reads exactly', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nb-compare-'));
  const simple = fixture(root, '01-simple', '20261130-055825-aaaa', { kind: 'simple' }, 64, [1.5, 1.2]);
  fixture(root, '01-simple', '20261129-000000-bbbb', { kind: 'simple', layers: 7 }, 64, [1.4]);
  const gated = fixture(root, '02-gated', '20261130-070000-cccc', { kind: 'gated' }, 32, [1.3, 1.1]);
  const outputs = recordingOutputs();
  compareRuns(['notebook:01-simple', gated.id], { outputs, env: { PIXEL_RUNS_DIR: root } });

  const figure = lastFigure(outputs);
  assert.deepEqual(figure.data.map((t) => t.name), [`reference (${simple.id})`, `reference (${simple.id}): test`,
    `kind gated, batchSize 32 (${gated.id})`, `kind gated, batchSize 32 (${gated.id}): test`]);
  assert.deepEqual(figure.data[0].x, [64, 128, 192, 256]);
  assert.deepEqual(figure.data[2].x, [32, 64, 96, 128, 160, 192, 224, 256], 'a smaller batch: more steps, the same images');
  assert.deepEqual(figure.data[3].y, [1.3, 1.1]);
  const table = String(outputs.records.at(-1)!.value);
  assert.equal(htmlToText(table), [
    `differing settings: what differs from ${simple.id}`,
    'run\tdiffering settings\timages seen\ttest bits/dim\timages/s\ttime\tstatus',
    `${simple.id} (01-simple)\treference\t256\t1.2000\t4.3\t1:15\tfinished`,
    `${gated.id} (02-gated)\tkind gated, batchSize 32\t256\t1.1000\t4.3\t1:15\tfinished`,
  ].join('\n'));
  // The notebook's own table calls the reference 'this run'.
  assert.match(htmlToText(comparisonTableHtml([gated, simple], gated, { caption: 'c', referenceText: 'this run' })),
    new RegExp(`${gated.id}\tthis run\t.*\n${simple.id}\tkind simple, batchSize 64\t`));
  assert.throws(() => compareRuns(['20990101'], { outputs: recordingOutputs(), env: { PIXEL_RUNS_DIR: root } }), /compareRuns: none of the runs could be read \(20990101\)/);
  fs.rmSync(root, { recursive: true, force: true });
});
