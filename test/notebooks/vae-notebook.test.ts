/**
 * Notebook 04-vae's calls without Jupyter (smoke settings): the summary, the chart with the ELBO's parts (KL in
 * its own panel), the grid, reconstructions (with the latent-usage table), fixed-z rows and the interpolation as
 * PNGs of the expected shape, and the results table with reconstruction and KL; a model that is not a PixelVAE is
 * refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { NotebookConfig } from '../../lib/notebook/config';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import { prepare, results, showResults, showSamples, train } from '../../lib/notebook/session';
import { showInterpolation, showLatentRows, showReconstructions } from '../../lib/notebook/vae';

interface Figure { data: { name: string; yaxis?: string; y: number[] }[]; layout: { yaxis2?: unknown; height?: number } }

function lastChart(records: { kind: string; value: string | Uint8Array }[]): Figure {
  const html = [...records].reverse().find((r) => r.kind === 'html' && /class="pixel-chart-data"/.test(r.value as string))!.value as string;
  return JSON.parse(/class="pixel-chart-data">([\s\S]*?)<\/script>/.exec(html)![1]) as Figure;
}

test('04-vae end to end under PIXEL_SMOKE: ELBO parts charted, latent pictures shown, parts in the results', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-vae-nb-'));
  const config: NotebookConfig = {
    name: 'test-vae', dataset: 'mnist',
    model: { kind: 'vae-up', layers: 3, kernelSize: 5, channels: 30, latentSize: 16, vaeChannels: 32, conditionMapChannels: 16, posteriorLogVarInit: -4, klWarmupSteps: 50 },
    train: { epochs: 3, batchSize: 32, learningRate: 0.001, limit: 3200, testLimit: 512 },
    grid: { rows: 12, cols: 12, seed: 0 },
    vae: { reconstructions: 4, samplesPerImage: 8, latentRows: 4, interpolationPoints: 8, interpolate: [0, 1], seed: 0 },
    checkpoint: path.join(dir, 'vae.ckpt'), reuseCheckpoint: false,
  };
  const outputs = recordingOutputs();
  const session = await prepare(config, { outputs, env: { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: dir } });
  assert.equal(session.config.vae!.reconstructions, 2, 'smoke sizes for the VAE pictures');
  const summary = htmlToText(outputs.records[0].value as string);
  assert.match(summary, /vae-up: latent z of 16/);
  assert.match(summary, /q\(z\|x\) starting at log-variance -4/);
  const modelConfig = session.run.model.config;
  assert.ok(modelConfig.kind === 'vae-up');
  assert.equal(modelConfig.posteriorLogVarInit, -4, 'the notebook option reaches the model');
  assert.equal(modelConfig.klWarmupSteps, 50, 'the KL warm-up is a model option');
  assert.match(summary, /KL warm-up over 50 steps .*true negative ELBO/);

  await train(session);
  const figure = lastChart(outputs.records);
  const names = figure.data.map((t) => t.name);
  assert.deepEqual(names.slice(0, 3).map((n) => n.replace(/ \(.*/, '')), ['train', 'train', 'test'], 'the usual three traces first');
  for (const name of ['reconstruction (train, smoothed)', 'reconstruction (test)', 'KL (train, smoothed)', 'KL (test)']) assert.ok(names.includes(name), name);
  assert.ok(figure.data.filter((t) => t.yaxis === 'y2').every((t) => t.name.startsWith('KL')), 'the KL in the lower panel');
  assert.ok(figure.layout.yaxis2 && figure.layout.height! > 380);
  const kl = figure.data.find((t) => t.name === 'KL (test)')!;
  const total = figure.data.find((t) => t.name === 'test')!;
  const reconstruction = figure.data.find((t) => t.name === 'reconstruction (test)')!;
  total.y.forEach((v, k) => assert.ok(Math.abs(reconstruction.y[k] + kl.y[k] - v) < 2e-4, 'test: reconstruction + KL = negative ELBO'));

  const pngs = () => outputs.records.filter((r) => r.kind === 'png').map((r) => PNG.sync.read(Buffer.from(r.value as Uint8Array)));
  await showSamples(session);
  assert.equal(pngs().length, 1, 'the 4 x 4 grid');
  const cell = 28 * 2 + 1; // scale 2 plus the separator
  await showReconstructions(session);
  await showLatentRows(session);
  await showInterpolation(session);
  const [, reconstructions, rows, interpolation] = pngs();
  assert.equal(reconstructions.height, 1 + 2 * cell, '2 test images');
  assert.equal(rows.height, 1 + 2 * cell, '2 fixed z');
  assert.equal(interpolation.height, 1 + cell);
  assert.equal(interpolation.width, 1 + 5 * cell, 'two test images around 3 points');
  const captions = outputs.records.filter((r) => r.kind === 'html').map((r) => htmlToText(r.value as string)).join('\n');
  assert.match(captions, /Reconstructions\./);
  assert.match(captions, /Does the PixelCNN use z\? .* of the first 32 test images[\s\S]*given its own z\t\d\.\d{4} bits\/dim[\s\S]*what the right z saves\t-?\d+\.\d bits per image/);
  assert.match(captions, /Fixed z/);
  assert.match(captions, /Interpolation\. Left: test image 0; right: test image 1/);

  showResults(session);
  const table = htmlToText(outputs.records.at(-1)!.value as string);
  assert.match(table, /final test bits\/dim \(negative ELBO\)\t\d\.\d{4} = reconstruction \d\.\d+ \+ kl \d\.\d+/);
  assert.match(table, /train reconstruction\ttrain kl\ttest bits\/dim\ttest reconstruction\ttest kl/);
  const r = results(session);
  assert.ok(Math.abs(r.testParts!.reconstruction + r.testParts!.kl - r.testBitsPerDim!) < 1e-5);

  // Not a PixelVAE: the VAE pictures say so.
  const gated = await prepare({ ...config, name: 'test-gated', model: { kind: 'gated', layers: 2, kernelSize: 3, channels: 8 }, train: config.train },
    { outputs: recordingOutputs(), env: { PIXEL_SMOKE: '1', PIXEL_RUNS_DIR: dir } });
  await assert.rejects(showReconstructions(gated), /not a PixelVAE/);
  fs.rmSync(dir, { recursive: true, force: true });
});
