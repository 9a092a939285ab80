/**
 * The notebooks' "same model after the full run" section: for a run exported by `npm run reproduce` (a tiny one, in a
 * temporary root) it shows the recorded test bits/dim, both runs' curves on training images seen, and a grid sampled
 * from the committed weights; for a run not exported yet, a note saying how far its work folder has got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { reproduce } from '../../lib/cli/reproduce';
import { showFullRun, showFullRunComparison } from '../../lib/notebook/full-run';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import { prepare } from '../../lib/notebook/session';
import { readResult } from '../../lib/results/result';
import type { ReproduceRun } from '../../lib/results/runs';
import { parseRunArgv } from '../../lib/results/argv';
import { modelInput } from '../../lib/cli/model-flags';
import { trainSettings } from '../../lib/cli/options';
import { loadDataset } from '../../lib/data';
import { saveCheckpoint } from '../../lib/train/checkpoint-file';
import { checkpointRun, disposeRun, startRun } from '../../lib/train/run';

type Recording = ReturnType<typeof recordingOutputs>;
const htmlOf = (outputs: Recording): string[] => outputs.records.filter((r) => r.kind === 'html').map((r) => r.value as string);

const ARGV = ['-m', 'gated', '-x', '2', '-k', '3', '-c', '8', '-b', '32', '--limit', '64', '--test-limit', '32', '-e', '1', '--no-samples', '--workers', '0'];
const RUN: ReproduceRun = { name: 'tiny-full', summary: 'a tiny gated run', task: 'mnist', argv: ARGV, reference: 'a test' };

test('showFullRun: recorded figures, both curves and a grid from the committed weights; pending runs say so', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'full-run-'));
  const session = await prepare({
    name: 'test-full-run', dataset: 'mnist', model: { kind: 'gated', layers: 2, kernelSize: 3, channels: 8 },
    train: { epochs: 1, batchSize: 16, learningRate: 0.001, limit: 32, testLimit: 16 }, grid: { rows: 2, cols: 2, seed: 0 },
    checkpoint: path.join(root, 'session.ckpt'), reuseCheckpoint: false,
  }, { outputs: recordingOutputs(), env: { PIXEL_RUNS_DIR: path.join(root, 'runs') }, root, workers: 0 });

  const pending = recordingOutputs();
  await showFullRun({ ...session, outputs: pending }, 'tiny-full', { root });
  const note = htmlToText(htmlOf(pending).join(''));
  assert.match(note, /The full run tiny-full is not in results\/ yet \(so far: not started\)\. The command npm run reproduce -- tiny-full trains it/);

  const code = await reproduce({ names: ['tiny-full'], runs: [RUN], results: path.join(root, 'results'), work: path.join(root, 'runs', 'reproduce'), log: () => {} });
  assert.equal(code, 0);
  const result = readResult(path.join(root, 'results', 'tiny-full'));
  const shown = recordingOutputs();
  await showFullRun({ ...session, outputs: shown }, 'tiny-full', { root });
  const text = htmlToText(htmlOf(shown).join(' '));
  assert.ok(text.includes(`test bits/dim\t${result.test.bitsPerDim.toFixed(4)} (32 test images)`), text);
  assert.ok(text.includes("flags\tnpm run train -- -m gated -x 2 -k 3 -c 8"), text);
  const chart = htmlOf(shown).find((html) => html.includes('training images seen'));
  assert.ok(chart, 'a chart on training images seen');
  for (const name of ['full run (1 epochs): test', 'this run: test']) assert.ok(chart.includes(name), name);
  const pngs = shown.records.filter((r) => r.kind === 'png').map((r) => r.value as Uint8Array);
  assert.equal(pngs.length, 1, 'the grid sampled from the committed weights');
  assert.deepEqual(Array.from(pngs[0].subarray(1, 4)), [0x50, 0x4e, 0x47]);
  session.run.model.params.dispose();
});

test('showFullRunComparison: exported runs with their difference, a run in progress with its epochs so far, one not started', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'full-run-comparison-'));
  const results = path.join(root, 'results'), work = path.join(root, 'runs', 'reproduce');
  const wider: ReproduceRun = { ...RUN, name: 'tiny-wider', argv: ARGV.map((word) => (word === '8' ? '12' : word)) };
  const longer: ReproduceRun = { ...RUN, name: 'tiny-longer', argv: ARGV.map((word, i) => (ARGV[i - 1] === '-e' ? '3' : word)) };
  assert.equal(await reproduce({ names: ['tiny-full', 'tiny-wider'], runs: [RUN, wider], results, work, log: () => {} }), 0);
  // One epoch of three in the work folder, as an interrupted reproduce leaves it
  const { options } = parseRunArgv(longer);
  const dataset = await loadDataset('mnist', { onProgress: () => {} });
  const started = startRun(dataset, modelInput(options), trainSettings(options));
  const stop = new AbortController();
  await started.trainer.run({ onEpoch: () => stop.abort() }, { signal: stop.signal });
  fs.mkdirSync(path.join(work, 'tiny-longer'));
  saveCheckpoint(path.join(work, 'tiny-longer', 'checkpoint.ckpt'), await checkpointRun(started));
  disposeRun(started);
  const [full, widerResult] = ['tiny-full', 'tiny-wider'].map((name) => readResult(path.join(results, name)));
  const shown = recordingOutputs();
  const standings = showFullRunComparison(['tiny-full', 'tiny-wider', 'tiny-longer', 'tiny-none'], { root, outputs: shown });
  assert.deepEqual(standings.map((s) => [s.name, s.epochs.length, s.plannedEpochs, s.result !== undefined]),
    [['tiny-full', 1, 1, true], ['tiny-wider', 1, 1, true], ['tiny-longer', 1, 3, false], ['tiny-none', 0, undefined, false]]);
  const [table, chart] = htmlOf(shown);
  const text = htmlToText(table);
  const difference = widerResult.test.bitsPerDim - full.test.bitsPerDim;
  assert.ok(text.includes(`tiny-full\ta tiny gated run\t${full.test.bitsPerDim.toFixed(4)}\t1\t—`), text);
  assert.ok(text.includes(`tiny-wider\ta tiny gated run\t${widerResult.test.bitsPerDim.toFixed(4)}\t1\t${difference >= 0 ? '+' : ''}${difference.toFixed(4)}`), text);
  const longerTest = standings[2].epochs[0].testBitsPerDim!;
  assert.match(text, new RegExp(`tiny-longer\t\tpending: ${longerTest.toFixed(4).replace('.', '\\.')} after 1 of 3 epochs; 1 of 3 epochs trained; at the first epoch's .*\t1 of 3\t—`));
  assert.match(text, /tiny-none\t\tpending: not started\t—\t—/);
  // The chart: the three runs with a tested epoch, the unfinished one labelled with its epochs so far
  for (const name of ['"tiny-full"', '"tiny-wider"', '"tiny-longer (1 of 3 epochs so far)"']) assert.ok(chart.includes(name), `${name} in the chart`);
  assert.ok(!chart.includes('"tiny-none'), 'no curve for a run not started (the title names it)');
});
