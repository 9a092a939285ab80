/** Small models for the sampler tests (not a test file itself). */
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig, ModelInput, PixelModel } from '../../lib/models';

export const HEIGHT = 6;
export const WIDTH = 7;

/** A tiny model of each kind; 'conditional' takes a 3-class vector, 'conditional-map' a 2-channel map. */
export type TestKind = 'simple' | 'gated' | 'gated-blindspot' | 'conditional' | 'conditional-map';
export const TEST_KINDS: TestKind[] = ['simple', 'gated', 'gated-blindspot', 'conditional', 'conditional-map'];

export function smallModel(kind: TestKind, colours: number, overrides: ModelInput = {}): PixelModel {
  const condition: ModelInput = kind === 'conditional' ? { kind, conditionSize: 3 }
    : kind === 'conditional-map' ? { kind: 'conditional', conditionMapChannels: 2 } : { kind };
  const model = buildModel(modelConfig({
    ...condition, colours, kernelSize: 3, layers: 2, channels: 4 * colours, height: HEIGHT, width: WIDTH, seed: 5, ...overrides,
  }));
  sharpen(model);
  return model;
}

/**
 * Scales the weights up so that the output distributions are peaked and depend strongly on the context.
 * At the initial scale every distribution is close to uniform, so a sampler that computed wrong logits
 * would still mostly reproduce the draws of the right one (the draw is then decided by the uniform).
 */
export function sharpen(model: PixelModel, hidden = 2.5, output = 12): void {
  for (const [name, variable] of model.params.variables) {
    if (!name.endsWith('weight') && !name.endsWith('.vector')) continue;
    const factor = name.startsWith('output.') ? output : hidden;
    tf.tidy(() => variable.assign(tf.mul(variable, factor)));
  }
}

/** Deterministic "test images": a diagonal gradient with some texture. */
export function testImages(count: number, colours: number): Uint8Array {
  const out = new Uint8Array(count * HEIGHT * WIDTH * colours);
  for (let n = 0; n < count; n++) for (let i = 0; i < HEIGHT; i++) for (let j = 0; j < WIDTH; j++) for (let c = 0; c < colours; c++) {
    out[((n * HEIGHT + i) * WIDTH + j) * colours + c] = (n * 53 + i * 31 + j * 17 + c * 71 + ((i * j) % 5) * 23) % 256;
  }
  return out;
}

/** Condition options for a test kind and sample count. */
export function conditionFor(kind: TestKind, count: number): { labels?: number[]; map?: Float32Array } | undefined {
  if (kind === 'conditional') return { labels: Array.from({ length: count }, (_, n) => (n * 2 + 1) % 3) };
  if (kind === 'conditional-map') return { map: Float32Array.from({ length: count * HEIGHT * WIDTH * 2 }, (_, k) => Math.sin(k * 0.7) * 2) };
  return undefined;
}
