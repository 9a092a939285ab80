/**
 * End to end, as a user works (`npm run test:e2e`; also part of `npm test`): `npm run notebook` with
 * PIXEL_SMOKE=1 on a free port, a scratch copy of 01-simple opened in headless Chromium, every cell run in turn
 * with Shift+Enter, waiting for each to finish. Checks that the page runs the project's TypeScript (tslab)
 * kernel, that the progress line and the chart update while training, that the sample grid image loads, and that
 * editing the configuration cell in its CodeMirror editor and re-running changes the parameter count the prepare
 * cell reports. Screenshots go to reports/e2e/. ~1 minute.
 *
 * PIXEL_SMOKE=1 replaces layers, kernelSize and channels with its tiny settings, so the edit switches the model
 * `kind` ('simple' to 'gated'), which the smoke settings keep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Page } from 'playwright-core';
import {
  cellCount, kernelShown, launchChromium, openNotebook, pageState, pollPage, recordedProgress, recordProgress, root, runCell,
  scratchCopy, skipReason, startNotebookServer,
} from '../notebooks/notebook-page';

const SHOTS = path.join(root, 'reports', 'e2e');
const CONFIG_CELL = 3;
const PREPARE_CELL = 4;
const TRAIN_CELL = 6;
const SAMPLES_CELL = 8;

async function screenshot(page: Page, cell: number, name: string): Promise<void> {
  await page.evaluate((i) => {
    const nb = (window as unknown as { Jupyter: { notebook: { get_cell_elements(): ArrayLike<HTMLElement> } } }).Jupyter.notebook;
    nb.get_cell_elements()[i].scrollIntoView({ block: 'start' });
  }, cell);
  await page.screenshot({ path: path.join(SHOTS, `01-simple-${name}.png`) });
}

test('01-simple in the notebook page: tslab kernel, live training display, sample grid, and a config edit that changes the model', { skip: skipReason, timeout: 420_000 }, async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const notebook = scratchCopy('01-simple', 'e2e-test');
  const server = await startNotebookServer(18991, { PIXEL_SMOKE: '1' });
  try {
    const browser = await launchChromium();
    try {
      const page = await openNotebook(browser, server, notebook);
      const kernel = await kernelShown(page);
      assert.deepEqual(kernel, { kernel: 'tslab', kernelspec: 'tslab', indicator: 'TypeScript (pixel-notebooks, tslab)' });

      const cells = await cellCount(page);
      assert.ok(cells > SAMPLES_CELL, `01-simple has its cells (${cells})`);
      let trainingShot = false;
      let parametersBefore = NaN;
      for (let i = 0; i < cells; i++) {
        if (i === TRAIN_CELL) await recordProgress(page);
        const state = await runCell(page, i);
        if (i === PREPARE_CELL) {
          parametersBefore = state.parameters;
          assert.ok(parametersBefore > 0, `the prepare cell reports the parameter count (${parametersBefore})`);
          await screenshot(page, CONFIG_CELL - 1, 'prepared');
        }
        if (i === TRAIN_CELL) {
          const progress = await recordedProgress(page);
          assert.ok(new Set(progress.states).size >= 3, `the progress line changed in place while training (${progress.states.join(' | ')})`);
          assert.ok(progress.chartWhileTraining, 'the chart was drawn while training ran');
          assert.ok(state.chartSvgs > 0, 'the final chart is drawn');
          assert.equal(state.plotly, 'object', 'plotly.js loaded in the notebook page');
          // The final 'done:' line is the cell's last display update; on a busy machine it can land just
          // after the kernel reports idle, so wait for it rather than read it once.
          const finished = await pollPage(page, (s) => /^done: /.test(s.progress), 15_000);
          assert.match(finished.progress, /^done: \d+ steps/);
          trainingShot = true;
        }
        if (i === SAMPLES_CELL) {
          const grids = await pollPage(page, (s) => s.grids.length > 0 && s.grids.every((w) => w > 0), 15_000);
          assert.ok(grids.grids.length >= 1, 'the sample grid is shown');
          await screenshot(page, TRAIN_CELL - 1, 'trained');
          await screenshot(page, SAMPLES_CELL - 1, 'samples');
        }
      }
      assert.ok(trainingShot, 'the training cell ran');
      assert.ok((await pageState(page)).results, 'the results table appears');

      // Edit the configuration cell as a user does: click into its editor, select the value, type a new one.
      const editor = page.locator('.cell').nth(CONFIG_CELL).locator('.CodeMirror');
      await editor.click();
      const found = await editor.evaluate((element) => {
        const cm = (element as unknown as { CodeMirror: { getValue(): string; posFromIndex(i: number): unknown; setSelection(a: unknown, b: unknown): void; focus(): void } }).CodeMirror;
        const at = cm.getValue().indexOf("kind: 'simple'");
        if (at < 0) return false;
        cm.setSelection(cm.posFromIndex(at + "kind: '".length), cm.posFromIndex(at + "kind: 'simple".length));
        cm.focus();
        return true;
      });
      assert.ok(found, "the configuration cell has kind: 'simple'");
      await page.keyboard.type('gated');
      const text = await editor.evaluate((element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
      assert.match(text, /kind: 'gated'/);

      await runCell(page, CONFIG_CELL);
      const prepared = await runCell(page, PREPARE_CELL);
      assert.ok(prepared.parameters > 0 && prepared.parameters !== parametersBefore,
        `the parameter count changes with the model (${parametersBefore} -> ${prepared.parameters})`);
      await runCell(page, TRAIN_CELL);
      await runCell(page, SAMPLES_CELL);
      await screenshot(page, CONFIG_CELL - 1, 'edited');
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
    fs.rmSync(path.dirname(path.join(root, notebook)), { recursive: true, force: true });
  }
});
