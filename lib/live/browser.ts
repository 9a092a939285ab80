/**
 * The live sampler widget, bundled by esbuild (`liveBundle` in lib/live/index.ts) into one IIFE script that reports embed:
 * TensorFlow.js (webgl when it initialises, else cpu), the models, the fast sampler and the pure grid
 * composer, plus a small plain-DOM UI (controls.ts; a run: run.ts). It mounts every `.pixel-live` element that
 * holds a `script.pixel-live-data` JSON payload (lib/live/payload.ts) and is not mounted yet. The model says
 * what to offer: a class picker when it takes classes; when it has a latent z, samples take z from the prior
 * and completions from its encoder for a test image (the image's given rows, or all of it).
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
import { buildModel } from '../models/registry';
import type { PixelModel } from '../models/model';
import { buildControls, draw, LiveControls } from './controls';
import { base64ToBytes, decodeWeights, LivePayload } from './payload';
import { LiveAction, liveRun, LiveRun, TestImages } from './run';

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

/** The payload's model on the chosen backend, with its weights. */
function loadModel(payload: LivePayload): PixelModel {
  const model = buildModel(payload.modelConfig);
  const weights = decodeWeights(payload.weights);
  for (const [name, variable] of model.params.variables) {
    const saved = weights.get(name);
    if (!saved || saved.values.length !== variable.size) throw new Error(`weights for ${name} are missing or have the wrong size`);
    tf.tidy(() => variable.assign(tf.tensor(saved.values, variable.shape)));
  }
  return model;
}

/** Runs `action` with the controls' settings, drawing as the images fill in, and records the run. */
async function run(widget: LiveWidget, controls: LiveControls, images: TestImages, action: LiveAction): Promise<void> {
  const { root, payload, model } = widget;
  if (!model) return;
  const { status, canvas } = controls;
  controls.setBusy(true);
  root.dataset.state = 'running';
  const started = performance.now();
  try {
    const settings = controls.settings(action);
    const { rows, cols } = settings;
    const count = rows * cols;
    const [doing, done] = action === 'sample' ? ['sampling', 'sampled'] : ['completing', 'completed'];
    let lastDraw = 0;
    const record = await liveRun(model, settings, images, debug.backend ?? '?', {
      draw: (drawn) => draw(canvas, drawn, count, payload, rows, cols),
      progress: (drawn, fraction) => {
        const now = performance.now();
        if (now - lastDraw < 40 && fraction < 1) return;
        lastDraw = now;
        draw(canvas, drawn, count, payload, rows, cols);
        status.textContent = `${doing} ${count} images: ${(fraction * 100).toFixed(0)}% · ${((now - started) / 1000).toFixed(1)} s`;
      },
    });
    widget.runs.push(record);
    debug.last = record;
    canvas.dataset.seed = String(record.seed);
    const latentNote = record.latent ? `, z from ${record.latent === 'prior' ? 'the prior' : `the ${record.latent}`}` : '';
    status.textContent = `${done} ${count} images${latentNote} in ${record.seconds.toFixed(1)} s ` +
      `(seed ${record.seed}, temperature ${record.temperature}, ${debug.backend} backend)`;
    root.dataset.state = 'done';
  } catch (error) {
    status.textContent = `error: ${(error as Error).message}`;
    root.dataset.state = 'error';
  } finally {
    controls.setBusy(false);
  }
}

function mount(root: HTMLElement): void {
  const source = root.querySelector('script.pixel-live-data');
  if (!source || root.dataset.mounted) return;
  root.dataset.mounted = '1';
  root.dataset.state = 'loading';
  const payload = JSON.parse(source.textContent ?? '{}') as LivePayload;
  const widget: LiveWidget = { root, payload, runs: [] };
  debug.widgets.push(widget);
  const { height, width, colours } = payload.modelConfig;
  const images: TestImages = { data: base64ToBytes(payload.images.data), size: height * width * colours };
  const controls = buildControls(root, payload, images);
  let running = false;
  controls.onRun((action) => {
    if (running) return;
    running = true;
    void run(widget, controls, images, action).finally(() => { running = false; });
  });

  void (async () => {
    try {
      const backend = await (debug.ready ??= chooseBackend());
      debug.backend = backend;
      root.dataset.backend = backend;
      const model = loadModel(payload);
      widget.model = model;
      controls.addModelPickers(model);
      controls.status.textContent = `ready: ${payload.title} (${payload.modelConfig.kind}, ${payload.weights.dtype} weights, ${backend} backend). Press sample or complete.`;
      controls.setBusy(false);
      root.dataset.state = 'ready';
    } catch (error) {
      controls.status.textContent = `the live sampler could not start: ${(error as Error).message}`;
      root.dataset.state = 'error';
    }
  })();
}

function mountAll(): void {
  document.querySelectorAll<HTMLElement>('.pixel-live').forEach(mount);
}

window.PixelLive = { mountAll };
mountAll();
