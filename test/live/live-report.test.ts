/**
 * The live sampler in a real report: `npm run report -- 02-gated` under PIXEL_SMOKE=1 (~40 s), then the
 * report opened in headless Chromium with every non-file request aborted: the widget starts, "sample" fills
 * its canvas and a completion keeps the given rows of the chosen test image. Also checks the report's size
 * budget (8 MB).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
import { CHROMIUM, offlineContext, playwright, skip } from './browser';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-live-report-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('a smoke report of 02-gated carries a live sampler that samples and completes offline', { skip, timeout: 300_000 }, async () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/report/cli.ts'), '--out', work, '02-gated'], {
    cwd: root, env: { ...process.env, PIXEL_SMOKE: '1' }, encoding: 'utf8', timeout: 240_000,
  });
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const file = path.join(work, '02-gated.html');
  const size = fs.statSync(file).size;
  assert.ok(size < 8e6, `report ${size} bytes`);
  const browser = await playwright!.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const blocked: string[] = [];
    const context = await offlineContext(browser, blocked);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${file}`);
    await page.waitForSelector('.pixel-live[data-state="ready"]', { timeout: 60_000 });
    await page.fill('.pixel-live-rows', '2');
    await page.fill('.pixel-live-cols', '2');
    await page.click('.pixel-live-sample');
    await page.waitForSelector('.pixel-live[data-state="done"]', { timeout: 120_000 });
    const sampled = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('.pixel-live-canvas')!;
      const live = (window as unknown as { __pixelLive: { backend: string; last: { images: number[] } } }).__pixelLive;
      return { width: canvas.width, height: canvas.height, count: live.last.images.length, backend: live.backend };
    });
    assert.equal(sampled.count, 4 * 28 * 28);
    assert.ok(sampled.width > 28 && sampled.height > 28);

    await page.selectOption('.pixel-live-image', '1');
    await page.fill('.pixel-live-given', '14');
    // Record the widget's states in the page: a small completion can run and finish between two checks.
    await page.evaluate(() => {
      const widget = document.querySelector('.pixel-live')!;
      const states: string[] = [];
      (window as unknown as { pixelLiveStates: string[] }).pixelLiveStates = states;
      new MutationObserver(() => { states.push(widget.getAttribute('data-state') ?? ''); }).observe(widget, { attributes: true, attributeFilter: ['data-state'] });
    });
    await page.click('.pixel-live-complete');
    await page.waitForFunction(() => {
      const states = (window as unknown as { pixelLiveStates: string[] }).pixelLiveStates;
      return states.includes('running') && states[states.length - 1] === 'done';
    }, undefined, { timeout: 120_000 });
    const completed = await page.evaluate(() => {
      const live = (window as unknown as { __pixelLive: { widgets: { payload: { images: { data: string } } }[]; last: { images: number[] } } }).__pixelLive;
      return { images: live.last.images, test: Array.from(atob(live.widgets[0].payload.images.data), (c) => c.charCodeAt(0)) };
    });
    const truth = completed.test.slice(28 * 28, 2 * 28 * 28);
    for (let n = 0; n < 4; n++) assert.deepEqual(completed.images.slice(n * 784, n * 784 + 14 * 28), truth.slice(0, 14 * 28), `completion ${n} keeps 14 rows`);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    process.stdout.write(`# report ${(size / 1e6).toFixed(2)} MB; backend ${sampled.backend}\n`);
  } finally {
    await browser.close();
  }
});
