/**
 * The live sampler widget, bundled by esbuild (`liveBundle` in lib/live/index.ts) into one IIFE script that reports embed:
 * TensorFlow.js (webgl when it initialises, else cpu), the models, the fast sampler and the pure grid
 * composer, plus a small plain-DOM UI. It mounts every `.pixel-live` element that holds a
 * `script.pixel-live-data` JSON payload (lib/live/payload.ts) and is not mounted yet. PixelCNNs sample as they
 * are (a class picker for class-conditional ones); a PixelVAE samples given z: from the prior, or from its encoder
 * for a test image (the image's given rows, or all of it).
 *
 * Backend: webgl on a hardware GPU, else cpu (software WebGL is slower than cpu here); `#pixel-backend=cpu`
 * (or webgl) in the page's URL forces one.
 * Debug hook for tests: `window.__pixelLive` = { backend, ready, widgets, last, tensors } where `last` holds the
 * bytes of the last finished run and `tensors()` counts TensorFlow.js's live tensors; each widget root carries
 * data-state (loading|ready|running|done|error).
 *
 * Browser only; no Node imports.
 */
import * as tf from '@tensorflow/tfjs';
import { isVaeKind } from '../models/config';
import { buildModel } from '../models/index';
import type { PixelModel } from '../models/model';
import { isPixelVAE } from '../models/vae';
import { composeGrid } from '../render/grid';
import { runFast, supportsFastSampling } from '../sample/fast';
import { preparePlan } from '../sample/plan';
import type { SampleOptions } from '../sample/plan';
import { latentCondition } from '../sample/vae';
import { base64ToBytes, decodeWeights, LivePayload } from './payload';

export interface LiveRun {
  kind: 'sample' | 'complete';
  seed: number;
  temperature: number;
  count: number;
  label?: number;
  image?: number;
  givenRows?: number;
  /** PixelVAE: where z came from (the prior, the given rows of the test image, or all of it). */
  latent?: 'prior' | LatentSource;
  images: number[];
  seconds: number;
  backend: string;
}

/** Where a PixelVAE's completion takes z from: the encoder given the kept rows (as the grid does), or the whole image. */
type LatentSource = 'given rows' | 'whole image';

interface LiveWidget {
  root: HTMLElement;
  payload: LivePayload;
  model?: PixelModel;
  runs: LiveRun[];
}

interface LiveDebug {
  backend?: string;
  ready?: Promise<string>;
  widgets: LiveWidget[];
  last?: LiveRun;
  tensors?: () => number;
}

declare global {
  interface Window {
    __pixelLive?: LiveDebug;
    PixelLive?: { mountAll(): void };
  }
}

const debug: LiveDebug = window.__pixelLive ?? { widgets: [] };
window.__pixelLive = debug;
debug.tensors = () => tf.memory().numTensors;

// The cpu backend's data() resolves in microtasks, which would keep the page from painting until a run ends:
// give the event loop a turn (and the canvas a paint) every ~40 ms of sampling.
let lastYield = 0;
const originalData = tf.Tensor.prototype.data;
tf.Tensor.prototype.data = async function patchedData(this: tf.Tensor) {
  const values = await originalData.call(this);
  const now = performance.now();
  if (now - lastYield > 40) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    lastYield = performance.now();
  }
  return values;
} as typeof originalData;

function hashOption(name: string): string | undefined {
  const match = new RegExp(`[#&]${name}=([^&]*)`).exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : undefined;
}

/**
 * The WebGL renderer's name when it is a software rasteriser (SwiftShader, llvmpipe: headless or GPU-less
 * browsers), else undefined. Measured in headless Chromium: 16 28x28 samples of the 5-layer gated model took
 * 25 s on SwiftShader WebGL and 9 s on the cpu backend, so software WebGL is skipped.
 */
function softwareWebgl(): string | undefined {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|softpipe|software/i.test(renderer) ? renderer : undefined;
  } catch {
    return undefined;
  }
}

