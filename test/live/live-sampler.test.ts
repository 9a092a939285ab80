/**
 * The live sampler widget (lib/live) in headless Chromium via playwright-core, with every non-file request
 * aborted (the page must work offline): built directly by `liveSamplerHtml` from tiny models (random
 * weights, float16 storage), it loads, "sample" draws a valid grid, a completion keeps the given rows exactly,
 * the class picker conditions a class-conditional model, a PixelVAE takes z from the prior or its encoder, and on the cpu backend (`#pixel-backend=cpu`) the
 * browser's bytes equal `sampleFast` in Node on the same (float16-rounded) weights and seed. ~30 s.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { liveSamplerHtml, livePayload, LiveSamplerOptions } from '../../lib/live/index';
import { decodeWeights } from '../../lib/live/payload';
import { buildModel, modelConfig, ModelConfig, requirePixelVAE } from '../../lib/models/index';
import type { PixelModel } from '../../lib/models/model';
import { sampleFast } from '../../lib/sample/fast';
import type { SampleOptions } from '../../lib/sample/plan';
import { latentCondition, sampleLatents } from '../../lib/sample/vae';
import { captureCheckpoint, encodeCheckpoint } from '../../lib/train/checkpoint';

import { CHROMIUM, offlineContext, playwright, skip } from './browser';

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

const H = 10;
const W = 10;
const IMAGES = 4;
let folder = '';
let browser: Browser | undefined;
const blocked: string[] = [];

function testImages(): Uint8Array {
  const images = new Uint8Array(IMAGES * H * W);
  for (let n = 0; n < IMAGES; n++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) images[(n * H + i) * W + j] = (n * 61 + i * 23 + j * 7) % 256;
  return images;
}

async function tinyWidget(overrides: Partial<ModelConfig>, name: string, extra: Partial<LiveSamplerOptions> = {}, adjust?: (model: PixelModel) => void) {
  const config = modelConfig({ kind: 'gated', height: H, width: W, colours: 1, layers: 2, kernelSize: 3, channels: 4, seed: 3, ...overrides });
  const model = buildModel(config);
  adjust?.(model);
  const bytes = encodeCheckpoint(await captureCheckpoint(config, model.params));
  const options: LiveSamplerOptions = {
    checkpoint: bytes, dtype: 'float16', title: name, images: { images: testImages(), count: IMAGES, labels: [0, 1, 2, 0] },
    classNames: ['zero', 'one', 'two'], ...extra,
  };
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title></head><body>${await liveSamplerHtml(options)}</body></html>`;
  const file = path.join(folder, `${name}.html`);
  fs.writeFileSync(file, html);
  // The browser computes with the float16-rounded weights: so does the Node reference.
  const reference = buildModel(config);
  const weights = decodeWeights(livePayload(options).weights);
  for (const [key, variable] of reference.params.variables) variable.assign(tf.tensor(weights.get(key)!.values, variable.shape));
  return { file, reference, html };
}

async function open(file: string, hash = '#pixel-backend=cpu'): Promise<{ page: Page; errors: string[] }> {
  const context = await offlineContext(browser!, blocked);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`file://${file}${hash}`);
  await page.waitForSelector('.pixel-live[data-state="ready"]', { timeout: 30_000 });
  return { page, errors };
}

async function runAndRead(page: Page, button: string): Promise<{ images: number[]; statuses: string[]; canvas: { width: number; height: number; distinct: number } }> {
  await page.evaluate(() => {
    const status = document.querySelector('.pixel-live-status')!;
    (window as unknown as { __statuses: string[] }).__statuses = [];
    new MutationObserver(() => (window as unknown as { __statuses: string[] }).__statuses.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.click(button);
  await page.waitForSelector('.pixel-live[data-state="done"]', { timeout: 60_000 });
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.pixel-live-canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const distinct = new Set<number>();
    for (let k = 0; k < data.length; k += 4) distinct.add(data[k]);
    const live = (window as unknown as { __pixelLive: { last: { images: number[] } } }).__pixelLive;
    return { images: live.last.images, statuses: (window as unknown as { __statuses: string[] }).__statuses, canvas: { width: canvas.width, height: canvas.height, distinct: distinct.size } };
  });
}

async function nodeSamples(model: PixelModel, options: SampleOptions): Promise<number[]> {
  return Array.from((await sampleFast(model, options)).images);
}

before(async () => {
  await tf.setBackend('cpu');
  tf.enableProdMode();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-live-'));
  if (!skip) browser = await playwright!.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

test('offline: sample draws a valid grid equal to sampleFast in Node, and a completion keeps the given rows', { skip, timeout: 120_000 }, async () => {
  const { file, reference } = await tinyWidget({}, 'gated');
  const { page, errors } = await open(file);
  assert.equal(await page.getAttribute('.pixel-live', 'data-backend'), 'cpu');

  await page.fill('.pixel-live-seed', '7');
  await page.evaluate(() => {
    const slider = document.querySelector<HTMLInputElement>('.pixel-live-temperature')!;
    slider.value = '0.8';
    slider.dispatchEvent(new Event('input'));
  });
  const sampled = await runAndRead(page, '.pixel-live-sample');
  assert.equal(sampled.images.length, 16 * H * W);
  assert.ok(sampled.canvas.width > 0 && sampled.canvas.height > 0 && sampled.canvas.distinct > 2, `canvas drawn (${JSON.stringify(sampled.canvas)})`);
  assert.ok(sampled.statuses.some((s) => /sampled 16 images/.test(s)), `final status (${sampled.statuses.at(-1)})`);
  assert.deepEqual(sampled.images, await nodeSamples(reference, { count: 16, seed: 7, temperature: 0.8 }), 'browser samples == Node sampleFast');

  await page.selectOption('.pixel-live-image', '2');
  await page.fill('.pixel-live-given', '4');
  await page.fill('.pixel-live-seed', '11');
  const completed = await runAndRead(page, '.pixel-live-complete');
  const truth = testImages().subarray(2 * H * W, 3 * H * W);
  for (let n = 0; n < 16; n++) {
    for (let k = 0; k < 4 * W; k++) assert.equal(completed.images[n * H * W + k], truth[k], `completion ${n} keeps given subpixel ${k}`);
  }
  const given = new Uint8Array(16 * H * W);
  for (let n = 0; n < 16; n++) given.set(truth, n * H * W);
  assert.deepEqual(completed.images, await nodeSamples(reference, { count: 16, seed: 11, temperature: 0.8, given: { images: given, rows: 4 } }));
  assert.deepEqual(errors, []);
  assert.deepEqual(blocked, [], 'the widget made no network request');
  await page.context().close();
});

test('class-conditional: the class picker conditions the samples and completions (equal to Node)', { skip, timeout: 120_000 }, async () => {
  const { file, reference } = await tinyWidget({ kind: 'conditional', conditionSize: 3 }, 'conditional', { defaults: { rows: 2, cols: 3 } });
  const { page, errors } = await open(file);
  assert.equal(await page.locator('.pixel-live-class option').count(), 3);
  await page.selectOption('.pixel-live-class', '2');
  await page.fill('.pixel-live-seed', '5');
  const sampled = await runAndRead(page, '.pixel-live-sample');
  assert.equal(sampled.images.length, 6 * H * W);
  assert.deepEqual(sampled.images, await nodeSamples(reference, { count: 6, seed: 5, condition: { labels: [2, 2, 2, 2, 2, 2] } }));
  // Picking a test image picks its class; a completion is conditioned on it (test image 1 has label 1).
  await page.selectOption('.pixel-live-image', '1');
  assert.equal(await page.inputValue('.pixel-live-class'), '1');
  await page.fill('.pixel-live-given', '4');
  const completed = await runAndRead(page, '.pixel-live-complete');
  const given = new Uint8Array(6 * H * W);
  for (let n = 0; n < 6; n++) given.set(testImages().subarray(H * W, 2 * H * W), n * H * W);
  assert.deepEqual(completed.images, await nodeSamples(reference, { count: 6, seed: 5, given: { images: given, rows: 4 }, condition: { labels: [1, 1, 1, 1, 1, 1] } }));
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('PixelVAE: sample draws z from the prior, complete takes z from the encoder (given rows or whole image); equal to Node', { skip, timeout: 120_000 }, async () => {
  // At initialisation q(z|x) is close to the prior for every image (by design): scale the encoder's output layer so
  // that z differs between images, and what z the widget picks shows in the samples.
  const { file, reference } = await tinyWidget({ kind: 'vae-up', latentSize: 3, vaeChannels: 8, conditionMapChannels: 2 }, 'vae', { defaults: { rows: 2, cols: 2 } },
    (model) => {
      const output = model.params.variables.get('encoder.output.weight')!;
      output.assign(tf.mul(output, 20));
    });
  const vae = requirePixelVAE(reference, 'the PixelVAE widget test');
  const { page, errors } = await open(file);
  assert.match(await page.textContent('.pixel-live-status') ?? '', /ready: vae \(vae-up/);
  await page.fill('.pixel-live-seed', '4');
  const sampled = await runAndRead(page, '.pixel-live-sample');
  assert.ok(sampled.statuses.some((s) => /sampled 4 images, z from the prior/.test(s)), `final status (${sampled.statuses.at(-1)})`);
  // The notebook's path (sampleLatents: z given, one image each) on the same prior draw.
  const prior = vae.priorLatent(4, 4);
  assert.deepEqual(sampled.images, Array.from((await sampleLatents(vae, prior, { seed: 4 })).images), 'browser samples == sampleLatents in Node');
  prior.dispose();

  const n = 1;
  const image = testImages().subarray(n * H * W, (n + 1) * H * W);
  const completeInNode = async (encoderRows: number, givenRows: number) => {
    const z = vae.encodeTop(tf.tensor4d(image, [1, H, W, 1], 'float32'), encoderRows); // [1, Z]
    const condition = latentCondition(vae, z, 4);
    const given = new Uint8Array(4 * H * W);
    for (let k = 0; k < 4; k++) given.set(image, k * H * W);
    const images = await nodeSamples(vae, { count: 4, seed: 4, given: { images: given, rows: givenRows }, condition });
    tf.dispose([z, condition.vector!, condition.map!]);
    return images;
  };
  await page.selectOption('.pixel-live-image', String(n));
  await page.fill('.pixel-live-given', '3');
  const fromRows = await runAndRead(page, '.pixel-live-complete');
  assert.ok(fromRows.statuses.some((s) => /completed 4 images, z from the given rows/.test(s)), `final status (${fromRows.statuses.at(-1)})`);
  assert.deepEqual(fromRows.images, await completeInNode(3, 3));
  await page.selectOption('.pixel-live-latent', 'whole image');
  const fromWhole = await runAndRead(page, '.pixel-live-complete');
  assert.ok(fromWhole.statuses.some((s) => /completed 4 images, z from the whole image/.test(s)), `final status (${fromWhole.statuses.at(-1)})`);
  assert.deepEqual(fromWhole.images, await completeInNode(H, 3));
  // z and the decoder's condition are made per run and disposed after it: the page's tensor count stays flat.
  const tensors = () => page.evaluate(() => (window as unknown as { __pixelLive: { tensors(): number } }).__pixelLive.tensors());
  const before = await tensors();
  await runAndRead(page, '.pixel-live-complete');
  await runAndRead(page, '.pixel-live-sample');
  assert.equal(await tensors(), before, 'tensors after two more runs');
  assert.notDeepEqual(fromWhole.images, fromRows.images, 'same seed and given rows, another z: other samples');
  for (let k = 0; k < 4; k++) assert.deepEqual(fromWhole.images.slice(k * H * W, k * H * W + 3 * W), Array.from(image.subarray(0, 3 * W)), `completion ${k} keeps the given rows`);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('without a forced backend the widget picks webgl on a hardware GPU, else cpu (headless: software WebGL, so cpu), and samples', { skip, timeout: 120_000 }, async () => {
  const { file, reference } = await tinyWidget({}, 'auto');
  const { page, errors } = await open(file, '');
  const backend = await page.getAttribute('.pixel-live', 'data-backend');
  assert.ok(backend === 'webgl' || backend === 'cpu', `backend ${backend}`);
  const sampled = await runAndRead(page, '.pixel-live-sample');
  assert.equal(sampled.images.length, 16 * H * W);
  assert.ok(sampled.images.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  assert.deepEqual(errors, []);
  process.stdout.write(`# automatic backend in headless Chromium (--disable-gpu): ${backend}\n`);
  const forced = await open(file, '#pixel-backend=webgl');
  assert.equal(await forced.page.getAttribute('.pixel-live', 'data-backend'), 'webgl', 'software WebGL can still be forced');
  const onWebgl = await runAndRead(forced.page, '.pixel-live-sample');
  assert.equal(onWebgl.images.length, 16 * H * W);
  const cpu = await nodeSamples(reference, { count: 16, seed: 0 });
  const same = onWebgl.images.filter((v, k) => v === cpu[k]).length;
  process.stdout.write(`# software WebGL vs cpu, same seed: ${same} of ${cpu.length} subpixels identical (float32 rounding on the GPU path may differ)\n`);
  await forced.page.context().close();
  await page.context().close();
});
