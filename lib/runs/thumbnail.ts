/**
 * The thumbnail of a run record: the sample grid drawn at one pixel per image pixel without row labels, then
 * shrunk by a whole factor (averaging each block) until its longer side fits THUMBNAIL_SIZE: a 12x12 MNIST
 * grid becomes 176 px square, small enough for a table of runs.
 */
import { composeGrid, encodePng, GridImages, GridLayout, RgbaImage } from '../render/grid';

export const THUMBNAIL_SIZE = 192;

/** Averages each `factor` x `factor` block (a partial block at the edges over the pixels it has). */
export function shrinkImage(image: RgbaImage, factor: number): RgbaImage {
  if (factor === 1) return image;
  const width = Math.ceil(image.width / factor);
  const height = Math.ceil(image.height / factor);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sums = [0, 0, 0, 0];
      let n = 0;
      for (let dy = 0; dy < factor && y * factor + dy < image.height; dy++) {
        for (let dx = 0; dx < factor && x * factor + dx < image.width; dx++) {
          const from = ((y * factor + dy) * image.width + x * factor + dx) * 4;
          for (let c = 0; c < 4; c++) sums[c] += image.data[from + c];
          n++;
        }
      }
      for (let c = 0; c < 4; c++) data[(y * width + x) * 4 + c] = sums[c] / n;
    }
  }
  return { width, height, data };
}

/** PNG bytes of the grid's thumbnail; `layout` is the grid's own (its rows, columns and section breaks are kept). */
export function thumbnailPng(grid: GridImages, layout: Pick<GridLayout, 'rows' | 'cols' | 'sectionBreaks'>, maxSide = THUMBNAIL_SIZE): Uint8Array {
  const full = composeGrid(grid, { rows: layout.rows, cols: layout.cols, sectionBreaks: layout.sectionBreaks, scale: 1, separator: 1, sectionSeparator: 2 });
  const factor = Math.max(1, Math.ceil(Math.max(full.width, full.height) / maxSide));
  return encodePng(shrinkImage(full, factor));
}
