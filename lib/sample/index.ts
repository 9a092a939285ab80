/**
 * Sampling from the autoregressive image models: the naive reference sampler (one full forward pass per
 * subpixel), the fast incremental sampler, their teacher-forced mode (pixel-by-pixel likelihood), and the
 * sample/completion grid. Browser-safe (no Node-only imports); the grid's PNG encoding lives in
 * lib/render/grid.ts.
 */
export { drawCategorical, sampleStream, streamSeeds } from './categorical';
export type { GivenPixels, SampleCondition, SampleOptions, SampleProgress, SampleResult } from './plan';
export { sampleReference } from './reference';
export { sampleFast } from './fast';
export { teacherForce } from './teacher';
export type { TeacherForcedOptions, TeacherForcedResult } from './teacher';
export { sample } from './sample';
export type { SamplerName } from './sample';
export { sampleGrid } from './grid';
export type { GridOptions, SampleGridResult } from './grid';
export { datasetGrid } from './dataset-grid';
export { encoderMeans, interpolateLatents, sampleLatents } from './vae';
export type { LatentSampleOptions } from './vae';
