/** One entry point for both samplers. Browser-safe. */
import type { PixelModel } from '../models/model';
import { sampleFast, supportsFastSampling } from './fast';
import type { SampleOptions, SampleResult } from './plan';
import { sampleReference } from './reference';

export type SamplerName = 'fast' | 'reference';

/** Samples with the chosen sampler ('fast' by default; models it cannot run incrementally use 'reference'). */
export function sample(model: PixelModel, options: SampleOptions & { sampler?: SamplerName } = {}): Promise<SampleResult> {
  const { sampler = 'fast', ...rest } = options;
  if (sampler === 'reference' || !supportsFastSampling(model)) return sampleReference(model, rest);
  return sampleFast(model, rest);
}
