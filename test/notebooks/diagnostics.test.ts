/**
 * Notebook 05's helpers without Jupyter (smoke settings): the receptive-field tables, the leak demonstration's
 * two sessions, the comparison chart and the pixel-by-pixel table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { NotebookConfig } from '../../lib/notebook/config';
import {
  comparisonFigure, leakingConfig, prepareLeakDemo, showBlindSpots, showColourFields, showLikelihoodChecks, showTrainingComparison,
} from '../../lib/notebook/diagnostics';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import { showSamples, train } from '../../lib/notebook/session';

function config(checkpoint: string): NotebookConfig {
  return {
    name: 'test-05', dataset: 'mnist',
    model: { kind: 'simple', layers: 2, kernelSize: 5, channels: 30, seed: 0 },
    train: { epochs: 2, batchSize: 16, learningRate: 0.01, limit: 1600, testLimit: 256, seed: 0 },
    grid: { rows: 4, cols: 12, seed: 0 },
    checkpoint, reuseCheckpoint: false,
  };
}

test('the leaking twin of a configuration: leak on, its own name and checkpoint', () => {
  const leaking = leakingConfig(config('runs/notebooks/05-blind-spot.ckpt'));
  assert.equal('leak' in leaking.model && leaking.model.leak, true);
  assert.equal(leaking.name, 'test-05 (leaking)');
  assert.equal(leaking.checkpoint, 'runs/notebooks/05-blind-spot-leaking.ckpt');
  assert.equal(leakingConfig({ ...config('runs/x'), checkpoint: 'runs/x' }).checkpoint, 'runs/x-leaking');
  // A PixelVAE has no leak to switch on.
  assert.throws(() => leakingConfig({ ...config('runs/x'), model: { kind: 'vae-up' } }),
    /leakingConfig: the leak demonstration needs a model with a leak field \(simple, gated, gated-blindspot, conditional\), got model.kind vae-up/);
});

test('receptive-field tables: counts, legend, pictures', async () => {
  const outputs = recordingOutputs();
  const study = await showBlindSpots({ depths: [1, 3] }, outputs);
  assert.deepEqual(study.fields.map((row) => row.map((f) => f.counts.blind)), [[0, 3], [0, 3], [0, 0]]);
  const shown = outputs.areas().map((r) => r.value as string);
  assert.match(shown[0], /receptive fields: 6 models in/);
  assert.equal((shown[1].match(/<img /g) ?? []).length, 6);
  assert.match(shown[1], /unreachable/);
  assert.match(htmlToText(shown[2]), /simple: blind 0, 3 at depth 1, 3; gated-blindspot: blind 0, 3 at depth 1, 3; gated: blind 0, 0/);
  const colours = recordingOutputs();
  const rgb = await showColourFields({}, colours);
  assert.equal(rgb.fields.length, 3);
  assert.match(colours.records[0].value as string, /own pixel: R: seen, G: future, B: future/);
});

test('the leak demonstration end to end (smoke settings): two runs, one chart, samples, the check table', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-leak-'));
  const outputs = recordingOutputs();
  try {
    await assert.rejects(prepareLeakDemo({ ...config(path.join(dir, 'run.ckpt')), model: { kind: 'simple', layers: 2, kernelSize: 5, channels: 30, seed: 0, leak: true } }, { outputs, env: { PIXEL_RUNS_DIR: dir } }), /leave model.leak unset/);
    const demo = await prepareLeakDemo(config(path.join(dir, 'run.ckpt')), { outputs, env: { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: dir } });
    const [leakingModel, correctModel] = [demo.leaking.run.model.config, demo.correct.run.model.config];
    assert.equal('leak' in leakingModel && leakingModel.leak, true);
    assert.ok('leak' in correctModel && correctModel.leak === false);
    await train(demo.leaking);
    await train(demo.correct);
    assert.ok(fs.existsSync(path.join(dir, 'smoke', 'run-leaking.ckpt')) && fs.existsSync(path.join(dir, 'smoke', 'run.ckpt')));
    const before = outputs.records.length;
    showTrainingComparison(demo, outputs);
    const chart = outputs.records[before].value as string;
    const figure = JSON.parse(/<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/.exec(chart)![1]) as { data: { name: string; y: number[] }[] };
    assert.deepEqual(figure.data.map((t) => t.name), [
      'leaking model: train (smoothed)', 'leaking model: test (one pass)', 'correct model: train (smoothed)', 'correct model: test (one pass)',
    ]);
    assert.equal(figure.data[0].y.length, 8, 'smoke: 2 epochs x 4 steps');
    assert.equal(figure.data[1].y.length, 2);
    await showSamples(demo.leaking);
    const checks = await showLikelihoodChecks(demo, { images: 64 }, outputs);
    assert.equal(checks.correct.count, 4, 'smoke: 4 images');
    assert.ok(checks.correct.agrees, JSON.stringify(checks.correct));
    const table = htmlToText(outputs.records.at(-2)!.value as string);
    assert.match(table, /correct model\t4\t\d\.\d{4}\t\d\.\d{4}\t[-\d.e+]+\tagree/);
    assert.match(htmlToText(outputs.records.at(-1)!.value as string), /Correct model: the two values agree/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('comparison figure: empty histories give empty traces', () => {
  const figure = comparisonFigure([{ label: 'a', colour: '#000000', history: { steps: [], epochs: [] }, batchesPerEpoch: 4 }], 't');
  assert.deepEqual(figure.data.map((t) => t.x.length), [0, 0]);
});
