/**
 * Pictures and tables of the diagnostics for notebooks and reports (notebook 05-blind-spot): receptive
 * fields as colour-coded pixel maps with a legend, tables of them with the blind area counted, and the
 * likelihood check's table.
 *
 * Each field is drawn as an image: one square per input pixel, coloured by its class (`FIELD_PALETTE`);
 * seen pixels are shaded by the gradient's magnitude (log scale, darker = stronger), the output pixel is
 * yellow. Tables are HTML (for `tslab.display.html`) with the images inlined as PNG data URIs.
 *
 * The pixel composition (`fieldRgba`) is browser-safe; PNG encoding goes through lib/render/grid.ts
 * `encodePng` (pngjs, loaded lazily) and the data URIs use Node's Buffer where there is one.
 */
import { encodePng, Rgb, RgbaImage } from '../render/grid';
import type { ColourStudy, FieldStudy } from './blind-spot';
import type { LikelihoodCheck } from './likelihood';
import { FIELD_CLASSES, FieldClass, ReceptiveField } from './receptive-field';

/** Colours of the classes; 'seen' is the darkest shade (strongest gradient), 'seenWeak' the lightest. */
export const FIELD_PALETTE: Record<FieldClass | 'output' | 'seenWeak', Rgb> = {
  output: [255, 196, 0],
  seen: [8, 48, 107],
  seenWeak: [189, 215, 238],
  blind: [215, 25, 28],
  unreachable: [250, 250, 250],
  future: [200, 200, 200],
  leaking: [200, 0, 200],
};

const GRID_LINE: Rgb = [255, 255, 255];
const COLOUR_NAMES = ['R', 'G', 'B'];

/** Decades of gradient magnitude the seen shading spans below the field's maximum. */
const DECADES = 6;

export interface FieldImageOptions {
  /** Input colour (channel) to show, for RGB models (default 0). */
  inputColour?: number;
  /** Output pixels per input pixel (default 10). */
  scale?: number;
  /** Grid line width between pixels (default 1; 0 for none). */
  line?: number;
}

function lerp(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * t)) as Rgb;
}

/** The colour of each input pixel of one channel of a field, [H * W] RGB triples. */
export function fieldColours(field: ReceptiveField, inputColour = 0): Rgb[] {
  const { height, width, colours, magnitude, classes, output } = field;
  if (!Number.isInteger(inputColour) || inputColour < 0 || inputColour >= colours) {
    throw new Error(`field image: inputColour must be 0..${colours - 1}, got ${inputColour}`);
  }
  let max = 0;
  for (let k = 0; k < magnitude.length; k++) if (classes[k] === FIELD_CLASSES.indexOf('seen')) max = Math.max(max, magnitude[k]);
  const top = Math.log10(max);
  const out: Rgb[] = [];
  for (let r = 0; r < height; r++) {
    for (let q = 0; q < width; q++) {
      const index = (r * width + q) * colours + inputColour;
      const cls = FIELD_CLASSES[classes[index]];
      if (r === output.row && q === output.col && inputColour === output.colour) out.push(FIELD_PALETTE.output);
      else if (cls === 'seen') {
        const t = Math.min(1, Math.max(0, (Math.log10(magnitude[index]) - top + DECADES) / DECADES));
        out.push(lerp(FIELD_PALETTE.seenWeak, FIELD_PALETTE.seen, t));
      } else out.push(FIELD_PALETTE[cls]);
    }
  }
  return out;
}

