/**
 * The interactive path, in the real classic Jupyter page: `npm run notebook` (PIXEL_SMOKE=1), Chromium driven
 * by playwright-core runs every cell of a copy of 03-conditional. While it trains, the progress line changes in
 * place and the plotly chart is drawn (plotly.js loads although the page has RequireJS); afterwards both grid
 * images load and the results table is shown, with nothing on stderr. ~1 minute.
 *
 * The copy lives in runs/ (ignored by git) and autosave is switched off, so the committed notebook stays
 * without outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
let playwright: typeof import('playwright-core') | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  playwright = require('playwright-core') as typeof import('playwright-core');
} catch {
  playwright = undefined;
}

interface PageState {
  plotly: string;
  chartSvgs: number;
  progress: string;
  grids: number[];
  results: boolean;
  stderr: string;
}

const skip = !CHROMIUM ? 'chromium is not installed' : !playwright ? 'playwright-core is not installed' : false;

test('in the classic notebook page the training display updates live, the chart draws and the grids load', { skip, timeout: 240_000 }, async () => {
  const folder = path.join(root, 'runs', 'ui-test');
  fs.mkdirSync(folder, { recursive: true });
  fs.copyFileSync(path.join(root, 'notebooks', '03-conditional.ipynb'), path.join(folder, '03-conditional.ipynb'));
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/notebook.ts'), '--port', '18971'], {
    cwd: root, env: { ...process.env, PIXEL_SMOKE: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  server.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  server.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const deadline = Date.now() + 60_000;
    while (!/token=/.test(stdout) && Date.now() < deadline && server.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    const url = /(http:\/\/127\.0\.0\.1:\d+)\/tree\/notebooks\?token=([0-9a-f]+)/.exec(stdout);
    assert.ok(url, `server URL; stderr: ${stderr}`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`${url[1]}/notebooks/runs/ui-test/03-conditional.ipynb?token=${url[2]}`);
    await page.waitForFunction(() => {
      const nb = (window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected?: () => boolean } } } }).Jupyter?.notebook;
      return Boolean(nb?.kernel?.is_connected?.());
    }, null, { timeout: 90_000 });
    await page.evaluate(() => {
      const nb = (window as unknown as { Jupyter: { notebook: { set_autosave_interval(ms: number): void; execute_all_cells(): void } } }).Jupyter.notebook;
      nb.set_autosave_interval(0);
      nb.execute_all_cells();
    });
    const progressSeen = new Set<string>();
    let chartWhileTraining = false;
    let state: PageState | undefined;
    const end = Date.now() + 180_000;
    while (Date.now() < end) {
      state = await page.evaluate((): PageState => ({
        plotly: typeof (window as unknown as { Plotly?: unknown }).Plotly,
        chartSvgs: document.querySelectorAll('.pixel-chart .main-svg').length,
        progress: document.querySelector('.pixel-progress')?.textContent ?? '',
        grids: Array.from(document.querySelectorAll('.output_png img')).map((i) => (i as HTMLImageElement).naturalWidth),
        results: Boolean(document.querySelector('.pixel-results')),
        stderr: Array.from(document.querySelectorAll('.output_stderr')).map((e) => e.textContent ?? '').join('\n'),
      }));
      if (/^epoch /.test(state.progress)) {
        progressSeen.add(state.progress);
        if (state.chartSvgs > 0) chartWhileTraining = true;
      }
      if (state.results || state.stderr) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(state);
    assert.equal(state.stderr, '', 'no errors in the notebook');
    assert.ok(state.results, 'the results table appears');
    assert.equal(state.plotly, 'object', 'plotly.js loaded in the notebook page (RequireJS present)');
    assert.ok(progressSeen.size >= 3, `the progress line changed in place while training (${progressSeen.size} states seen)`);
    assert.ok(chartWhileTraining, 'the chart was drawn while training ran');
    assert.ok(state.chartSvgs > 0, 'the final chart is drawn');
    assert.equal(state.grids.length, 2, 'the sample grid and the class grid');
    assert.ok(state.grids.every((w) => w > 0), `grid images load: ${state.grids}`);
    assert.match(state.progress, /^done: 8 steps/);
    // The last cell's live sampler (lib/live) mounts in the notebook page too, and samples.
    await page.waitForSelector('.pixel-live[data-state="ready"]', { timeout: 90_000 });
    await page.click('.pixel-live-sample');
    await page.waitForSelector('.pixel-live[data-state="done"]', { timeout: 90_000 });
  } finally {
    await browser.close();
    if (server.exitCode === null) server.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
