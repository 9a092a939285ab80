/**
 * Teacher forcing through the samplers' own loops: the subpixels are visited in the sampling order and the
 * model is given only those already known (the later ones blank, raw 0, exactly as while sampling), but
 * instead of a drawn value each subpixel takes its true value and scores -ln p(true value). This is the
 * likelihood "pixel by pixel" (the original project's `--pixel-by-pixel`): for a correct autoregressive
 * model it equals the one-pass likelihood from `model.logits` on the full images; a model that sees what
 * it predicts scores far worse here than in one pass (see lib/diagnostics/likelihood.ts).
 *
 * 'fast' runs the fast sampler's driver (fast.ts, per-layer caches); 'reference' the naive one (one full
 * forward pass per subpixel), for tests on tiny images.
 *
 * Browser-safe: no Node-only imports.
 */
import type { PixelModel } from '../models/model';
import { runFast } from './fast';
import { preparePlan, SampleCondition, SampleProgress } from './plan';
import { runReference } from './reference';
import type { SamplerName } from './sample';

export interface TeacherForcedOptions {
  /** Per-image condition for conditional models (labels, vectors or a map), as for sampling. */
  condition?: SampleCondition;
  /** 'fast' (default) or 'reference'. */
  sampler?: SamplerName;
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
}

export interface TeacherForcedResult {
  /** Per image and subpixel (NHWC, count * H * W * C): -ln p(true value | the subpixels before it), nats. */
  nats: Float64Array;
  count: number;
  height: number;
  width: number;
  colours: number;
  /** The sampler that ran. */
  sampler: SamplerName;
}

/** Scores `images` (count * H * W * C raw values 0..255, NHWC) subpixel by subpixel with teacher forcing. */
export async function teacherForce(model: PixelModel, images: ArrayLike<number>, options: TeacherForcedOptions = {}): Promise<TeacherForcedResult> {
  const { height, width, colours } = model.config;
  const imageSize = height * width * colours;
  const count = images.length / imageSize;
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`likelihood: images has ${images.length} values; expected a positive multiple of H*W*C = ${imageSize}`);
  }
  const truth = new Uint8Array(images.length);
  for (let k = 0; k < images.length; k++) {
    const v = images[k];
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`likelihood: images[${k}] = ${v} is not an integer 0..255`);
    truth[k] = v;
  }
  const plan = await preparePlan(model, { count, condition: options.condition, onProgress: options.onProgress, signal: options.signal });
  plan.teacher = { truth, nats: new Float64Array(images.length) };
  const sampler: SamplerName = options.sampler === 'reference' ? 'reference' : 'fast';
  if (sampler === 'fast') await runFast(plan);
  else await runReference(plan);
  return { nats: plan.teacher.nats, count, height, width, colours, sampler };
}
