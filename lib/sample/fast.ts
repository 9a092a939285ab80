/**
 * The fast sampler: per subpixel it evaluates only what that subpixel changes (see incremental-simple.ts
 * and incremental-gated.ts), with per-layer activation caches in JavaScript arrays. Same model, same
 * options => the same samples as `sampleReference` (the logits agree to float rounding).
 *
 * Given pixels: everything before the first pixel any sample draws comes from one full forward pass; from
 * there on, pixels every sample has given only update the caches (no output layer, no draw).
 *
 * Browser-safe: no Node-only imports; tensors are read with `await t.data()`.
 */
import { GatedPixelCNN } from '../models/gated';
import type { PixelModel } from '../models/model';
import { SimplePixelCNN } from '../models/simple';
import type { Incremental } from './incremental';
import { GatedIncremental } from './incremental-gated';
import { SimpleIncremental } from './incremental-simple';
import {
  drawSubpixel, preparePlan, progressReporter, result, SampleOptions, SamplePlan, SampleResult, skipSubpixels,
  throwIfAborted,
} from './plan';

/**
 * The autoregressive network behind a model: the model itself, or a wrapper's `pixelModel` (the PixelVAE's
 * gated PixelCNN, whose logits are the wrapper's given the same condition).
 */
function network(model: PixelModel): PixelModel {
  const inner = (model as { pixelModel?: unknown }).pixelModel;
  return inner instanceof SimplePixelCNN || inner instanceof GatedPixelCNN ? inner : model;
}

/** Whether `sampleFast` knows how to evaluate this model incrementally. */
export function supportsFastSampling(model: PixelModel): boolean {
  const net = network(model);
  return net instanceof SimplePixelCNN || net instanceof GatedPixelCNN;
}

function createIncremental(model: PixelModel, plan: SamplePlan): Incremental {
  const net = network(model);
  if (net instanceof SimplePixelCNN) return new SimpleIncremental(net, plan);
  if (net instanceof GatedPixelCNN) return new GatedIncremental(net, plan);
  throw new Error(`sampleFast: no incremental evaluation for ${model.constructor.name} (kind ${model.config.kind}); use sampleReference`);
}

export async function sampleFast(model: PixelModel, options: SampleOptions = {}): Promise<SampleResult> {
  const plan = await preparePlan(model, options);
  await runFast(plan);
  return result(plan);
}

/**
 * The fast sampler's driver: fills `plan.images` subpixel by subpixel in raster order (drawing, or under
 * `plan.teacher` taking the true values and scoring them).
 */
export async function runFast(plan: SamplePlan): Promise<void> {
  const model = plan.model;
  const { height, width, colours } = plan;
  let firstDrawn = -1;
  for (let s = 0; s < plan.imageSize; s++) {
    if (plan.drawnAt[s] > 0) {
      firstDrawn = s;
      break;
    }
  }
  if (firstDrawn < 0) return; // everything is given
  const startPixel = Math.floor(firstDrawn / colours);
  const [i0, j0] = [Math.floor(startPixel / width), startPixel % width];
  // A model whose first layer sees the current subpixel (the diagnostics' leaking model) needs its caches
  // refreshed after the last colour is drawn; every proper model's activations are final by then.
  const refresh = model.config.leak;
  const report = progressReporter(plan);
  const engine = createIncremental(model, plan);
  try {
    skipSubpixels(plan, startPixel * colours);
    if (startPixel > 0) await engine.prime(i0, j0);
    for (let i = i0; i < height; i++) {
      throwIfAborted(plan);
      await engine.beginRow(i);
      if (i === i0) for (let j = 0; j < j0; j++) engine.storeInput(i, j);
      for (let j = i === i0 ? j0 : 0; j < width; j++) {
        throwIfAborted(plan);
        engine.beginPixel(i, j);
        try {
          for (let c = 0; c < colours; c++) {
            const s = (i * width + j) * colours + c;
            const draw = plan.drawnAt[s] > 0;
            const store = c === colours - 1 && !refresh;
            if (!draw && !store) {
              skipSubpixels(plan, 1);
              continue;
            }
            const logits = await engine.step(i, j, c, draw, store);
            if (draw && logits) report(drawSubpixel(plan, s, logits.data, logits.stride, logits.offset));
            else skipSubpixels(plan, 1);
          }
          engine.storeInput(i, j);
          if (refresh) await engine.step(i, j, colours - 1, false, true);
        } finally {
          engine.endPixel();
        }
      }
    }
  } finally {
    engine.dispose();
  }
}
