/**
 * Tweak and compare, in the real notebook page (`npm run test:e2e`): a scratch copy of 01-simple with small settings
 * (3 layers of 8 channels, one epoch of 20 steps) and its run records in a scratch PIXEL_RUNS_DIR runs its setup,
 * configuration, prepare, train and results cells; then the configuration cell is edited in its editor as a user
 * does (`layers: 3` -> `layers: 2`) and those cells run again. Checks that both runs are recorded (finished, each
 * with its checkpoint copy), that the second run's chart draws the first beside it (its legend names it by what
 * differs, `layers 3 (<id>)`, and the page renders both runs' traces), and that the results table has the first
 * run's row reading `layers 3`. A screenshot goes to reports/e2e/. ~1.5 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import { listRuns } from '../../lib/runs/store';
import {
  editNotebookCell, launchChromium, openNotebook, pollPage, root, runCell, scratchCopy, skipReason, startNotebookServer, typeOverInCell,
} from '../notebooks/notebook-page';

const SHOTS = path.join(root, 'reports', 'e2e');
const FOLDER = 'e2e-compare-runs';
const CONFIG_CELL = 3;
const PREPARE_CELL = 4;
const TRAIN_CELL = 6;
const RESULTS_CELL = 10;
const RECORDS = path.join(root, 'runs', FOLDER, 'records');

/** What the train cell's chart holds (its figure's trace names) and draws (legend entries, rendered traces). */
function chartShown(page: Page): Promise<{ names: string[]; legend: string[]; traces: number }> {
  return page.evaluate((cell) => {
    const output = document.querySelectorAll('.cell')[cell];
    const data = output.querySelector('.pixel-chart-data')?.textContent ?? '{"data":[]}';
    return {
      names: (JSON.parse(data) as { data: { name: string }[] }).data.map((t) => t.name),
      legend: Array.from(output.querySelectorAll('.pixel-chart .legendtext')).map((e) => e.textContent ?? ''),
      traces: output.querySelectorAll('.pixel-chart .scatterlayer .trace').length,
    };
  }, TRAIN_CELL);
}

/** The comparison table of the results cell, row by row, cell texts. */
function comparisonTable(page: Page): Promise<string[][]> {
  return page.evaluate((cell) => Array.from(document.querySelectorAll('.cell')[cell].querySelectorAll('.pixel-comparison tbody tr'))
    .map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')), RESULTS_CELL);
}

test('01-simple run, layers changed, run again: the chart shows both runs and the table names the difference', { skip: skipReason, timeout: 300_000 }, async () => {
  const started = Date.now();
  fs.mkdirSync(SHOTS, { recursive: true });
  const notebook = scratchCopy('01-simple', FOLDER);
  editNotebookCell(notebook, CONFIG_CELL, [
    [/model: \{[^}]*\}/, "model: { kind: 'simple', layers: 3, kernelSize: 3, channels: 8, seed: 0 }"],
    [/train: \{[^}]*\}/, 'train: { epochs: 1, batchSize: 16, learningRate: 0.001, limit: 320, testLimit: 64, seed: 0 }'],
    [/grid: \{[^}]*\}/, 'grid: { rows: 4, cols: 4, seed: 0 }'],
    [/checkpoint: '[^']*'/, `checkpoint: 'runs/${FOLDER}/01-simple.ckpt'`],
  ]);
  const server = await startNotebookServer(18995, { PIXEL_SMOKE: '', PIXEL_RUNS_DIR: RECORDS });
  try {
    const browser = await launchChromium();
    try {
      const page = await openNotebook(browser, server, notebook);
      for (const cell of [1, CONFIG_CELL, PREPARE_CELL, TRAIN_CELL, RESULTS_CELL]) await runCell(page, cell);
      const [first] = listRuns({ env: { PIXEL_RUNS_DIR: RECORDS } });
      assert.equal(first?.record.status, 'finished');

      const text = await typeOverInCell(page, CONFIG_CELL, 'layers: 3', 'layers: 2');
      assert.match(text, /kind: 'simple', layers: 2,/);
      for (const cell of [CONFIG_CELL, PREPARE_CELL, TRAIN_CELL, RESULTS_CELL]) await runCell(page, cell);

      const runs = listRuns({ env: { PIXEL_RUNS_DIR: RECORDS } });
      assert.deepEqual(runs.map((r) => [r.record.model.layers, r.record.status]), [[2, 'finished'], [3, 'finished']], 'both runs recorded, newest first');
      for (const run of runs) assert.ok(fs.existsSync(path.join(run.folder, 'checkpoint.ckpt')), `${run.record.id} keeps its checkpoint`);
      const [second] = runs;

      // The chart: the first run beside the live one, named by what differs; the page draws both runs' traces.
      const label = `layers 3 (${first.record.id})`;
      await pollPage(page, async () => (await chartShown(page)).legend.length > 0, 15_000);
      const chart = await chartShown(page);
      assert.deepEqual(chart.names, [label, `${label}: test`, 'train (per step)', 'train (average of 3 steps)', 'test']);
      assert.ok(chart.legend.includes(label), `the legend names the first run (${chart.legend.join(' | ')})`);
      assert.equal(chart.traces, 5, 'the first run (curve and test points) and this run (three traces) are drawn');

      // The results table: this run, and the first run's row reading `layers 3`.
      const rows = await comparisonTable(page);
      assert.deepEqual(rows.map((row) => row.slice(0, 3)), [[second.record.id, 'this run', '320'], [first.record.id, 'layers 3', '320']]);
      assert.deepEqual(rows.map((row) => row[6]), ['finished', 'finished']);
      await page.evaluate((cell) => document.querySelectorAll('.cell')[cell].scrollIntoView({ block: 'start' }), TRAIN_CELL - 1);
      await page.screenshot({ path: path.join(SHOTS, '01-simple-compare-runs.png') });
      console.log(`compare-runs e2e: ${((Date.now() - started) / 1000).toFixed(0)} s; table ${JSON.stringify(rows)}`);
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
    fs.rmSync(path.join(root, 'runs', FOLDER), { recursive: true, force: true });
  }
});
