/** The models: kinds and their configs (registry.ts), the interface every model implements (model.ts). */
export * from './registry';
export type { DataShape, ModelOption, ModelSpec, PixelCnnSize, SharedConfig } from './spec';
export { Condition } from './layers';
export { disposeCondition, parameterCount } from './model';
export type { CompletionRequest, ConditionShape, LatentSource, PixelModel, ScratchRequest } from './model';
export { classCondition } from './pixelcnn';
export { SimplePixelCNN } from './simple';
export { GatedPixelCNN } from './gated';
export { PixelVAE, requirePixelVAE } from './vae';
export type { Posterior } from './vae';
export { gaussianKl, gaussianKlPerDim, klWeight, reparameterise, vaeObjective } from './vae-objective';
export type { VaeObjectiveOptions } from './vae-objective';
