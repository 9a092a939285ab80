/**
 * Image grids: many small images (NHWC bytes, 1 or 3 colours) laid out in rows and columns, scaled up by
 * an integer factor, with thin separators between cells, optional thicker section breaks between rows and
 * optional per-row labels drawn with a built-in 3x5 pixel font (no system fonts, so output is exact).
 *
 * `composeGrid` is pure TypeScript (browser-safe) and returns RGBA pixels; `encodePng` (pngjs) and
 * `writePng` (fs) are the Node-only edges and load their modules lazily, so importing this file pulls in
 * no Node-only module.
 */

export type Rgb = [number, number, number];

export interface GridImages {
  /** count * height * width * colours values 0..255, NHWC. */
  images: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  /** 1 (grey) or 3 (RGB). */
  colours: number;
}

export interface GridLayout {
  rows: number;
  cols: number;
  /** Integer scale factor of every image (default 3). */
  scale?: number;
  /** Separator thickness in output pixels, also the outer border (default 1). */
  separator?: number;
  separatorColour?: Rgb;
  /** Draw a section break after these rows (0-based), e.g. [5] between the halves of a 12-row grid. */
  sectionBreaks?: number[];
  /** Section-break thickness (default 3). */
  sectionSeparator?: number;
  sectionColour?: Rgb;
  /** Text left of each row (letters, digits, space and . , : - + = / ( ) % _ ? #). */
  rowLabels?: string[];
  /** Scale of the 3x5 label font (default 2). */
  labelScale?: number;
  labelColour?: Rgb;
  /** Colour of the label margin. */
  background?: Rgb;
}

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, RGBA, row-major. */
  data: Uint8ClampedArray;
}

/** Where things are in a composed grid (for tests and for drawing on top). */
export interface GridGeometry {
  width: number;
  height: number;
  cellWidth: number;
  cellHeight: number;
  /** Left edge of the cells area (the label margin's width). */
  labelWidth: number;
  /** x of the left edge of each column's cells. */
  cellX: number[];
  /** y of the top edge of each row's cells. */
  cellY: number[];
}

const DEFAULT_SEPARATOR: Rgb = [128, 128, 128];
const DEFAULT_SECTION: Rgb = [220, 40, 40];
const DEFAULT_BACKGROUND: Rgb = [255, 255, 255];
const DEFAULT_LABEL: Rgb = [0, 0, 0];

/** 3x5 glyphs, five rows of three bits each. */
const FONT: Record<string, string> = {
  A: '010101111101101', B: '110101110101110', C: '011100100100011', D: '110101101101110', E: '111100110100111',
  F: '111100110100100', G: '011100101101011', H: '101101111101101', I: '111010010010111', J: '001001001101010',
  K: '101101110101101', L: '100100100100111', M: '101111111101101', N: '110101101101101', O: '010101101101010',
  P: '110101110100100', Q: '010101101110011', R: '110101110101101', S: '011100010001110', T: '111010010010010',
  U: '101101101101111', V: '101101101101010', W: '101101111111101', X: '101101010101101', Y: '101101010010010',
  Z: '111001010100111',
  '0': '111101101101111', '1': '010110010010111', '2': '110001010100111', '3': '110001010001110',
  '4': '101101111001001', '5': '111100110001110', '6': '011100111101111', '7': '111001010010010',
  '8': '111101111101111', '9': '111101111001110',
  ' ': '000000000000000', '.': '000000000000010', ',': '000000000010100', ':': '000010000010000',
  '-': '000000111000000', '+': '000010111010000', '=': '000111000111000', '/': '001001010100100',
  '(': '001010010010001', ')': '100010010010100', '%': '101001010100101', '_': '000000000000111',
  '?': '110001010000010', '#': '101111101111101',
};

function glyph(ch: string): string {
  return FONT[ch.toUpperCase()] ?? FONT['?'];
}

/** Width in pixels of `text` in the 3x5 font at `scale` (4 columns per character, the last gap dropped). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * 4 - 1) * scale;
}

function checkInteger(value: number, what: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new Error(`grid: ${what} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** Computes the layout without drawing. */
export function gridGeometry(images: Pick<GridImages, 'height' | 'width'>, layout: GridLayout): GridGeometry {
  const rows = checkInteger(layout.rows, 'rows', 1);
  const cols = checkInteger(layout.cols, 'cols', 1);
  const scale = checkInteger(layout.scale ?? 3, 'scale', 1);
  const sep = checkInteger(layout.separator ?? 1, 'separator', 0);
  const section = checkInteger(layout.sectionSeparator ?? 3, 'sectionSeparator', 0);
  const labelScale = checkInteger(layout.labelScale ?? 2, 'labelScale', 1);
  const breaks = new Set(layout.sectionBreaks ?? []);
  const cellWidth = images.width * scale;
  const cellHeight = images.height * scale;
  const labels = layout.rowLabels ?? [];
  const longest = labels.reduce((m, l) => Math.max(m, textWidth(l, labelScale)), 0);
  const labelWidth = longest > 0 ? longest + 4 * labelScale : 0;
  const cellX: number[] = [];
  for (let c = 0; c < cols; c++) cellX.push(labelWidth + sep + c * (cellWidth + sep));
  const cellY: number[] = [];
  let y = sep;
  for (let r = 0; r < rows; r++) {
    cellY.push(y);
    y += cellHeight + (r < rows - 1 && breaks.has(r) ? section : sep);
  }
  return { width: labelWidth + sep + cols * (cellWidth + sep), height: y, cellWidth, cellHeight, labelWidth, cellX, cellY };
}

