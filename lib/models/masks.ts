/**
 * Masks that enforce the autoregressive order: raster scan over pixels and, within a pixel, colour
 * R, then G, then B. Hidden channels are split into `colours` contiguous groups; group g carries
 * information that the logits of colour g may use.
 *
 * Mask type A (first layer) lets colour g see input colours < g at the current pixel; type B (later
 * layers) lets group g see groups <= g.
 */
import * as tf from '@tensorflow/tfjs';

export type MaskType = 'A' | 'B';

/** Colour group of channel `index` out of `channels` split into `colours` groups. */
export function colourGroup(index: number, channels: number, colours: number): number {
  return Math.floor(index / (channels / colours));
}

/** Whether output group `out` may read input group `inp` at the current pixel. */
export function colourAllowed(type: MaskType, out: number, inp: number): boolean {
  return type === 'A' ? out > inp : out >= inp;
}

/**
 * The current-pixel colour mask for a 1x1 tap, shape [inChannels, outChannels].
 * `outGroupChannels` is the channel count the output groups are laid out over (gated layers have
 * two halves, tanh and sigmoid, each grouped over `channels`).
 */
export function colourMask(
  type: MaskType, inChannels: number, outChannels: number, colours: number,
  outGroupChannels = outChannels,
): Float32Array {
  const mask = new Float32Array(inChannels * outChannels);
  for (let i = 0; i < inChannels; i++) {
    const inGroup = colourGroup(i, inChannels, colours);
    for (let o = 0; o < outChannels; o++) {
      const outGroup = colourGroup(o % outGroupChannels, outGroupChannels, colours);
      mask[i * outChannels + o] = colourAllowed(type, outGroup, inGroup) ? 1 : 0;
    }
  }
  return mask;
}

/**
 * Full k x k mask of the original masked convolution: rows above the centre, the centre row left of
 * the centre, and the centre tap under the colour mask. Shape [k, k, in, out] (HWIO).
 */
export function spatialMask(type: MaskType, kernelSize: number, inChannels: number, outChannels: number, colours: number): tf.Tensor4D {
  const k = kernelSize;
  const centre = Math.floor(k / 2);
  const centreMask = colourMask(type, inChannels, outChannels, colours);
  const perTap = inChannels * outChannels;
  const mask = new Float32Array(k * k * perTap);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const offset = (r * k + c) * perTap;
      if (r < centre || (r === centre && c < centre)) mask.fill(1, offset, offset + perTap);
      else if (r === centre && c === centre) mask.set(centreMask, offset);
    }
  }
  return tf.tensor4d(mask, [k, k, inChannels, outChannels]);
}
