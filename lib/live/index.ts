/**
 * Live sampler widgets for reports (Node side): `liveSamplerHtml` returns one self-contained HTML fragment
 * that carries the browser bundle (lib/live/browser.ts: TensorFlow.js, the models, the fast sampler, the UI),
 * the model config and weights and a few test images, so a reader who opens the report offline can sample
 * and complete images in the browser.
 *
 * Node only (esbuild builds the bundle once per process).
 */
import * as path from 'path';
import { ModelConfig, modelSpec } from '../models/registry';
import type { Checkpoint } from '../train/checkpoint';
import { decodeCheckpoint } from '../train/checkpoint';
import { bytesToBase64, encodeWeights, LiveDefaults, LivePayload, WeightDtype } from './payload';

export type { LivePayload, LiveDefaults, WeightDtype } from './payload';

let bundleCache: string | undefined;

/** The minified IIFE bundle of lib/live/browser.ts (built on first use, then cached for the process). */
export async function liveBundle(): Promise<string> {
  if (bundleCache !== undefined) return bundleCache;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(__dirname, 'browser.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    legalComments: 'none',
    // lib/render/grid.ts loads these lazily, only in its Node-only PNG functions (never called in the browser).
    external: ['fs', 'path', 'pngjs'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].text;
  bundleCache = code;
  return code;
}

export interface LiveSamplerOptions {
  /** The model: checkpoint bytes or a decoded checkpoint, or its config and named weights. */
  checkpoint?: Uint8Array | Checkpoint;
  modelConfig?: ModelConfig;
  weights?: Map<string, { shape: number[]; values: Float32Array }>;
  /** Test images to complete: NHWC bytes of `count` images of the model's shape, and their labels. */
  images?: { images: Uint8Array; count: number; labels?: ArrayLike<number> };
  /** At most this many test images are embedded (default 8). */
  maxImages?: number;
  classNames?: string[];
  /**
   * Weight storage (default float32, so the widget reproduces the library's samples byte for byte).
   * float16 halves the weights' share (the 162k-parameter gated MNIST model: widget 1.83 MB -> 1.40 MB) and
   * barely changes the model (measured after 1 epoch of 1,600 images: 1.389456 vs 1.389472 bits/dim on 32
   * test images, +0.00002), but samples for a seed then drift from the float32 ones once a draw lands
   * on the other side of a rounding (4 samples: 3069 of 3136 subpixels identical, first difference at 209).
   */
  dtype?: WeightDtype;
  title?: string;
  defaults?: Partial<LiveDefaults>;
}

export function livePayload(options: LiveSamplerOptions): LivePayload {
  let modelConfig = options.modelConfig;
  let weights = options.weights;
  if (options.checkpoint) {
    const checkpoint = options.checkpoint instanceof Uint8Array ? decodeCheckpoint(options.checkpoint) : options.checkpoint;
    modelConfig ??= checkpoint.modelConfig;
    weights ??= checkpoint.weights;
  }
  if (!modelConfig || !weights) throw new Error('liveSamplerHtml: pass a checkpoint, or modelConfig and weights');
  const { height, width, colours } = modelConfig;
  const imageSize = height * width * colours;
  const max = options.maxImages ?? 8;
  const count = Math.min(max, options.images?.count ?? 0);
  const imageBytes = options.images ? options.images.images.subarray(0, count * imageSize) : new Uint8Array(0);
  if (imageBytes.length !== count * imageSize) throw new Error(`liveSamplerHtml: expected ${count} images of ${height}x${width}x${colours}`);
  const labels = Array.from({ length: count }, (_, n) => Number(options.images?.labels?.[n] ?? 0));
  const scale = Math.max(1, Math.round(112 / Math.max(height, width)));
  const defaults: LiveDefaults = { rows: 4, cols: 4, scale, seed: 0, temperature: 1, givenRows: Math.floor(height / 2), ...options.defaults };
  return {
    version: 1,
    title: options.title ?? modelSpec(modelConfig.kind).name,
    modelConfig,
    weights: encodeWeights(weights, options.dtype ?? 'float32'),
    images: { count, height, width, colours, data: bytesToBase64(imageBytes), labels },
    classNames: options.classNames ?? [],
    defaults,
  };
}

let widgetCounter = 0;

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The widget as an HTML fragment: the payload, then the bundle (guarded so a page with several widgets
 * runs it once) and a mount call. Display it with tslab.display.html.
 */
export async function liveSamplerHtml(options: LiveSamplerOptions): Promise<string> {
  const payload = livePayload(options);
  const bundle = (await liveBundle()).replace(/<\/script/gi, '<\\/script');
  const id = `pixel-live-${process.pid}-${++widgetCounter}`;
  return `<div class="pixel-live" id="${id}" style="border:1px solid #ccc;padding:6px 10px;margin:6px 0">` +
    `<div style="font:600 13px sans-serif">Live sampler: runs the trained model in your browser (no network needed)</div>` +
    `<script type="application/json" class="pixel-live-data">${scriptJson(payload)}</script></div>` +
    `<script>if(!window.PixelLive){${bundle}\n}else{window.PixelLive.mountAll();}</script>`;
}
