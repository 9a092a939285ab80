/**
 * What a live sampler widget carries (the JSON embedded in the report next to the browser bundle): the model
 * config, its weights (float32, or float16 halving the size), a few test images, class names and the
 * widget's defaults; plus the float16 and base64 codecs both sides use.
 *
 * Browser-safe: no Node-only imports (lib/live/browser.ts decodes it; lib/live/index.ts builds it in Node).
 */
import type { ModelConfig } from '../models/registry';

export type WeightDtype = 'float32' | 'float16';

export interface LiveTensorEntry {
  name: string;
  shape: number[];
  /** Offset and length in values (not bytes) into the weight data. */
  offset: number;
  length: number;
}

export interface LiveImages {
  count: number;
  height: number;
  width: number;
  colours: number;
  /** count * H * W * C bytes (NHWC), base64. */
  data: string;
  /** One label per image (0 when unlabelled). */
  labels: number[];
}

export interface LiveDefaults {
  /** The sample grid: rows x cols images (count = rows * cols). */
  rows: number;
  cols: number;
  /** Integer scale of each image on the canvas. */
  scale: number;
  seed: number;
  temperature: number;
  /** Rows kept when completing a test image. */
  givenRows: number;
}

export interface LivePayload {
  version: 1;
  title: string;
  modelConfig: ModelConfig;
  weights: { dtype: WeightDtype; tensors: LiveTensorEntry[]; data: string };
  images: LiveImages;
  classNames: string[];
  defaults: LiveDefaults;
}

// --- base64 (btoa/atob exist in browsers and in Node >= 16) ---

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + chunk)));
  return btoa(out);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// --- float16 (IEEE 754 binary16, round to nearest even) ---

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 -> its binary16 bits (overflow -> +-Infinity, NaN kept, subnormals rounded). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mantissa >>> 13;
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 values -> the float32 values float16 storage gives back (what the browser will compute with). */
export function roundToHalf(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = fromHalfBits(toHalfBits(values[i]));
  return out;
}

/** Named weights -> the payload's weight block. */
export function encodeWeights(weights: Map<string, { shape: number[]; values: Float32Array }>, dtype: WeightDtype): LivePayload['weights'] {
  const tensors: LiveTensorEntry[] = [];
  let total = 0;
  for (const [name, { shape, values }] of weights) {
    tensors.push({ name, shape, offset: total, length: values.length });
    total += values.length;
  }
  let bytes: Uint8Array;
  if (dtype === 'float32') {
    const data = new Float32Array(total);
    let k = 0;
    for (const { values } of weights.values()) data.set(values, tensors[k++].offset);
    bytes = new Uint8Array(data.buffer);
  } else {
    const data = new Uint16Array(total);
    let k = 0;
    for (const { values } of weights.values()) {
      const offset = tensors[k++].offset;
      for (let i = 0; i < values.length; i++) data[offset + i] = toHalfBits(values[i]);
    }
    bytes = new Uint8Array(data.buffer);
  }
  return { dtype, tensors, data: bytesToBase64(bytes) };
}

/** The payload's weight block -> named float32 weights. */
export function decodeWeights(block: LivePayload['weights']): Map<string, { shape: number[]; values: Float32Array }> {
  const bytes = base64ToBytes(block.data);
  const aligned = new Uint8Array(bytes); // own buffer, offset 0
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  if (block.dtype === 'float32') {
    const data = new Float32Array(aligned.buffer, 0, aligned.length / 4);
    for (const t of block.tensors) out.set(t.name, { shape: t.shape, values: data.slice(t.offset, t.offset + t.length) });
  } else if (block.dtype === 'float16') {
    const data = new Uint16Array(aligned.buffer, 0, aligned.length / 2);
    for (const t of block.tensors) {
      const values = new Float32Array(t.length);
      for (let i = 0; i < t.length; i++) values[i] = fromHalfBits(data[t.offset + i]);
      out.set(t.name, { shape: t.shape, values });
    }
  } else {
    throw new Error(`live sampler: unknown weight dtype ${String(block.dtype)}`);
  }
  return out;
}
