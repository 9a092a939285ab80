/**
 * What notebook 04-vae shows besides the common cells (session.ts), one call per cell:
 *
 *   await showReconstructions(session)  test images next to samples drawn with z = the encoder mean of each, and
 *                                       how much the right z lowers the reconstruction loss (lib/diagnostics/latent-usage)
 *   await showLatentRows(session)       one row per z from the prior: what z fixes, and what the PixelCNN adds
 *   await showInterpolation(session)    z along the line between two test images' encoder means, one seed
 *
 * The sampling lives in lib/sample/vae.ts (samples for given z); this file arranges and shows the images.
 * Sizes come from `config.vae` (DEFAULT_VAE_DISPLAY when absent; PIXEL_SMOKE shrinks them). Node only.
 */
import * as tf from '@tensorflow/tfjs';
import { imageSize } from '../data/dataset';
import { ignoresZ, latentUsage } from '../diagnostics/latent-usage';
import { requirePixelVAE } from '../models';
import { gridPng } from '../render/grid';
import { streamSeeds } from '../sample/categorical';
import type { SampleResult } from '../sample/plan';
import { encoderMeans, interpolateLatents, sampleLatents } from '../sample/vae';
import type { NotebookConfig } from './config';
import { escapeHtml, formatDuration, keyValueTable } from './html';
import type { Session } from './session';
import { interruptible } from './interrupt';
import { samplingProgress, stoppableSampling } from './session-view';

export type VaeDisplay = NonNullable<NotebookConfig['vae']>;

export const DEFAULT_VAE_DISPLAY: VaeDisplay = {
  reconstructions: 4, samplesPerImage: 8, latentRows: 4, interpolationPoints: 8, interpolate: [0, 1], seed: 0,
};

/** Seeds of the three displays, kept apart from each other and from the grid's. */
const RECONSTRUCTION_SEED = 1;
const LATENT_ROWS_SEED = 2;
const INTERPOLATION_SEED = 3;

function displayOf(session: Session): VaeDisplay {
  return session.config.vae ?? DEFAULT_VAE_DISPLAY;
}

function testImage(session: Session, index: number, what: string): Uint8Array {
  const { test } = session.dataset;
  if (!Number.isInteger(index) || index < 0 || index >= test.count) throw new Error(`${what}: test image ${index} does not exist (the test set has ${test.count})`);
  const size = imageSize(session.dataset);
  return test.images.subarray(index * size, (index + 1) * size);
}

/** Lays out images (each `size` values) row by row into one PNG. */
function png(images: Uint8Array[], result: Pick<SampleResult, 'height' | 'width' | 'colours'>, rows: number, cols: number, rowLabels?: string[]): Uint8Array {
  const size = result.height * result.width * result.colours;
  const all = new Uint8Array(images.length * size);
  images.forEach((image, k) => all.set(image, k * size));
  return gridPng({ images: all, count: images.length, height: result.height, width: result.width, colours: result.colours }, { rows, cols, rowLabels, scale: 2 });
}

function cell(result: SampleResult, k: number): Uint8Array {
  const size = result.height * result.width * result.colours;
  return result.images.subarray(k * size, (k + 1) * size);
}

function caption(session: Session, html: string): void {
  session.outputs.display.html(`<p class="pixel-caption" style="font-size:13px">${html}</p>`);
}

/**
 * Reconstructions: row r starts with test image r, followed by `samplesPerImage` samples of the PixelCNN given
 * z = the encoder mean of that image (column c uses the same random stream in every row).
 */
export function showReconstructions(session: Session): Promise<void> {
  return interruptible((signal) => reconstructions(session, signal), session.interrupts);
}

async function reconstructions(session: Session, signal: AbortSignal): Promise<void> {
  const vae = requirePixelVAE(session.run.model, 'showReconstructions');
  const { reconstructions: count, samplesPerImage: per, seed } = displayOf(session);
  const originals = Array.from({ length: count }, (_, r) => testImage(session, r, 'showReconstructions'));
  const images = session.dataset.test.images.subarray(0, count * imageSize(session.dataset));
  const progress = samplingProgress(session.outputs, `sampling ${count * per} reconstructions`);
  const started = performance.now();
  const z = encoderMeans(vae, images, count);
  const columns = streamSeeds(seed + RECONSTRUCTION_SEED, per);
  const result = await stoppableSampling(progress, signal, () => sampleLatents(vae, z, {
    samplesPerLatent: per, sampleSeeds: Array.from({ length: count * per }, (_, k) => columns[k % per]), onProgress: progress.onProgress, signal,
  })).finally(() => z.dispose());
  if (!result) return;
  progress.done(`sampled ${count * per} reconstructions in ${formatDuration((performance.now() - started) / 1000)}`);
  const cells: Uint8Array[] = [];
  for (let r = 0; r < count; r++) {
    cells.push(originals[r]);
    for (let c = 0; c < per; c++) cells.push(cell(result, r * per + c));
  }
  caption(session, `<b>Reconstructions.</b> First column: test images 0-${count - 1}. The other ${per} columns: samples of the ` +
    'PixelCNN given z = the encoder mean of that row\'s image; column c uses the same random numbers in every row. ' +
    'What the samples of a row share with their image came through z; how they differ from each other is what the PixelCNN adds.');
  session.outputs.display.png(png(cells, result, count, per + 1, originals.map((_, r) => `test ${r}`)));

  // The same question in numbers, on the test images the training evaluated.
  const measured = Math.min(session.dataset.test.count, session.identity.train.testLimit ?? 1000);
  const usage = await latentUsage(vae, session.dataset.test.images, measured, session.identity.train.batchSize);
  session.outputs.display.html(keyValueTable([
    ['given its own z', `${usage.ownBitsPerDim.toFixed(4)} bits/dim`],
    ["given another image's z", `${usage.otherBitsPerDim.toFixed(4)} bits/dim`],
    ['what the right z saves', `${(Math.abs(usage.bitsPerImage) < 0.05 ? 0 : usage.bitsPerImage).toFixed(1)} bits per image` +
      `${ignoresZ(usage) ? ' — the PixelCNN ignores z (posterior collapse)' : ''}`],
  ], { caption: `Does the PixelCNN use z? Reconstruction -log2 p(x | z) of the first ${usage.images} test images, z = an encoder mean`, className: 'pixel-table pixel-latent-usage' }));
}

