/**
 * The check behind every measured row of results/README.md: load `results/NAME/weights.ckpt` and recompute the
 * bits/dim of the first test images that result.json records (`subset`), the way the export measured it (the
 * trainer's own evaluation, in the recorded batch size: a PixelVAE's noise is drawn per test batch).
 */
import * as path from 'path';
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { Dataset } from '../data/dataset';
import { buildModel } from '../models';
import { Checkpoint, loadWeights } from '../train/checkpoint';
import { readCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { checkShape } from '../train/run';
import { Trainer } from '../train/trainer';
import { latentUsage } from '../diagnostics/latent-usage';
import { PixelVAE } from '../models/vae';
import { readResult, SubsetMeasure, WEIGHTS_FILE } from './result';

/** Test images the export measures its weights on: enough for a stable figure, few enough for a test. */
export const SUBSET_IMAGES = 1000;

/**
 * Bits/dim (and parts) of a checkpoint's weights on the first `images` test images, in batches of `batchSize`; for a
 * PixelVAE also the bits per image its own z saves on them (latentUsage: no noise, the encoder means).
 */
export async function evaluateWeights(checkpoint: Checkpoint, dataset: Dataset, images: number, batchSize: number, source: string): Promise<SubsetMeasure> {
  checkShape(checkpoint.modelConfig, dataset, source);
  const model = buildModel(checkpoint.modelConfig);
  // Nothing trains: the trainer is here for its evaluation, which is the one every bits/dim in a history comes from.
  let trainer: Trainer | undefined;
  try {
    loadWeights(model.params, checkpoint, source);
    trainer = new Trainer(model.objective(), dataset, trainConfig({ batchSize }));
    const count = Math.min(images, dataset.test.count);
    const { bitsPerDim, parts } = await trainer.evaluate(dataset.test, count);
    const latent = model instanceof PixelVAE ? await latentUsage(model, dataset.test.images, count, batchSize) : undefined;
    return { images: count, bitsPerDim, ...(parts ? { parts } : {}), ...(latent ? { latent } : {}) };
  } finally {
    trainer?.optimizer.dispose();
    model.params.dispose();
  }
}

export interface Verification {
  name: string;
  /** The weights file evaluated. */
  weights: string;
  images: number;
  batchSize: number;
  /** result.json's subset figures, and those computed now from the weights file. */
  recorded: SubsetMeasure;
  recomputed: SubsetMeasure;
  /** |recomputed - recorded| bits/dim. */
  difference: number;
}

/**
 * Recomputes `dir/result.json`'s subset bits/dim from `dir/weights.ckpt`. The dataset is the result's task, loaded
 * unless given. Returns both figures: the caller states its tolerance (the same backend gives the same figure).
 */
export async function verifyResult(dir: string, options: { dataset?: Dataset } = {}): Promise<Verification> {
  const record = readResult(dir);
  const weights = path.join(dir, WEIGHTS_FILE);
  const checkpoint = readCheckpoint(weights);
  await initBackend();
  const dataset = options.dataset ?? await loadDataset(record.task, { onProgress: () => {} });
  const { images, batchSize } = record.subset;
  const recomputed = await evaluateWeights(checkpoint, dataset, images, batchSize, weights);
  if (recomputed.images !== images) {
    throw new Error(`${path.join(dir, 'result.json')}: field "subset.images" is ${images}, but ${dataset.name} has only ${dataset.test.count} test images`);
  }
  const recorded: SubsetMeasure = record.subset;
  return { name: record.name, weights, images, batchSize, recorded, recomputed, difference: Math.abs(recomputed.bitsPerDim - recorded.bitsPerDim) };
}
