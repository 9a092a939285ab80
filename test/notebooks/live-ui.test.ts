/**
 * The interactive path, in the real classic Jupyter page: `npm run notebook` (PIXEL_SMOKE=1), Chromium driven
 * by playwright-core runs every cell of a copy of 03-conditional. While it trains, the progress line changes in
 * place and the plotly chart is drawn (plotly.js loads although the page has RequireJS); afterwards the grid
 * images load (sample, class, and the full run's once results/ has it) and the results table is shown, with nothing on stderr. ~1 minute.
 *
 * The copy lives in runs/ (ignored by git) and autosave is switched off, so the committed notebook stays
 * without outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { launchChromium, openNotebook, pageState, pollPage, recordedProgress, recordProgress, root, runAllCells, scratchCopy, skipReason, startNotebookServer } from './notebook-page';

test('in the classic notebook page the training display updates live, the chart draws and the grids load', { skip: skipReason, timeout: 240_000 }, async () => {
  const notebook = scratchCopy('03-conditional', 'ui-test');
  const server = await startNotebookServer(18971, { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: path.join(path.dirname(path.join(root, notebook)), 'records') });
  const browser = await launchChromium();
  try {
    const page = await openNotebook(browser, server, notebook);
    // Recorded in the page (a MutationObserver), not polled: with both cores training, the 8 smoke steps end
    // within about a second, between two polls.
    await recordProgress(page);
    await runAllCells(page);
    const state = await pollPage(page, (s) => s.results || s.stderr !== '', 180_000);
    const { states, chartWhileTraining } = await recordedProgress(page);
    const progressSeen = new Set(states);
    assert.equal(state.stderr, '', 'no errors in the notebook');
    assert.ok(state.results, 'the results table appears');
    assert.equal(state.plotly, 'object', 'plotly.js loaded in the notebook page (RequireJS present)');
    assert.ok(progressSeen.size >= 3, `the progress line changed in place while training (${progressSeen.size} states seen)`);
    assert.ok(chartWhileTraining, 'the chart was drawn while training ran');
    assert.ok(state.chartSvgs > 0, 'the final chart is drawn');
    assert.match(state.progress, /^done: 8 steps/);
    // The last cell's live sampler (lib/live) mounts in the notebook page too, and samples.
    await page.waitForSelector('.pixel-live[data-state="ready"]', { timeout: 90_000 });
    // Every cell before the last has run: the sample grid, the class grid, and the full run's once it is in results/
    const { grids } = await pageState(page);
    const fullRun = fs.existsSync(path.join(root, 'results', 'conditional-5x30', 'result.json')) ? 1 : 0;
    assert.equal(grids.length, 2 + fullRun, 'the sample grid, the class grid (and the full run\'s grid)');
    assert.ok(grids.every((w) => w > 0), `grid images load: ${grids}`);
    await page.click('.pixel-live-sample');
    await page.waitForSelector('.pixel-live[data-state="done"]', { timeout: 90_000 });
  } finally {
    await browser.close();
    await server.stop();
    fs.rmSync(path.dirname(path.join(root, notebook)), { recursive: true, force: true });
  }
});
