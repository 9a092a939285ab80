/**
 * The fast sampler: per subpixel it evaluates only what that subpixel changes (the model's cached forward
 * pass, `PixelModel.incremental`: lib/models/simple-incremental.ts and gated-incremental.ts), with per-layer
 * activation caches in JavaScript arrays. Same model, same options => the same samples as `sampleReference`
 * (the logits agree to float rounding).
 *
 * Given pixels: everything before the first pixel any sample draws comes from one full forward pass; from
 * there on, pixels every sample has given only update the caches (no output layer, no draw).
 *
 * Browser-safe: no Node-only imports; tensors are read with `await t.data()`.
 */
import type { PixelModel } from '../models/model';
import {
  drawSubpixel, preparePlan, progressReporter, result, SampleOptions, SamplePlan, SampleResult, skipSubpixels,
  pause,
  throwIfAborted,
} from './plan';

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
  const report = progressReporter(plan);
  const engine = plan.model.incremental(plan);
  const refresh = engine.refreshAfterPixel;
  try {
    skipSubpixels(plan, startPixel * colours);
    if (startPixel > 0) await engine.prime(i0, j0);
    for (let i = i0; i < height; i++) {
      throwIfAborted(plan);
      await engine.beginRow(i);
      if (i === i0) for (let j = 0; j < j0; j++) engine.storeInput(i, j);
      for (let j = i === i0 ? j0 : 0; j < width; j++) {
        await pause(plan);
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
