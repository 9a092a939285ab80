/**
 * The notebook helpers without Jupyter: configuration and smoke settings, checkpoint reuse, the live display's
 * throttling, chart HTML, and the committed notebooks' shape (no outputs, one configuration cell).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  effectiveConfig, identityDifferences, NotebookConfig, smokeCheckpointPath, validateNotebookConfig,
} from '../../lib/notebook/config';
import { smokeRequested } from '../../lib/runs/location';
import { htmlToText, inTslabKernel, recordingOutputs } from '../../lib/notebook/output';
import { chartHtml, plotlyBundleHtml, scriptSafeJson, PLOTLY_BUNDLE_ATTRIBUTE } from '../../lib/notebook/plotly';
import { defaultHalfWidth, downsample, movingAverage, trainingFigure } from '../../lib/notebook/training-chart';
import { LiveTraining } from '../../lib/notebook/live';
import { formatDuration, keyValueTable } from '../../lib/notebook/html';
import { prepare, results, showResults, showSamples, train } from '../../lib/notebook/session';
import { buildModel, ModelInput, modelConfig } from '../../lib/models';
import { liveSamplerObstacle } from '../../lib/notebook/live-sampler';
import { initBackend } from '../../lib/backend/index';
import { trainConfig } from '../../lib/train/config';
import type { History } from '../../lib/train/trainer';
import { listRuns } from '../../lib/runs/store';

const root = path.resolve(__dirname, '..', '..');

function baseConfig(checkpoint: string): NotebookConfig {
  return {
    name: 'test-gated', dataset: 'mnist',
    model: { kind: 'gated', layers: 5, kernelSize: 5, channels: 30 },
    train: { epochs: 3, batchSize: 64, learningRate: 0.001, limit: 1920, testLimit: 512 },
    grid: { rows: 12, cols: 12, seed: 0 },
    checkpoint, reuseCheckpoint: false,
  };
}

test('PIXEL_SMOKE swaps in tiny settings and a separate checkpoint; otherwise the config is used as is', () => {
  const config = baseConfig('runs/notebooks/02-gated.ckpt');
  assert.equal(smokeRequested({}), false);
  assert.equal(smokeRequested({ PIXEL_SMOKE: '0' }), false);
  for (const v of ['1', 'true', 'YES']) assert.equal(smokeRequested({ PIXEL_SMOKE: v }), true);
  const normal = effectiveConfig(config, {});
  assert.equal(normal.smoke, false);
  assert.deepEqual(normal.config, config);
  const smoke = effectiveConfig(config, { PIXEL_SMOKE: '1' });
  assert.equal(smoke.smoke, true);
  assert.equal(smoke.config.model.kind, 'gated');
  assert.ok(smoke.config.model.layers! < config.model.layers! && smoke.config.model.channels! < config.model.channels!);
  assert.ok(smoke.config.train.epochs * (smoke.config.train.limit ?? Infinity) <= 256);
  assert.ok(smoke.config.grid.rows * smoke.config.grid.cols <= 16);
  assert.equal(smoke.config.checkpoint, path.join('runs/notebooks/smoke/02-gated.ckpt'));
  assert.equal(smokeCheckpointPath('/a/b.ckpt'), '/a/smoke/b.ckpt');
  assert.equal(config.model.layers, 5, 'the caller\'s object is not modified');
});

test('config validation names the field', () => {
  const bad = (patch: Partial<NotebookConfig>, field: RegExp) =>
    assert.throws(() => validateNotebookConfig({ ...baseConfig('x.ckpt'), ...patch }), field);
  bad({ grid: { rows: 5, cols: 4, seed: 0 } }, /grid\.rows must be even/);
  bad({ grid: { rows: 4, cols: 0, seed: 0 } }, /grid\.cols/);
  bad({ checkpoint: '' }, /checkpoint/);
  bad({ reuseCheckpoint: 'yes' as unknown as boolean }, /reuseCheckpoint/);
  // A PixelVAE's KL options moved from the train config into the model's: the old place is refused, not ignored.
  const oldTrain = { ...baseConfig('x.ckpt').train, freeBits: 0.5 } as NotebookConfig['train'];
  bad({ model: { kind: 'vae-up' }, train: oldTrain }, /train\.freeBits is an option of the model \(vae-up, vae-straight\) now: move it to model, e\.g\. model: \{ kind: 'vae-up', \.\.\., freeBits: 0\.5 \}/);
});

test('identity differences list each changed field', () => {
  const a = { dataset: 'mnist', model: modelConfig({ kind: 'gated' }), train: trainConfig({ epochs: 3, limit: 100 }) };
  assert.deepEqual(identityDifferences(a, structuredClone(a)), []);
  const b = { ...a, model: modelConfig({ kind: 'gated', layers: 4 }), train: trainConfig({ epochs: 3 }) };
  assert.deepEqual(identityDifferences(a, b), ['model.layers: 5 -> 4', 'train.limit: 100 -> (unset)']);
});

test('the moving average is centred (no lag) and downsampling keeps the ends', () => {
  assert.deepEqual(movingAverage([1, 2, 3, 4, 5], 1), [1.5, 2, 3, 4, 4.5]);
  assert.deepEqual(movingAverage([8, 6, 4], 0), [8, 6, 4]);
  const falling = Array.from({ length: 90 }, (_, i) => 8 - i / 15);
  const avg = movingAverage(falling, defaultHalfWidth(90));
  assert.ok(Math.abs(avg[45] - falling[45]) < 1e-9, 'a straight line is followed exactly in the middle');
  assert.equal(defaultHalfWidth(8), 1);
  assert.equal(defaultHalfWidth(90), 3);
  assert.equal(defaultHalfWidth(100000), 50);
  const x = Array.from({ length: 10 }, (_, i) => i + 1);
  const d = downsample(x, x, 5);
  assert.deepEqual(d.x, [2, 4, 6, 8, 10]);
  assert.deepEqual(d.y, [1.5, 3.5, 5.5, 7.5, 9.5]);
});

test('the live sampler refuses only a map-conditioned model without the decoder that makes the map', async () => {
  await initBackend();
  const obstacle = (input: ModelInput) => {
    const model = buildModel(modelConfig({ layers: 1, kernelSize: 3, channels: 4, ...input }));
    try {
      return liveSamplerObstacle(model);
    } finally {
      model.params.dispose();
    }
  };
  assert.equal(obstacle({ kind: 'conditional', conditionMapChannels: 2 }),
    'The live sampler cannot run a conditional model conditioned on a map (conditionMapChannels 2) without the decoder that makes the map.');
  assert.equal(obstacle({ kind: 'gated' }), undefined);
  assert.equal(obstacle({ kind: 'conditional', conditionSize: 10 }), undefined);
  assert.equal(obstacle({ kind: 'vae-up', latentSize: 2, vaeChannels: 8, conditionMapChannels: 2 }), undefined, 'its decoder makes the map');
});

function fakeHistory(steps: number, perEpoch: number): History {
  const history: History = { steps: [], epochs: [] };
  for (let s = 1; s <= steps; s++) {
    history.steps.push({ step: s, bitsPerDim: 8 / Math.sqrt(s) });
    if (s % perEpoch === 0) history.epochs.push({ epoch: s / perEpoch - 1, trainBitsPerDim: 8 / Math.sqrt(s), testBitsPerDim: 7 / Math.sqrt(s), seconds: 1 });
  }
  return history;
}

test('the training figure has per-step, smoothed and per-epoch test traces; chart HTML carries the data safely', () => {
  const fig = trainingFigure(fakeHistory(30, 10), { batchesPerEpoch: 10 });
  assert.equal(fig.data.length, 3);
  assert.equal(fig.data[0].x.length, 30);
  assert.deepEqual(fig.data[2].x, [10, 20, 30]);
  const html = chartHtml({ ...fig, layout: { ...fig.layout, title: { text: '</script><b>x</b>' } } });
  const json = /<script type="application\/json"[^>]*>([\s\S]*?)<\/script>/.exec(html)![1];
  assert.ok(!json.includes('</'), 'no closing tag inside the JSON');
  assert.deepEqual(JSON.parse(json).data[2].y, fig.data[2].y);
  assert.equal(JSON.parse(scriptSafeJson('a</script>&\u2028')), 'a</script>&\u2028');
  const ids = new Set([chartHtml(fig), chartHtml(fig)].map((h) => /id="([^"]+)"/.exec(h)![1]));
  assert.equal(ids.size, 2, 'each chart gets fresh element ids');
});

test('the plotly bundle is inlined so that it sets window.Plotly even under RequireJS', () => {
  const html = plotlyBundleHtml();
  assert.ok(html.length > 500_000);
  assert.equal(html.split(PLOTLY_BUNDLE_ATTRIBUTE).length - 1, 1);
  assert.match(html, /^<script [^>]+>\(function\(define, exports, module\) \{/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1);
});

test('the live display throttles updates and always redraws at epoch ends and the finish', () => {
  let now = 0;
  const outputs = recordingOutputs();
  const live = new LiveTraining(outputs, { epochs: 2, batchesPerEpoch: 50, batchSize: 64, chartEverySeconds: 5, progressEverySeconds: 1, now: () => now });
  const history: History = { steps: [], epochs: [] };
  for (let step = 1; step <= 100; step++) {
    now += 200; // 5 steps per second
    history.steps.push({ step, bitsPerDim: 8 - step / 100 });
    const epoch = step <= 50 ? 0 : 1;
    live.onBatch({ epoch, batch: (step - 1) % 50, batchesPerEpoch: 50, step, bitsPerDim: 8 - step / 100 }, history);
    if (step % 50 === 0) {
      history.epochs.push({ epoch, trainBitsPerDim: 7.5, testBitsPerDim: 7.4, seconds: 10 });
      live.onEpoch(history.epochs[epoch], history);
    }
  }
  live.finish(history, 'done');
  // 20 s of training: the first step draws, then every 5 s (4 more), 2 epoch ends and the finish.
  assert.ok(live.chartUpdates >= 6 && live.chartUpdates <= 9, `chart updates: ${live.chartUpdates}`);
  const progressUpdates = outputs.records.filter((r) => r.area === 0).length;
  assert.ok(progressUpdates >= 20 && progressUpdates <= 30, `progress updates: ${progressUpdates}`);
  const areas = outputs.areas();
  assert.equal(areas.length, 2, 'one progress output and one chart output, each replaced in place');
  assert.match(htmlToText(areas[0].value as string), /^done$/);
  assert.match(areas[1].value as string, /pixel-chart/);
  assert.match(live.line, /done/);
});

test('the status line also goes to $PIXEL_REPORT_STATUS_FILE', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-status-')), 'status.txt');
  const live = new LiveTraining(recordingOutputs(), { epochs: 1, batchesPerEpoch: 2, batchSize: 8, statusFile: file });
  live.onBatch({ epoch: 0, batch: 0, batchesPerEpoch: 2, step: 1, bitsPerDim: 7.5 }, { steps: [{ step: 1, bitsPerDim: 7.5 }], epochs: [] });
  assert.match(fs.readFileSync(file, 'utf8'), /epoch 1\/1 · batch 1\/2 · step 1\/2 · train 7\.500/);
});

test('small helpers', () => {
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(htmlToText(keyValueTable([['a <b>', 'x & y']])), 'a <b>\tx & y');
  assert.equal(inTslabKernel(['/usr/bin/node', '/p/node_modules/.bin/tslab', 'kernel', '--config-path', 'c.json']), true);
  assert.equal(inTslabKernel(['/usr/bin/node', '/p/test.ts']), false);
});

test('a notebook run end to end (smoke settings, no Jupyter): trains, saves, and a later run reuses only a matching checkpoint', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-session-'));
  const env = { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: path.join(dir, 'runs') };
  const config: NotebookConfig = { ...baseConfig(path.join(dir, 'run.ckpt')), model: { kind: 'conditional', layers: 5, kernelSize: 5, channels: 30 } };

  const first = recordingOutputs();
  const session = await prepare(config, { outputs: first, env });
  assert.equal(session.start, 'new');
  assert.equal(session.smoke, true);
  await train(session);
  const checkpoint = path.join(dir, 'smoke', 'run.ckpt');
  assert.ok(fs.existsSync(checkpoint), 'checkpoint written');
  // Recorded in the smoke space, never among the real runs.
  const [smokeRun] = listRuns({ env });
  assert.equal(path.dirname(smokeRun.folder), path.join(dir, 'runs', 'smoke', 'notebooks', 'test-gated'));
  assert.deepEqual([smokeRun.record.smoke, smokeRun.record.status], [true, 'finished']);
  assert.deepEqual(listRuns({ env: { PIXEL_RUNS_DIR: env.PIXEL_RUNS_DIR } }), []);
  const steps = session.run.trainer.state.step;
  await train(session); // the training cell run again: nothing more to train
  assert.equal(session.run.trainer.state.step, steps);
  assert.match(htmlToText(first.records.at(-2)!.value as string), /Already trained \(2 of 2 epochs\)/);
  await showSamples(session);
  showResults(session);
  const r = results(session);
  assert.equal(r.epochs, 2);
  assert.ok(r.testBitsPerDim! > 0 && r.testBitsPerDim! < 8.1, `test bits/dim ${r.testBitsPerDim}`);
  const pngs = first.records.filter((x) => x.kind === 'png');
  assert.equal(pngs.length, 2, 'the grid and the class grid');
  const summary = htmlToText(first.records[0].value as string);
  assert.match(summary, /PIXEL_SMOKE=1/);
  assert.match(summary, /parameters\t[\d,]+/);
  assert.match(summary, /backend\t(native|wasm|cpu|tensorflow)/);
  const finalTable = htmlToText(first.records.at(-1)!.value as string);
  assert.match(finalTable, /final test bits\/dim\t\d\.\d{4}/);

  // Same configuration, reuse on: loaded, not trained.
  const second = recordingOutputs();
  const reused = await prepare({ ...config, reuseCheckpoint: true }, { outputs: second, env });
  assert.equal(reused.start, 'reused', reused.startNote);
  await train(reused);
  assert.deepEqual(results(reused).testBitsPerDim, r.testBitsPerDim);
  assert.equal(reused.run.trainer.state.step, session.run.trainer.state.step);

  // A different configuration: trains from scratch and says which field differs.
  const third = await prepare({ ...config, reuseCheckpoint: true, grid: { ...config.grid }, train: { ...config.train, learningRate: 0.002 } }, { outputs: recordingOutputs(), env });
  assert.equal(third.start, 'new');
  assert.match(third.startNote, /train\.learningRate: 0\.001 -> 0\.002/);
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Cell { cell_type: string; source: string | string[]; outputs?: unknown[]; execution_count?: number | null }

test('committed notebooks: no outputs, the tslab kernel; the model notebooks: one configuration cell, every code cell a call into lib/notebook', () => {
  const dir = path.join(root, 'notebooks');
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  const models = ['01-simple.ipynb', '02-gated.ipynb', '03-conditional.ipynb', '04-vae.ipynb'];
  for (const name of models) assert.ok(all.includes(name), `${name} exists`);
  for (const name of all) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { cells: Cell[]; metadata: { kernelspec: { name: string } } };
    assert.equal(nb.metadata.kernelspec.name, 'tslab', name);
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    for (const c of code) {
      assert.deepEqual(c.outputs, [], `${name}: committed without outputs`);
      assert.equal(c.execution_count ?? null, null, `${name}: no execution counts`);
    }
    if (!models.includes(name)) continue;
    const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);
    assert.equal(code.filter((c) => /nb\.NotebookConfig = \{/.test(text(c))).length, 1, `${name}: one configuration cell`);
    assert.match(text(nb.cells[0]), /arxiv\.org\/abs\/16\d\d\.\d{5}/, `${name}: opens with the paper link`);
    assert.match(text(code[0]), /import \* as nb from '\.\/lib\/notebook\/index'/);
    for (const c of code) {
      const lines = text(c).split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
      assert.ok(lines.length <= 12, `${name}: code cells stay small (configuration, a call or display)`);
    }
  }
});