/** Lays out images row by row (image k in row floor(k / cols)); missing cells stay separator-coloured. */
export function composeGrid(grid: GridImages, layout: GridLayout): RgbaImage {
  const { count, height, width, colours } = grid;
  if (colours !== 1 && colours !== 3) throw new Error(`grid: images must have 1 or 3 colours, got ${colours}`);
  if (grid.images.length !== count * height * width * colours) {
    throw new Error(`grid: ${grid.images.length} values for ${count} images of ${height}x${width}x${colours}`);
  }
  const geometry = gridGeometry(grid, layout);
  const scale = layout.scale ?? 3;
  const labelScale = layout.labelScale ?? 2;
  const out = new Uint8ClampedArray(geometry.width * geometry.height * 4);
  const fill = (x0: number, y0: number, w: number, h: number, [r, g, b]: Rgb) => {
    for (let y = y0; y < y0 + h; y++) {
      for (let x = x0; x < x0 + w; x++) {
        const o = (y * geometry.width + x) * 4;
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = b;
        out[o + 3] = 255;
      }
    }
  };
  fill(0, 0, geometry.labelWidth, geometry.height, layout.background ?? DEFAULT_BACKGROUND);
  fill(geometry.labelWidth, 0, geometry.width - geometry.labelWidth, geometry.height, layout.separatorColour ?? DEFAULT_SEPARATOR);
  // Section breaks: the band between row r and r+1.
  const sectionColour = layout.sectionColour ?? DEFAULT_SECTION;
  for (const r of layout.sectionBreaks ?? []) {
    if (r < 0 || r >= layout.rows - 1) continue;
    const top = geometry.cellY[r] + geometry.cellHeight;
    fill(geometry.labelWidth, top, geometry.width - geometry.labelWidth, geometry.cellY[r + 1] - top, sectionColour);
  }
  const cells = Math.min(count, layout.rows * layout.cols);
  for (let k = 0; k < cells; k++) {
    const x0 = geometry.cellX[k % layout.cols];
    const y0 = geometry.cellY[Math.floor(k / layout.cols)];
    const base = k * height * width * colours;
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const p = base + (i * width + j) * colours;
        const rgb: Rgb = colours === 1 ? [grid.images[p], grid.images[p], grid.images[p]] : [grid.images[p], grid.images[p + 1], grid.images[p + 2]];
        fill(x0 + j * scale, y0 + i * scale, scale, scale, rgb);
      }
    }
  }
  const labels = layout.rowLabels ?? [];
  const labelColour = layout.labelColour ?? DEFAULT_LABEL;
  for (let r = 0; r < Math.min(labels.length, layout.rows); r++) {
    const text = labels[r];
    const x0 = geometry.labelWidth - 2 * labelScale - textWidth(text, labelScale);
    const y0 = geometry.cellY[r] + Math.floor((geometry.cellHeight - 5 * labelScale) / 2);
    for (let k = 0; k < text.length; k++) {
      const bits = glyph(text[k]);
      for (let gy = 0; gy < 5; gy++) {
        for (let gx = 0; gx < 3; gx++) {
          if (bits[gy * 3 + gx] === '1') fill(x0 + (k * 4 + gx) * labelScale, y0 + gy * labelScale, labelScale, labelScale, labelColour);
        }
      }
    }
  }
  return { width: geometry.width, height: geometry.height, data: out };
}

/** PNG bytes of an RGBA image (Node: pngjs; for `tslab.display.png` or a file). */
export function encodePng(image: RgbaImage): Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { PNG } = require('pngjs') as typeof import('pngjs');
  // A plain image object, not `new PNG()`: that stream's constructor starts an async parser which queues a
  // process.nextTick callback holding the PNG and so this image's pixels. A training loop whose awaits all
  // resolve at once (wasm reads) never lets Node run that queue, so every grid's pixels stayed alive (RSS
  // +4 MB per 12x12 MNIST grid). PNG.sync.write only reads width, height, data and gamma; it accepts the
  // plain object PNG.sync.read returns, which @types/pngjs nevertheless types as PNG.
  const plain = {
    width: image.width,
    height: image.height,
    gamma: 0,
    data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
  };
  const buffer = PNG.sync.write(plain as unknown as InstanceType<typeof PNG>);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** composeGrid + encodePng. */
export function gridPng(grid: GridImages, layout: GridLayout): Uint8Array {
  return encodePng(composeGrid(grid, layout));
}

/** Writes PNG bytes to a file (Node only), creating its folder. */
export function writePng(path: string, png: Uint8Array): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('fs') as typeof import('fs');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const nodePath = require('path') as typeof import('path');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { writeFileAtomic } = require('../io/atomic-file') as typeof import('../io/atomic-file');
  fs.mkdirSync(nodePath.dirname(path), { recursive: true });
  writeFileAtomic(path, png);
}
