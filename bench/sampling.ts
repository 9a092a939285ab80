/**
 * Sampling speed: the 12x12 grid (72 samples from scratch + 72 completions of the top halves of 12 MNIST
 * test images, 28x28x1) for the default gated model (`modelConfig()`: 5 layers, k 5, 30 channels), with
 * the fast sampler in full, and with the reference sampler (one full forward pass per subpixel) timed on
 * its first few subpixel steps and extrapolated to all of them. sampleGrid runs the halves as two batches
 * of 72 images: 784 subpixel steps for the samples, 392 for the completions (their top 14 rows are given),
 * so the reference needs 1176 forward passes of 72 images.
 *
 *   node --import tsx bench/sampling.ts [--reference-steps 4] [--png out.png] [--seed 0]
 *
 * `measureSampling` is also what `npm run bench` (bench/index.ts) runs.
 *
 * The weights are the untrained initialisation: the work per subpixel does not depend on their values.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../lib/backend';
import { findIdxFile, IDX_FILES, mnistDataDirectory } from '../lib/data/mnist';
import { readIdxFile } from '../lib/data/idx';
import { buildModel, modelConfig } from '../lib/models';
import { gridPng, writePng } from '../lib/render/grid';
import { sampleGrid } from '../lib/sample';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

export interface SamplingMeasurement {
  backend: string;
  model: string;
  /** Wall-clock seconds of the whole grid with the fast sampler. */
  fastSeconds: number;
  /** Reference sampler: subpixel steps measured, their durations (s; the first includes warm-up). */
  referenceStepsMeasured: number;
  referenceStepSeconds: number[];
  /** Mean of the measured steps after the first. */
  referenceSecondsPerStep: number;
  /** Forward passes the reference needs for the whole grid (both batches). */
  referenceStepsInAll: number;
  /** referenceSecondsPerStep x referenceStepsInAll: EXTRAPOLATED, not run in full. */
  referenceSecondsExtrapolated: number;
  speedup: number;
  tensorsLeaked: number;
}

/**
 * Times the 12x12 grid with the fast sampler in full and with the reference sampler on its first
 * `referenceSteps` subpixel steps, extrapolated to the whole grid. `log` receives human-readable lines.
 */
export async function measureSampling(options: {
  referenceSteps?: number; seed?: number; pngPath?: string; backend?: BackendName; log?: (line: string) => void;
} = {}): Promise<SamplingMeasurement> {
  const referenceSteps = options.referenceSteps ?? 4;
  const seed = options.seed ?? 0;
  const log = options.log ?? ((line: string) => console.log(line));
  const backend = await initBackend(options.backend);
  const config = modelConfig();
  const model = buildModel(config);
  const test = readIdxFile(findIdxFile(mnistDataDirectory(), IDX_FILES.testImages), { ndims: 3, dims: [undefined, 28, 28] });
  const testImages = test.data.subarray(0, 12 * 28 * 28);
  const subpixels = config.height * config.width * config.colours;
  const referenceStepsInAll = subpixels + (config.height - Math.floor(config.height / 2)) * config.width * config.colours;
  const modelText = `${config.kind}, ${config.layers} layers, k ${config.kernelSize}, ${config.channels} channels, ${config.height}x${config.width}x${config.colours} (untrained weights)`;
  log(`backend: ${backend.description}`);
  log(`model: ${modelText}`);
  log('grid: 12 x 12 = 72 samples + 72 completions (top 14 rows given), two batches of 72');

  try {
    const tensorsBefore = tf.memory().numTensors;
    let t0 = performance.now();
    const grid = await sampleGrid(model, testImages, { seed, sampler: 'fast' });
    const fastSeconds = (performance.now() - t0) / 1000;
    log(`fast sampler: ${fastSeconds.toFixed(2)} s for the whole grid (${((fastSeconds * 1000) / referenceStepsInAll).toFixed(2)} ms per subpixel step of a 72-image batch), tensors leaked: ${tf.memory().numTensors - tensorsBefore}`);
    if (options.pngPath) {
      writePng(options.pngPath, gridPng(grid, { ...grid.layout, scale: 2 }));
      log(`grid written to ${options.pngPath}`);
    }

    // Reference: the same grid call, stopped after a few subpixel steps of the first batch (each one full
    // forward pass of 72 images; the second batch's steps cost the same).
    const stamps: number[] = [];
    const controller = new AbortController();
    t0 = performance.now();
    try {
      await sampleGrid(model, testImages, {
        seed,
        sampler: 'reference',
        signal: controller.signal,
        onProgress: () => {
          stamps.push(performance.now());
          if (stamps.length >= referenceSteps) controller.abort(new Error('benchmark: enough reference steps'));
        },
      });
    } catch (e) {
      if (!controller.signal.aborted) throw e;
    }
    const durations = stamps.map((s, k) => (s - (k === 0 ? t0 : stamps[k - 1])) / 1000);
    const steady = durations.length > 1 ? durations.slice(1) : durations;
    const perStep = steady.reduce((a, b) => a + b, 0) / steady.length;
    const referenceSeconds = perStep * referenceStepsInAll;
    log(`reference sampler: measured ${durations.length} subpixel steps (${durations.map((d) => d.toFixed(2)).join(', ')} s; the first includes warm-up),`);
    log(`  ${perStep.toFixed(2)} s per step (mean of steps 2..${durations.length}) x ${referenceStepsInAll} steps (${subpixels} + ${referenceStepsInAll - subpixels}) = ${referenceSeconds.toFixed(0)} s (${(referenceSeconds / 60).toFixed(1)} min) EXTRAPOLATED`);
    log(`speed-up: ${(referenceSeconds / fastSeconds).toFixed(0)}x (target >= 50x)`);
    const tensorsLeaked = tf.memory().numTensors - tensorsBefore;
    log(`tensors leaked overall: ${tensorsLeaked}`);
    return {
      backend: backend.description, model: modelText, fastSeconds,
      referenceStepsMeasured: durations.length, referenceStepSeconds: durations, referenceSecondsPerStep: perStep,
      referenceStepsInAll, referenceSecondsExtrapolated: referenceSeconds, speedup: referenceSeconds / fastSeconds, tensorsLeaked,
    };
  } finally {
    model.params.dispose();
  }
}

async function main(): Promise<void> {
  await measureSampling({
    referenceSteps: Number(flag('reference-steps', '4')),
    seed: Number(flag('seed', '0')),
    pngPath: flag('png', '') || undefined,
  });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
