/**
 * RGB to greyscale exactly as PIL/Pillow's `Image.convert('L')` (and so torchvision's `Grayscale` on PIL
 * images) computes it.
 *
 * Browser-safe: no Node-only imports.
 *
 * Pillow documents the ITU-R 601-2 luma transform L = R * 299/1000 + G * 587/1000 + B * 114/1000, but its C
 * code (libImaging/Convert.c, `rgb2l`, since Pillow 3.x/4.x) computes it in 16-bit fixed point with rounding:
 *
 *     L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16
 *
 * (19595 + 38470 + 7471 = 65536, so white stays 255). This is what we use. It rounds to nearest, where the
 * documented formula read with integer division would truncate: for (R, G, B) = (10, 200, 30) Pillow gives
 * 124 (exact value 123.83), truncation would give 123. Checked against Debian's Pillow 9.4 on all 2^24 colours
 * (see datasets/README.md).
 */
import type { Dataset, Split } from './dataset';

/** Luma of one RGB pixel (each 0..255), as Pillow's convert('L'). */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** Converts interleaved RGB bytes (NHWC with C = 3) into one greyscale byte per pixel. */
export function rgbToGreyscale(rgb: Uint8Array): Uint8Array {
  if (rgb.length % 3 !== 0) {
    throw new Error(`rgbToGreyscale: input has ${rgb.length} bytes, not a multiple of 3 (interleaved RGB expected)`);
  }
  const n = rgb.length / 3;
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = (rgb[j] * 19595 + rgb[j + 1] * 38470 + rgb[j + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** The greyscale version of an RGB dataset (same labels and class names), named `name`. */
export function greyscaleDataset(dataset: Dataset, name: string): Dataset {
  if (dataset.channels !== 3) {
    throw new Error(`greyscaleDataset: dataset ${dataset.name} has ${dataset.channels} channels; expected 3 (RGB)`);
  }
  const grey = (s: Split): Split => ({ images: rgbToGreyscale(s.images), labels: s.labels, count: s.count });
  return { ...dataset, name, channels: 1, train: grey(dataset.train), test: grey(dataset.test) };
}
