/** What differs between two runs' settings (exact labels), and the comparison rows, table and curves built on it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfig } from '../../lib/models';
import { trainConfig } from '../../lib/train/config';
import { differenceLabel, flattenSettings, settingDifferences } from '../../lib/runs/diff';
import { comparisonCurves, comparisonRows, comparisonTable, statusText, textTable } from '../../lib/runs/compare';
import type { RunRecord } from '../../lib/runs/record';

const settings = (model: Parameters<typeof modelConfig>[0], train: Parameters<typeof trainConfig>[0] = {}, task = 'mnist') =>
  ({ task, model: modelConfig(model), train: trainConfig(train) });

test('the settings flatten in a stable order: task, kind, the model fields in the spec order, the train fields', () => {
  const flat = flattenSettings(settings({ kind: 'gated' }, { limit: 2000 }));
  assert.deepEqual([...flat.keys()], ['task', 'kind', 'height', 'width', 'colours', 'model.seed', 'layers', 'kernelSize', 'channels', 'leak',
    'epochs', 'batchSize', 'learningRate', 'limit', 'evaluateEvery', 'train.seed']);
  assert.equal(flat.get('limit'), 2000);
});

test('the differing settings read as their names and this run\'s values', () => {
  const reference = settings({ kind: 'gated', layers: 5 });
  assert.equal(differenceLabel(reference, reference), 'same settings');
  assert.equal(differenceLabel(settings({ kind: 'gated', layers: 7 }), reference), 'layers 7');
  assert.equal(differenceLabel(settings({ kind: 'gated', layers: 5 }, { learningRate: 0.0003 }), reference), 'learningRate 0.0003');
  assert.equal(differenceLabel(settings({ kind: 'gated', layers: 7, channels: 12 }, { batchSize: 32, learningRate: 0.0003 }), reference),
    'layers 7, channels 12, batchSize 32, learningRate 0.0003');
  // Fields only one side has: a limit the reference lacks, and the reverse.
  assert.equal(differenceLabel(settings({ kind: 'gated' }, { limit: 2000 }), settings({ kind: 'gated' })), 'limit 2000');
  assert.equal(differenceLabel(settings({ kind: 'gated' }), settings({ kind: 'gated' }, { limit: 2000 })), 'limit absent');
  // Another kind: its own fields appear (after the reference's fields they follow), the reference's are absent.
  assert.equal(differenceLabel(settings({ kind: 'vae-up', latentSize: 4 }), settings({ kind: 'gated' })),
    'kind vae-up, latentSize 4, vaeDepth 0, vaeChannels 128, posteriorLogVarInit 0, klWarmupSteps 0, freeBits 0, conditionMapChannels 64, leak absent');
  assert.equal(differenceLabel(settings({ kind: 'gated' }, {}, 'fashion-mnist'), settings({ kind: 'gated' })), 'task fashion-mnist');
  // One --seed sets both seeds: both are named, apart.
  assert.equal(differenceLabel(settings({ kind: 'simple', seed: 3 }, { seed: 3 }), settings({ kind: 'simple' })), 'model.seed 3, train.seed 3');
  assert.deepEqual(settingDifferences(settings({ kind: 'gated', layers: 7 }), reference),
    [{ name: 'layers', value: 7, reference: 5, text: 'layers 7' }]);
});

/** A finished record with the figures given (the fields comparisons read). */
function record(id: string, layers: number, figures: Partial<RunRecord> = {}): RunRecord {
  return {
    format: 'pixel-notebooks run', version: 1, id, source: 'notebook:01-simple', status: 'finished', smoke: false, task: 'mnist',
    model: modelConfig({ kind: 'simple', layers }), train: trainConfig({ batchSize: 16 }),
    backend: { name: 'cpu', description: 'cpu', workers: 0 }, startedAt: '2026-11-30T06:00:00Z', updatedAt: '2026-11-30T06:00:00Z',
    process: { pid: 1, host: 'h' },
    epochs: [{ epoch: 0, trainBitsPerDim: 2, testBitsPerDim: 1.5, seconds: 10, step: 2, imagesSeen: 32 },
      { epoch: 1, trainBitsPerDim: 1.4, seconds: 10, step: 4, imagesSeen: 64 }],
    steps: { step: [1, 2, 3, 4], imagesSeen: [16, 32, 48, 64], bitsPerDim: [3, 2, 1.5, 1.3] },
    imagesSeen: 64, testBitsPerDim: 1.5, imagesPerSecond: 3.2, trainingSeconds: 20, wallSeconds: 75, ...figures,
  };
}

test('comparison rows, their plain-text table and the curves on images seen', () => {
  const runs = [
    record('20261130-060000-aaaa', 5),
    record('20261130-070000-bbbb', 7, { imagesSeen: 12800, testBitsPerDim: 1.23456, imagesPerSecond: 151.25, wallSeconds: 3725 }),
    record('20261130-080000-cccc', 5, { status: 'failed', message: 'training loss became NaN at step 3 (epoch 0, batch 2); the last finite step was step 2', testBitsPerDim: undefined, imagesPerSecond: undefined }),
  ];
  const rows = comparisonRows(runs);
  assert.deepEqual(rows.map((r) => [r.reference, r.settings]), [[true, 'reference'], [false, 'layers 7'], [false, 'same settings']]);
  assert.equal(comparisonTable(rows), [
    'run                   differing settings  images seen  test bits/dim  images/s     time  status',
    '--------------------  ------------------  -----------  -------------  --------  -------  --------------------------------------------------------------------',
    '20261130-060000-aaaa  reference                    64         1.5000       3.2     1:15  finished',
    '20261130-070000-bbbb  layers 7                 12,800         1.2346     151.3  1:02:05  finished',
    '20261130-080000-cccc  same settings                64              -         -     1:15  failed: training loss became NaN at step 3 (epoch 0, batch 2); th...',
    '',
  ].join('\n'));
  // Relative to another reference (a notebook's current run).
  assert.deepEqual(comparisonRows(runs, { reference: runs[1] }).map((r) => r.settings), ['layers 5', 'reference', 'layers 5']);

  const curves = comparisonCurves(runs.slice(0, 2));
  assert.deepEqual(curves[1], {
    id: '20261130-070000-bbbb', label: 'layers 7 (20261130-070000-bbbb)', reference: false, status: 'finished',
    steps: { imagesSeen: [16, 32, 48, 64], bitsPerDim: [3, 2, 1.5, 1.3] },
    epochs: { imagesSeen: [32, 64], train: [2, 1.4], test: [1.5, null] },
  });
  assert.equal(curves[0].label, 'reference (20261130-060000-aaaa)');
});

test('status text says when a running record\'s process is gone; tables align numbers right', () => {
  const running = record('20261130-060000-aaaa', 5, { status: 'running' });
  assert.equal(statusText(running), 'running');
  assert.equal(statusText(running, () => true), 'running (process gone)');
  assert.equal(statusText(record('20261130-060000-aaaa', 5, { status: 'interrupted', message: 'interrupted at step 3' })), 'interrupted');
  assert.equal(textTable(['a', 'n'], [['x', '1'], ['long', '100']], [false, true]), 'a       n\n----  ---\nx       1\nlong  100\n');
});
