/**
 * # Conditional gated PixelCNN
 *
 * van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders", section 2.3
 * (https://arxiv.org/abs/1606.05328): the gated network of gated.ts with a condition added inside every gate,
 * a class one-hot h as V^T h (the original's `train-cond.py`), or a spatial map s as a 1x1 convolution V * s.
 * Trained on a labelled dataset it takes the dataset's classes unless told otherwise.
 */
import { GatedPixelCNN } from './gated';
import { PixelCnnFields, RETIRED_LATENT_FIELDS } from './pixelcnn';
import { checkInteger, DataShape, DEFAULT_PIXELCNN_SIZE, describeSize, ModelSpec, SharedConfig, validatePixelCnnSize } from './spec';

export interface ConditionalConfig extends SharedConfig, PixelCnnFields {
  kind: 'conditional';
  /** Classes: the length of the one-hot condition vector (0 = none; from the dataset by default). */
  conditionSize: number;
  /** Channels of a location-dependent condition map (H x W x channels); 0 = none. */
  conditionMapChannels: number;
}

export const conditionalSpec: ModelSpec<ConditionalConfig> = {
  kind: 'conditional',
  name: 'conditional PixelCNN',
  summary: 'class-conditional gated PixelCNN (van den Oord et al. 2016): one-hot classes added inside every gate',
  defaults: { ...DEFAULT_PIXELCNN_SIZE, leak: false, conditionSize: 0, conditionMapChannels: 0 },
  options: [],
  retired: RETIRED_LATENT_FIELDS,
  fit: (config: ConditionalConfig, data: DataShape) => {
    if (config.conditionSize > 0 || config.conditionMapChannels > 0) return config;
    if (data.classes === 0) throw new Error(`dataset ${data.name} has no class labels: a class-conditional model cannot be trained on it`);
    return { ...config, conditionSize: data.classes };
  },
  validate: (config) => {
    validatePixelCnnSize(config);
    checkInteger(config, 'conditionSize', 0);
    checkInteger(config, 'conditionMapChannels', 0);
    if (config.conditionSize === 0 && config.conditionMapChannels === 0) {
      throw new Error('model config: a conditional model needs conditionSize (number of classes) or conditionMapChannels > 0');
    }
  },
  describe: (config) => `conditional: ${describeSize(config)}` +
    `${config.conditionSize ? `, conditioned on ${config.conditionSize} classes` : ''}` +
    `${config.conditionMapChannels ? `, on a ${config.conditionMapChannels}-channel map` : ''}`,
  build: (config) => new GatedPixelCNN(config, {
    blindSpot: false, conditionSize: config.conditionSize, conditionMapChannels: config.conditionMapChannels, leak: config.leak,
  }),
};
