/** One entry point for both samplers. Browser-safe. */
import type { PixelModel } from '../models/model';
import { sampleFast } from './fast';
import type { SampleOptions, SampleResult } from './plan';
import { sampleReference } from './reference';

export type SamplerName = 'fast' | 'reference';

/** Samples with the chosen sampler ('fast' by default). */
export function sample(model: PixelModel, options: SampleOptions & { sampler?: SamplerName } = {}): Promise<SampleResult> {
  const { sampler = 'fast', ...rest } = options;
  return sampler === 'reference' ? sampleReference(model, rest) : sampleFast(model, rest);
}
