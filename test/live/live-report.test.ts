/**
 * The live sampler in real reports: `npm run report -- 02-gated 04-vae` under PIXEL_SMOKE=1 (~50 s), then each
 * report opened in headless Chromium with every non-file request aborted: the widget starts, "sample" fills
 * its canvas and a completion keeps the given rows of the chosen test image (the PixelVAE's with z from the
 * whole test image). Also checks the reports' size budget (8 MB).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
import { CHROMIUM, offlineContext, playwright, skip } from './browser';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-live-report-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

let report: { status: number | null; stderr: string } | undefined;
before(() => {
  if (skip) return;
  report = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/report/cli.ts'), '--out', work, '02-gated', '04-vae'], {
    cwd: root, env: { ...process.env, PIXEL_SMOKE: '1' }, encoding: 'utf8', timeout: 360_000,
  });
});

for (const name of ['02-gated', '04-vae']) test(`a smoke report of ${name} carries a live sampler that samples and completes offline`, { skip, timeout: 300_000 }, async () => {
  assert.equal(report?.status, 0, report?.stderr.slice(-3000));
  const vae = name === '04-vae';
  const file = path.join(work, `${name}.html`);
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
      const live = (window as unknown as { __pixelLive: { backend: string; last: { images: number[]; latent?: string } } }).__pixelLive;
      return { width: canvas.width, height: canvas.height, count: live.last.images.length, backend: live.backend, latent: live.last.latent };
    });
    assert.equal(sampled.count, 4 * 28 * 28);
    assert.ok(sampled.width > 28 && sampled.height > 28);
    assert.equal(sampled.latent, vae ? 'prior' : undefined);
    if (vae) await page.selectOption('.pixel-live-latent', 'whole image');

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
      const live = (window as unknown as { __pixelLive: { widgets: { payload: { images: { data: string } } }[]; last: { images: number[]; latent?: string } } }).__pixelLive;
      return { images: live.last.images, latent: live.last.latent, status: document.querySelector('.pixel-live-status')?.textContent ?? '', test: Array.from(atob(live.widgets[0].payload.images.data), (c) => c.charCodeAt(0)) };
    });
    if (vae) assert.match(completed.status, /completed 4 images, z from the whole image/);
    assert.equal(completed.latent, vae ? 'whole image' : undefined);
    const truth = completed.test.slice(28 * 28, 2 * 28 * 28);
    for (let n = 0; n < 4; n++) assert.deepEqual(completed.images.slice(n * 784, n * 784 + 14 * 28), truth.slice(0, 14 * 28), `completion ${n} keeps 14 rows`);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    process.stdout.write(`# ${name} report ${(size / 1e6).toFixed(2)} MB; backend ${sampled.backend}\n`);
  } finally {
    await browser.close();
  }
});
