/**
 * `showLiveSampler(session)`: the trained model, embedded in the notebook (and so in its exported report)
 * as a live sampler widget (lib/live) that samples and completes images in the reader's browser, offline.
 *
 * Node only. Notebooks import it through ./index.ts.
 */
import type { PixelModel } from '../models';
import { liveSamplerHtml, WeightDtype } from '../live/index';
import { captureCheckpoint } from '../train/checkpoint';
import { noteHtml } from './html';
import type { Session } from './session';

export interface LiveSamplerDisplayOptions {
  /** Weight storage in the page (default float32; float16 halves the weights' share of the report). */
  dtype?: WeightDtype;
  /** Test images offered for completion (default 8, the first of the test set). */
  images?: number;
  /** The sample grid's rows and columns (default 4 x 4). */
  rows?: number;
  cols?: number;
  seed?: number;
}

/**
 * Why the live sampler cannot run `model`, or undefined when it can: a plain PixelCNN conditioned on a map
 * (one with no latent whose decoder would make the map) has nothing the widget could give it as its condition.
 */
export function liveSamplerObstacle(model: PixelModel): string | undefined {
  if (model.conditionShape.map > 0 && model.latentSources.length === 0) {
    return `The live sampler cannot run a ${model.config.kind} model conditioned on a map (conditionMapChannels ${model.conditionShape.map}) without the decoder that makes the map.`;
  }
  return undefined;
}

/** Shows the live sampler widget for the session's model (a note instead for models it cannot run). */
export async function showLiveSampler(session: Session, options: LiveSamplerDisplayOptions = {}): Promise<void> {
  const model = session.run.model;
  const config = model.config;
  const obstacle = liveSamplerObstacle(model);
  if (obstacle) {
    session.outputs.display.html(noteHtml(obstacle));
    return;
  }
  const checkpoint = await captureCheckpoint(config, model.params);
  const test = session.dataset.test;
  const count = Math.min(options.images ?? 8, test.count);
  const imageSize = config.height * config.width * config.colours;
  const defaults: { rows?: number; cols?: number; seed?: number } = {};
  if (options.rows !== undefined) defaults.rows = options.rows;
  if (options.cols !== undefined) defaults.cols = options.cols;
  defaults.seed = options.seed ?? session.config.grid.seed;
  const html = await liveSamplerHtml({
    modelConfig: config,
    weights: checkpoint.weights,
    images: { images: test.images.subarray(0, count * imageSize), count, labels: test.labels.subarray(0, count) },
    classNames: session.dataset.classNames,
    dtype: options.dtype ?? 'float32',
    title: session.config.name,
    defaults,
  });
  session.outputs.display.html(html);
}
