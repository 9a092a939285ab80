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
 * The weights are the untrained initialisation: the work per subpixel does not depend on their values.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { findIdxFile, IDX_FILES, mnistDataDirectory } from '../lib/data/mnist';
import { readIdxFile } from '../lib/data/idx';
import { buildModel, modelConfig } from '../lib/models';
import { gridPng, writePng } from '../lib/render/grid';
import { sampleGrid } from '../lib/sample';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const referenceSteps = Number(flag('reference-steps', '4'));
  const seed = Number(flag('seed', '0'));
  const pngPath = flag('png', '');
  const backend = await initBackend();
  const config = modelConfig();
  const model = buildModel(config);
  const test = readIdxFile(findIdxFile(mnistDataDirectory(), IDX_FILES.testImages), { ndims: 3, dims: [undefined, 28, 28] });
  const testImages = test.data.subarray(0, 12 * 28 * 28);
  const subpixels = config.height * config.width * config.colours;
  const referenceStepsInAll = subpixels + (config.height - Math.floor(config.height / 2)) * config.width * config.colours;
  console.log(`backend: ${backend.description}`);
  console.log(`model: ${config.kind}, ${config.layers} layers, k ${config.kernelSize}, ${config.channels} channels, ${config.height}x${config.width}x${config.colours} (untrained weights)`);
  console.log('grid: 12 x 12 = 72 samples + 72 completions (top 14 rows given), two batches of 72');

  const tensorsBefore = tf.memory().numTensors;
  let t0 = performance.now();
  const grid = await sampleGrid(model, testImages, { seed, sampler: 'fast' });
  const fastSeconds = (performance.now() - t0) / 1000;
  console.log(`fast sampler: ${fastSeconds.toFixed(2)} s for the whole grid (${((fastSeconds * 1000) / referenceStepsInAll).toFixed(2)} ms per subpixel step of a 72-image batch), tensors leaked: ${tf.memory().numTensors - tensorsBefore}`);
  if (pngPath) {
    writePng(pngPath, gridPng(grid, { ...grid.layout, scale: 2 }));
    console.log(`grid written to ${pngPath}`);
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
  const durations = stamps.map((s, k) => s - (k === 0 ? t0 : stamps[k - 1]));
  const steady = durations.length > 1 ? durations.slice(1) : durations;
  const perStep = steady.reduce((a, b) => a + b, 0) / steady.length / 1000;
  const referenceSeconds = perStep * referenceStepsInAll;
  console.log(`reference sampler: measured ${durations.length} subpixel steps (${durations.map((d) => (d / 1000).toFixed(2)).join(', ')} s; the first includes warm-up),`);
  console.log(`  ${perStep.toFixed(2)} s per step (mean of steps 2..${durations.length}) x ${referenceStepsInAll} steps (${subpixels} + ${referenceStepsInAll - subpixels}) = ${referenceSeconds.toFixed(0)} s (${(referenceSeconds / 60).toFixed(1)} min) EXTRAPOLATED`);
  console.log(`speed-up: ${(referenceSeconds / fastSeconds).toFixed(0)}x (target >= 50x)`);
  console.log(`tensors leaked overall: ${tf.memory().numTensors - tensorsBefore}`);
  model.params.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
