/**
 * Kernel -> Interrupt during training, in the real notebook page (`npm run test:e2e`): a scratch copy of 01-simple
 * with small settings (a tiny model, two epochs of 200 steps) runs its setup, configuration, prepare and train
 * cells; once training is under way the test picks Kernel -> Interrupt from the menu. Jupyter sends the kernel
 * SIGINT; tslab ends the cell at once ("Interrupted asynchronously") and lib/notebook stops the training at its
 * next step. Checks that the progress line and chart say where it stopped, that the session's step count (read
 * from the kernel) no longer moves over 5 s, that the checkpoint file holds that step, and that running the train
 * cell again trains on from that step to the end. A screenshot of the stopped cell goes to reports/e2e/. ~1.5 minutes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import type { Page } from 'playwright-core';
import {
  cellRunning, interruptFromMenu, kernelPrint, launchChromium, openNotebook, pollPage, pressShiftEnterOn, recordedProgress, recordProgress,
  root, runCell, scratchCopy, skipReason, startNotebookServer,
} from '../notebooks/notebook-page';

const SHOTS = path.join(root, 'reports', 'e2e');
const FOLDER = 'e2e-interrupt';
const CONFIG_CELL = 3;
const PREPARE_CELL = 4;
const TRAIN_CELL = 6;
const STEPS_PER_EPOCH = 200;
const TOTAL_STEPS = 2 * STEPS_PER_EPOCH;
const CHECKPOINT = `runs/${FOLDER}/01-simple.ckpt`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The scratch copy's configuration cell with small settings (as PIXEL_SMOKE's model) but enough steps to interrupt. */
function smallSettings(notebookPath: string): void {
  const file = path.join(root, notebookPath);
  const notebook = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { source: string | string[] }[] };
  const cell = notebook.cells[CONFIG_CELL];
  const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
  const edits: [RegExp, string][] = [
    [/model: \{[^}]*\}/, "model: { kind: 'simple', layers: 2, kernelSize: 3, channels: 8, seed: 0 }"],
    [/train: \{[^}]*\}/, `train: { epochs: 2, batchSize: 16, learningRate: 0.001, limit: ${16 * STEPS_PER_EPOCH}, testLimit: 64, seed: 0 }`],
    [/grid: \{[^}]*\}/, 'grid: { rows: 4, cols: 4, seed: 0 }'],
    [/checkpoint: '[^']*'/, `checkpoint: '${CHECKPOINT}'`],
  ];
  let edited = source;
  for (const [pattern, replacement] of edits) {
    assert.match(edited, pattern, `01-simple's configuration cell has ${pattern}`);
    edited = edited.replace(pattern, replacement);
  }
  cell.source = edited;
  fs.writeFileSync(file, JSON.stringify(notebook, null, 1));
}

/** The notebook session's step and status, read in the kernel. */
async function sessionState(page: Page): Promise<{ step: number; status: string }> {
  const printed = await kernelPrint(page, 'JSON.stringify({ step: session.run.trainer.state.step, status: session.status })');
  return JSON.parse(printed.trim()) as { step: number; status: string };
}

/** "step N/M" of a progress line. */
function stepOf(line: string): number {
  const match = / · step (\d+)\/\d+/.exec(line);
  return match ? Number(match[1]) : NaN;
}

test('Kernel -> Interrupt stops training at a step, saves it in the checkpoint, and running the cell again continues from it', { skip: skipReason, timeout: 300_000 }, async () => {
  const started = Date.now();
  fs.mkdirSync(SHOTS, { recursive: true });
  const notebook = scratchCopy('01-simple', FOLDER);
  smallSettings(notebook);
  const server = await startNotebookServer(18993, { PIXEL_SMOKE: '' });
  try {
    const browser = await launchChromium();
    try {
      const page = await openNotebook(browser, server, notebook);
      for (const cell of [1, CONFIG_CELL, PREPARE_CELL]) await runCell(page, cell);

      // Train until the progress line passes step 10, then interrupt as a user does.
      await pressShiftEnterOn(page, TRAIN_CELL);
      const under = await pollPage(page, (s) => stepOf(s.progress) >= 10, 120_000);
      const clicked = Date.now();
      await interruptFromMenu(page);

      // tslab ends the cell at once; the training stops at its next step and says where.
      const stopped = await pollPage(page, (s) => /^interrupted at step \d+/.test(s.progress), 20_000);
      const stopSeconds = (Date.now() - clicked) / 1000;
      assert.equal(await cellRunning(page, TRAIN_CELL), false, 'the kernel is idle');
      assert.match(stopped.stderr, /Interrupted asynchronously/, 'tslab reports the interrupt in the cell');
      const step = Number(/^interrupted at step (\d+)/.exec(stopped.progress)![1]);
      assert.ok(step >= stepOf(under.progress) && step < TOTAL_STEPS, `stopped before the end: ${stopped.progress}`);
      // The notebook's checkpoint holds the stopped position, which the line names.
      const { trainerState } = readCheckpoint(path.join(root, CHECKPOINT));
      const position = trainerState!.position;
      assert.equal(trainerState!.step, step);
      assert.equal(position.epoch * STEPS_PER_EPOCH + position.batchIndex, step, `position ${JSON.stringify(position)}`);
      assert.match(stopped.progress, new RegExp(`^interrupted at step ${step} \\(epoch ${position.epoch + 1} of 2, batch ${position.batchIndex} ` +
        `of ${STEPS_PER_EPOCH}\\).*checkpoint saved to ${CHECKPOINT}`));
      const title = await page.evaluate(() => document.querySelector('.pixel-chart .gtitle')?.textContent ?? '');
      assert.match(title, new RegExp(`interrupted at step ${step}`), 'the chart is marked');
      await page.screenshot({ path: path.join(SHOTS, '01-simple-interrupted.png') });

      // The session no longer trains: its step count stays where the line says, over 5 s.
      const before = await sessionState(page);
      await sleep(5000);
      const after = await sessionState(page);
      assert.deepEqual(before, { step, status: 'interrupted' });
      assert.deepEqual(after, before, 'the step count no longer moves');

      // Running the train cell again trains on from that step to the end.
      await recordProgress(page);
      const resumed = await runCell(page, TRAIN_CELL, 240_000);
      const again = (await recordedProgress(page)).states.map(stepOf).filter((n) => n > 0);
      assert.ok(again.length > 0 && again.every((n) => n > step), `the re-run continues after step ${step} (its progress: steps ${again.join(', ')})`);
      const done = await pollPage(page, (s) => /^done: /.test(s.progress), 15_000);
      assert.match(done.progress, new RegExp(`^done: ${TOTAL_STEPS} steps`));
      assert.equal(resumed.stderr, '');
      assert.deepEqual(await sessionState(page), { step: TOTAL_STEPS, status: 'finished' });
      assert.equal(readCheckpoint(path.join(root, CHECKPOINT)).trainerState!.step, TOTAL_STEPS);
      console.log(`interrupt e2e: stopped ${stopSeconds.toFixed(1)} s after the click, at step ${step}; after the re-run: ${done.progress}; ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s so far`);
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
    fs.rmSync(path.join(root, 'runs', FOLDER), { recursive: true, force: true });
  }
});
