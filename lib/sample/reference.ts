/**
 * The reference sampler: exactly the naive algorithm, one full forward pass of the model over the whole
 * batch per subpixel (H x W x C passes), reading only the logits of the subpixel being drawn. Kept as the
 * ground truth for the fast sampler's tests and as the baseline of bench/sampling.ts. Subpixels that every
 * sample has given are skipped (their uniforms are still consumed).
 *
 * Browser-safe: no Node-only imports; tensors are read with `await t.data()`.
 */
import * as tf from '@tensorflow/tfjs';
import { batchCondition } from '../models/incremental';
import { disposeCondition, PixelModel } from '../models/model';
import { VALUES } from './categorical';
import {
  drawSubpixel, preparePlan, progressReporter, result, SampleOptions, SamplePlan, SampleResult, skipSubpixels,
  pause,
} from './plan';

export async function sampleReference(model: PixelModel, options: SampleOptions = {}): Promise<SampleResult> {
  const plan = await preparePlan(model, options);
  await runReference(plan);
  return result(plan);
}

/**
 * The reference sampler's loop: fills `plan.images` subpixel by subpixel, one full forward pass each, the
 * subpixels not yet drawn blank (raw 0). Under `plan.teacher` it takes the true values and scores them: the
 * naive pixel-by-pixel likelihood.
 */
export async function runReference(plan: SamplePlan): Promise<void> {
  const model = plan.model;
  const { count, height, width, colours } = plan;
  const report = progressReporter(plan);
  const condition = batchCondition(plan, model.conditionShape);
  const pixels = new Float32Array(plan.images.length);
  try {
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        for (let c = 0; c < colours; c++) {
          const s = (i * width + j) * colours + c;
          if (plan.drawnAt[s] === 0) {
            skipSubpixels(plan, 1);
            continue;
          }
          await pause(plan);
          for (let k = 0; k < pixels.length; k++) pixels[k] = plan.images[k];
          const logits = tf.tidy(() => {
            const all = model.logits(tf.tensor4d(pixels, [count, height, width, colours]), condition); // [N, H, W, C, 256]
            return tf.slice(all, [0, i, j, c, 0], [count, 1, 1, 1, VALUES]); // [N, 1, 1, 1, 256]
          });
          let values: Float32Array;
          try {
            values = (await logits.data()) as Float32Array;
          } finally {
            logits.dispose();
          }
          report(drawSubpixel(plan, s, values, VALUES, 0));
        }
      }
    }
  } finally {
    disposeCondition(condition);
  }
}