/** One channel of a field as an RGBA image (squares of `scale` pixels separated by thin lines). */
export function fieldRgba(field: ReceptiveField, options: FieldImageOptions = {}): RgbaImage {
  const scale = options.scale ?? 10;
  const line = options.line ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`field image: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(line) || line < 0) throw new Error(`field image: line must be a non-negative integer, got ${line}`);
  const colours = fieldColours(field, options.inputColour ?? 0);
  const step = scale + line;
  const width = field.width * step + line;
  const height = field.height * step + line;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [cx, cy] = [x % step, y % step];
      const onLine = cx < line || cy < line;
      const rgb = onLine ? GRID_LINE : colours[Math.floor(y / step) * field.width + Math.floor(x / step)];
      const o = (y * width + x) * 4;
      data[o] = rgb[0];
      data[o + 1] = rgb[1];
      data[o + 2] = rgb[2];
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

export function fieldPng(field: ReceptiveField, options: FieldImageOptions = {}): Uint8Array {
  return encodePng(fieldRgba(field, options));
}

function base64(bytes: Uint8Array): string {
  const NodeBuffer = (globalThis as { Buffer?: { from(b: Uint8Array): { toString(encoding: string): string } } }).Buffer;
  if (NodeBuffer) return NodeBuffer.from(bytes).toString('base64');
  let binary = '';
  for (let k = 0; k < bytes.length; k++) binary += String.fromCharCode(bytes[k]);
  return btoa(binary);
}

/** An <img> of PNG bytes, inlined. */
export function pngImgHtml(png: Uint8Array, alt = ''): string {
  return `<img src="data:image/png;base64,${base64(png)}" alt="${escapeHtml(alt)}" style="image-rendering: pixelated">`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function swatch(rgb: Rgb, border = false): string {
  return `<span style="display:inline-block;width:14px;height:14px;vertical-align:middle;background:rgb(${rgb.join(',')});${border ? 'border:1px solid #999;' : ''}"></span>`;
}

/** The legend of the field images. */
export function fieldLegendHtml(): string {
  const items: [string, string][] = [
    [swatch(FIELD_PALETTE.output), 'the output subpixel'],
    [`${swatch(FIELD_PALETTE.seen)}${swatch(lerp(FIELD_PALETTE.seenWeak, FIELD_PALETTE.seen, 0.5))}${swatch(FIELD_PALETTE.seenWeak)}`, `seen (gradient magnitude, log scale over ${DECADES} decades, darker = stronger)`],
    [swatch(FIELD_PALETTE.blind), 'blind: earlier in the order, inside the seen span, not seen'],
    [swatch(FIELD_PALETTE.unreachable, true), 'unreachable: earlier, beyond the network\'s reach'],
    [swatch(FIELD_PALETTE.future), 'future: at or after the output in the order, not seen (as it should be)'],
    [swatch(FIELD_PALETTE.leaking), 'leaking: at or after the output, yet seen'],
  ];
  return `<div style="font-family:sans-serif;font-size:13px;line-height:1.7">${items.map(([s, t]) => `${s} ${escapeHtml(t)}`).join('<br>')}</div>`;
}

function countsLine(field: ReceptiveField): string {
  const { seen, blind, leaking } = field.counts;
  const parts = [`seen ${seen}`, `<b style="color:rgb(${FIELD_PALETTE.blind.join(',')})">blind ${blind}</b>`];
  if (leaking > 0) parts.push(`<b style="color:rgb(${FIELD_PALETTE.leaking.join(',')})">leaking ${leaking}</b>`);
  return parts.join(', ');
}

const TABLE_STYLE = 'border-collapse:collapse;font-family:sans-serif;font-size:13px';
const CELL_STYLE = 'padding:6px;text-align:center;vertical-align:top;border:1px solid #ddd';

/** The depth study: rows = model kinds, columns = depths, each cell the field with its counts. */
export function fieldStudyHtml(study: FieldStudy, options: FieldImageOptions = {}): string {
  const header = `<tr><th style="${CELL_STYLE}"></th>${study.depths.map((d) => `<th style="${CELL_STYLE}">${d} layer${d === 1 ? '' : 's'}</th>`).join('')}</tr>`;
  const rows = study.kinds.map((kind, k) => {
    const cells = study.fields[k].map((field) => `<td style="${CELL_STYLE}">${pngImgHtml(fieldPng(field, options), `${kind}, ${field.counts.blind} blind`)}<br>${countsLine(field)}</td>`);
    return `<tr><th style="${CELL_STYLE}">${escapeHtml(kind)}</th>${cells.join('')}</tr>`;
  });
  const caption = `Receptive field of the centre pixel (${study.row}, ${study.col}) of a ${study.size}x${study.size} image, kernel ${study.kernelSize}x${study.kernelSize}`;
  return `<table style="${TABLE_STYLE}"><caption style="padding:4px">${escapeHtml(caption)}</caption>${header}${rows.join('')}</table>`;
}

/** The colour study: rows = output colour, columns = input colour (what R, G and B each see). */
export function colourStudyHtml(study: ColourStudy, options: FieldImageOptions = {}): string {
  const scale = options.scale ?? 24;
  const header = `<tr><th style="${CELL_STYLE}">output \\ input</th>${COLOUR_NAMES.map((c) => `<th style="${CELL_STYLE}">input ${c}</th>`).join('')}</tr>`;
  const rows = study.fields.map((field, c) => {
    const cells = COLOUR_NAMES.map((_, input) => `<td style="${CELL_STYLE}">${pngImgHtml(fieldPng(field, { ...options, scale, inputColour: input }), `output ${COLOUR_NAMES[c]}, input ${COLOUR_NAMES[input]}`)}</td>`);
    const own = COLOUR_NAMES.map((name, input) => {
      const cls = FIELD_CLASSES[field.classes[(field.output.row * field.width + field.output.col) * 3 + input]];
      return `${name}: ${cls}`;
    }).join(', ');
    return `<tr><th style="${CELL_STYLE}">output ${COLOUR_NAMES[c]}<br><span style="font-weight:normal">own pixel: ${own}</span><br><span style="font-weight:normal">${countsLine(field)}</span></th>${cells.join('')}</tr>`;
  });
  const caption = `${study.kind}, RGB: receptive fields of the centre pixel's three colours (${study.size}x${study.size} image)`;
  return `<table style="${TABLE_STYLE}"><caption style="padding:4px">${escapeHtml(caption)}</caption>${header}${rows.join('')}</table>`;
}

/** The likelihood checks side by side: one row per model. */
export function likelihoodTableHtml(rows: { label: string; check: LikelihoodCheck }[]): string {
  const head = ['model', 'images', 'one pass (bits/dim)', 'pixel by pixel (bits/dim)', 'difference', 'verdict', 'pixel-by-pixel time'];
  const body = rows.map(({ label, check }) => {
    const verdict = check.agrees ? 'agree' : '<b style="color:#c00">differ: the model sees what it predicts</b>';
    const cells = [escapeHtml(label), String(check.count), check.onePassBitsPerDim.toFixed(4), check.pixelByPixelBitsPerDim.toFixed(4),
      check.difference.toExponential(2), verdict, `${check.seconds.toFixed(1)} s (${check.method})`];
    return `<tr>${cells.map((c) => `<td style="${CELL_STYLE}">${c}</td>`).join('')}</tr>`;
  });
  return `<table style="${TABLE_STYLE}"><tr>${head.map((h) => `<th style="${CELL_STYLE}">${h}</th>`).join('')}</tr>${body.join('')}</table>`;
}