/** One row per z drawn from the prior (`latentRows` rows), `samplesPerImage` samples each; column c shares its random stream. */
export function showLatentRows(session: Session): Promise<void> {
  return interruptible((signal) => latentRows(session, signal), session.interrupts);
}

async function latentRows(session: Session, signal: AbortSignal): Promise<void> {
  const vae = requirePixelVAE(session.run.model, 'showLatentRows');
  const { latentRows: rows, samplesPerImage: per, seed } = displayOf(session);
  const progress = samplingProgress(session.outputs, `sampling ${rows} x ${per} images for ${rows} fixed z`);
  const started = performance.now();
  const z = vae.priorLatent(rows, seed + LATENT_ROWS_SEED);
  const columns = streamSeeds(seed + LATENT_ROWS_SEED, per);
  const result = await stoppableSampling(progress, signal, () => sampleLatents(vae, z, {
    samplesPerLatent: per, sampleSeeds: Array.from({ length: rows * per }, (_, k) => columns[k % per]), onProgress: progress.onProgress, signal,
  })).finally(() => z.dispose());
  if (!result) return;
  progress.done(`sampled ${rows * per} images in ${formatDuration((performance.now() - started) / 1000)}`);
  caption(session, `<b>Fixed z (seed ${seed + LATENT_ROWS_SEED}).</b> Row r: one z drawn from the prior N(0, I), ${per} samples of the ` +
    'PixelCNN given it. Column c uses the same random numbers in every row, so along a column only z changes. Rows that differ ' +
    'from each other show what z controls; the variation within a row is the PixelCNN\'s own. (With posterior collapse every row ' +
    'looks alike: z is ignored.)');
  session.outputs.display.png(png(Array.from({ length: rows * per }, (_, k) => cell(result, k)), result, rows, per,
    Array.from({ length: rows }, (_, r) => `z${r + 1}`)));
}

/**
 * Interpolation: test images a and b at the ends, between them one sample for each of `interpolationPoints` z on
 * the line from a's encoder mean to b's (both ends included), all with the same random stream.
 */
export function showInterpolation(session: Session): Promise<void> {
  return interruptible((signal) => interpolation(session, signal), session.interrupts);
}

async function interpolation(session: Session, signal: AbortSignal): Promise<void> {
  const vae = requirePixelVAE(session.run.model, 'showInterpolation');
  const { interpolationPoints: points, interpolate: [a, b], seed } = displayOf(session);
  const ends = [testImage(session, a, 'showInterpolation'), testImage(session, b, 'showInterpolation')];
  const progress = samplingProgress(session.outputs, `sampling ${points} interpolated images`);
  const started = performance.now();
  const means = encoderMeans(vae, new Uint8Array([...ends[0], ...ends[1]]), 2);
  const path = tf.tidy(() => {
    const [from, to] = tf.split(means, 2, 0);
    return interpolateLatents(from, to, points);
  });
  means.dispose();
  const [stream] = streamSeeds(seed + INTERPOLATION_SEED, 1);
  const result = await stoppableSampling(progress, signal,
    () => sampleLatents(vae, path, { sampleSeeds: new Array<number>(points).fill(stream), onProgress: progress.onProgress, signal }))
    .finally(() => path.dispose());
  if (!result) return;
  progress.done(`sampled ${points} interpolated images in ${formatDuration((performance.now() - started) / 1000)}`);
  caption(session, `<b>Interpolation.</b> Left: test image ${a}; right: test image ${b}. Between them: ${points} samples given z at ` +
    `${escapeHtml(Array.from({ length: points }, (_, k) => (k / (points - 1)).toFixed(2)).join(', '))} of the way from the encoder ` +
    'mean of the left image to that of the right one, every sample with the same random numbers: the changes along the row are z\'s alone.');
  session.outputs.display.png(png([ends[0], ...Array.from({ length: points }, (_, k) => cell(result, k)), ends[1]], result, 1, points + 2));
}
