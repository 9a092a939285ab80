/**
 * # Gated PixelCNN with the blind spot (the original PyTorch project's gated layer)
 *
 * The gated network of gated.ts with the original project's vertical stack: (k//2) x k kernels over the rows
 * strictly above, not shifted down. The receptive field then misses the pixels above and to the right of
 * the current one (van den Oord et al. 2016, https://arxiv.org/abs/1606.05328, figure 1); notebook
 * 05-blind-spot measures it against the paper's design.
 */
import { GatedPixelCNN } from './gated';
import { PixelCnnFields, UNCONDITIONAL_PIXELCNN } from './pixelcnn';
import { ModelSpec, SharedConfig, validatePixelCnnSize } from './spec';

export interface GatedBlindspotConfig extends SharedConfig, PixelCnnFields {
  kind: 'gated-blindspot';
}

export const gatedBlindspotSpec: ModelSpec<GatedBlindspotConfig> = {
  kind: 'gated-blindspot',
  name: 'gated-blindspot PixelCNN',
  summary: 'the original project\'s gated layer, whose vertical stack leaves a blind spot above and to the right',
  ...UNCONDITIONAL_PIXELCNN,
  validate: (config) => {
    validatePixelCnnSize(config);
    // Its vertical stack has k//2 rows: with k = 1 it would have none.
    if (config.kernelSize < 3) throw new Error(`model config: kernelSize (-k) must be at least 3 for gated-blindspot, got ${config.kernelSize}`);
  },
  build: (config) => new GatedPixelCNN(config, { blindSpot: true, conditionSize: 0, conditionMapChannels: 0, leak: config.leak }),
};