/** webgl if it initialises on a hardware GPU (a `#pixel-backend=` in the URL overrides), else cpu. */
async function chooseBackend(): Promise<string> {
  tf.enableProdMode();
  const forced = hashOption('pixel-backend');
  const order = forced ? [forced, 'cpu'] : softwareWebgl() ? ['cpu'] : ['webgl', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        // A tiny op proves the backend works (a webgl context can be created and still fail to compile).
        const probe = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1));
        const values = await probe.data();
        probe.dispose();
        if (values[0] === 2 && values[1] === 3) return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error('no TensorFlow.js backend initialised');
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = element('label', { style: 'margin-right:12px;white-space:nowrap' }, `${text} `);
  label.appendChild(control);
  return label;
}

function draw(canvas: HTMLCanvasElement, images: ArrayLike<number>, count: number, p: LivePayload, rows: number, cols: number): void {
  const { height, width, colours } = p.modelConfig;
  const grid = composeGrid({ images, count, height, width, colours }, { rows, cols, scale: p.defaults.scale });
  canvas.width = grid.width;
  canvas.height = grid.height;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.putImageData(new ImageData(new Uint8ClampedArray(grid.data), grid.width, grid.height), 0, 0);
}

function mount(root: HTMLElement): void {
  const source = root.querySelector('script.pixel-live-data');
  if (!source || root.dataset.mounted) return;
  root.dataset.mounted = '1';
  root.dataset.state = 'loading';
  const payload = JSON.parse(source.textContent ?? '{}') as LivePayload;
  const widget: LiveWidget = { root, payload, runs: [] };
  debug.widgets.push(widget);
  const config = payload.modelConfig;
  const d = payload.defaults;
  const conditional = config.conditionSize > 0 && config.kind === 'conditional';
  const vae = isVaeKind(config.kind);
  const imageSize = config.height * config.width * config.colours;
  const testImages = base64ToBytes(payload.images.data);

  const ui = element('div', { class: 'pixel-live-ui', style: 'font:13px sans-serif;margin:6px 0' });
  const status = element('div', { class: 'pixel-live-status', style: 'margin:4px 0;color:#444' }, 'loading the model…');
  const controls = element('div', { style: 'margin:4px 0' });
  const seed = element('input', { type: 'number', class: 'pixel-live-seed', value: String(d.seed), step: '1', min: '0', style: 'width:6em' });
  const temperature = element('input', { type: 'range', class: 'pixel-live-temperature', min: '0', max: '2', step: '0.05', value: String(d.temperature) });
  const temperatureText = element('span', { style: 'display:inline-block;min-width:2.5em;margin-right:12px' }, String(d.temperature));
  temperature.addEventListener('input', () => { temperatureText.textContent = temperature.value; });
  const rowsInput = element('input', { type: 'number', class: 'pixel-live-rows', value: String(d.rows), min: '1', max: '8', style: 'width:3.5em' });
  const colsInput = element('input', { type: 'number', class: 'pixel-live-cols', value: String(d.cols), min: '1', max: '8', style: 'width:3.5em' });
  controls.append(labelled('seed', seed), labelled('temperature', temperature), temperatureText, labelled('grid rows', rowsInput), labelled('cols', colsInput));
  let classPicker: HTMLSelectElement | undefined;
  if (conditional) {
    classPicker = element('select', { class: 'pixel-live-class' });
    for (let c = 0; c < config.conditionSize; c++) classPicker.appendChild(element('option', { value: String(c) }, payload.classNames[c] ?? `class ${c}`));
    controls.append(labelled('class', classPicker));
  }
  const sampleRow = element('div', { style: 'margin:4px 0' });
  const sampleButton = element('button', { class: 'pixel-live-sample', type: 'button', disabled: '' }, 'sample');
  sampleRow.append(sampleButton);
  const completeRow = element('div', { style: 'margin:4px 0' });
  const imagePicker = element('select', { class: 'pixel-live-image' });
  for (let n = 0; n < payload.images.count; n++) {
    const name = payload.classNames[payload.images.labels[n]];
    imagePicker.appendChild(element('option', { value: String(n) }, `test image ${n}${name ? ` (${name})` : ''}`));
  }
  const givenRows = element('input', { type: 'number', class: 'pixel-live-given', value: String(d.givenRows), min: '0', max: String(config.height), style: 'width:3.5em' });
  const completeButton = element('button', { class: 'pixel-live-complete', type: 'button', disabled: '' }, 'complete');
  const original = element('canvas', { class: 'pixel-live-original', style: 'vertical-align:middle;margin-left:8px;image-rendering:pixelated' });
  completeRow.append(labelled('complete', imagePicker), labelled('given rows', givenRows));
  // A PixelVAE samples given z: from the prior for "sample"; for "complete", the encoder's mean for the test image
  // seen through its given rows, or whole (a reconstruction: with 0 given rows, everything comes from z).
  let latentPicker: HTMLSelectElement | undefined;
  if (vae) {
    latentPicker = element('select', { class: 'pixel-live-latent' });
    for (const source of ['given rows', 'whole image'] as LatentSource[]) latentPicker.appendChild(element('option', { value: source }, source));
    completeRow.append(labelled('z from the encoder given', latentPicker));
  }
  completeRow.append(completeButton, original);
  const canvas = element('canvas', { class: 'pixel-live-canvas', style: 'image-rendering:pixelated;display:block;margin-top:4px' });
  ui.append(controls, sampleRow, completeRow, status, canvas);
  root.appendChild(ui);

  const showOriginal = () => {
    const n = Number(imagePicker.value);
    const rows = Math.max(0, Math.min(config.height, Math.floor(Number(givenRows.value) || 0)));
    const shown = testImages.slice(n * imageSize, (n + 1) * imageSize);
    const line = rows * config.width * config.colours;
    for (let k = line; k < imageSize; k++) shown[k] = Math.round(shown[k] * 0.25); // dim what will be sampled
    draw(original, shown, 1, payload, 1, 1);
    if (classPicker) classPicker.value = String(payload.images.labels[n] ?? 0);
  };
  imagePicker.addEventListener('change', showOriginal);
  givenRows.addEventListener('input', showOriginal);
  showOriginal();

  let running = false;
  const run = async (kind: 'sample' | 'complete') => {
    if (running || !widget.model) return;
    running = true;
    sampleButton.disabled = true;
    completeButton.disabled = true;
    root.dataset.state = 'running';
    const started = performance.now();
    let latents: tf.Tensor[] = [];
    try {
      const rows = Math.max(1, Math.min(8, Math.floor(Number(rowsInput.value) || d.rows)));
      const cols = Math.max(1, Math.min(8, Math.floor(Number(colsInput.value) || d.cols)));
      const count = rows * cols;
      const runSeed = Math.floor(Number(seed.value) || 0);
      const runTemperature = Number(temperature.value);
      const options: SampleOptions = { count, seed: runSeed, temperature: runTemperature };
      const record: LiveRun = { kind, seed: runSeed, temperature: runTemperature, count, images: [], seconds: 0, backend: debug.backend ?? '?' };
      if (classPicker) {
        record.label = Number(classPicker.value);
        options.condition = { labels: new Array(count).fill(record.label) };
      }
      if (kind === 'complete') {
        const n = Number(imagePicker.value);
        const keep = Math.max(0, Math.min(config.height, Math.floor(Number(givenRows.value) || 0)));
        const images = new Uint8Array(count * imageSize);
        for (let k = 0; k < count; k++) images.set(testImages.subarray(n * imageSize, (n + 1) * imageSize), k * imageSize);
        options.given = { images, rows: keep };
        record.image = n;
        record.givenRows = keep;
      }
      const model = widget.model;
      if (isPixelVAE(model)) {
        let z: tf.Tensor2D;
        if (kind === 'sample') {
          z = model.priorLatent(count, runSeed); // [count, Z]
          record.latent = 'prior';
        } else {
          const source = (latentPicker?.value ?? 'given rows') as LatentSource;
          const n = record.image ?? 0;
          z = tf.tidy(() => {
            const image = tf.tensor4d(testImages.subarray(n * imageSize, (n + 1) * imageSize), [1, config.height, config.width, config.colours], 'float32');
            return model.encodeTop(image, source === 'whole image' ? config.height : record.givenRows ?? 0); // [1, Z]
          });
          record.latent = source;
        }
        const condition = latentCondition(model, z, kind === 'sample' ? 1 : count);
        latents = ([z, condition.vector, condition.map] as (tf.Tensor | undefined)[]).filter((t): t is tf.Tensor => t !== undefined);
        options.condition = condition;
      }
      let lastDraw = 0;
      const plan = await preparePlan(model, {
        ...options,
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastDraw < 40 && p.fraction < 1) return;
          lastDraw = now;
          draw(canvas, plan.images, count, payload, rows, cols);
          status.textContent = `${kind === 'sample' ? 'sampling' : 'completing'} ${count} images: ${(p.fraction * 100).toFixed(0)}% · ${((now - started) / 1000).toFixed(1)} s`;
        },
      });
      draw(canvas, plan.images, count, payload, rows, cols);
      await runFast(plan);
      draw(canvas, plan.images, count, payload, rows, cols);
      record.images = Array.from(plan.images);
      record.seconds = (performance.now() - started) / 1000;
      widget.runs.push(record);
      debug.last = record;
      canvas.dataset.seed = String(runSeed);
      const latentNote = record.latent ? `, z from ${record.latent === 'prior' ? 'the prior' : `the ${record.latent}`}` : '';
      status.textContent = `${kind === 'sample' ? 'sampled' : 'completed'} ${count} images${latentNote} in ${record.seconds.toFixed(1)} s ` +
        `(seed ${runSeed}, temperature ${runTemperature}, ${debug.backend} backend)`;
      root.dataset.state = 'done';
    } catch (error) {
      status.textContent = `error: ${(error as Error).message}`;
      root.dataset.state = 'error';
    } finally {
      tf.dispose(latents);
      running = false;
      sampleButton.disabled = false;
      completeButton.disabled = false;
    }
  };
  sampleButton.addEventListener('click', () => void run('sample'));
  completeButton.addEventListener('click', () => void run('complete'));

  void (async () => {
    try {
      const backend = await (debug.ready ??= chooseBackend());
      debug.backend = backend;
      root.dataset.backend = backend;
      const model = buildModel(config);
      if (!supportsFastSampling(model)) throw new Error(`the live sampler does not support ${config.kind} models`);
      const weights = decodeWeights(payload.weights);
      for (const [name, variable] of model.params.variables) {
        const saved = weights.get(name);
        if (!saved || saved.values.length !== variable.size) throw new Error(`weights for ${name} are missing or have the wrong size`);
        variable.assign(tf.tensor(saved.values, variable.shape));
      }
      widget.model = model;
      status.textContent = `ready: ${payload.title} (${config.kind}, ${payload.weights.dtype} weights, ${backend} backend). Press sample or complete.`;
      sampleButton.disabled = false;
      completeButton.disabled = false;
      root.dataset.state = 'ready';
    } catch (error) {
      status.textContent = `the live sampler could not start: ${(error as Error).message}`;
      root.dataset.state = 'error';
    }
  })();
}

function mountAll(): void {
  document.querySelectorAll<HTMLElement>('.pixel-live').forEach(mount);
}

window.PixelLive = { mountAll };
mountAll();
