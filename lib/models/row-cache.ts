/**
 * Activation caches of the fast sampler: plain Float32Arrays in NHWC order holding the last few rows of
 * one layer's activations for every sample (a ring of `rows` rows), with `pad` zero columns on both sides
 * so that a convolution window is a contiguous copy. Rows above the image read as zeros.
 *
 * Browser-safe: no Node-only imports.
 */

/** Raw value 0..255 -> the network input, computed like `scalePixels` (float32: v / 127.5 - 1). */
export const SCALED_VALUES: Float32Array = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 127.5) - 1);
  return table;
})();

export class RowCache {
  readonly data: Float32Array;
  /** Floats per cached row, padding included: (width + 2 pad) * channels. */
  readonly rowStride: number;
  readonly sampleStride: number;

  constructor(
    readonly count: number, readonly rows: number, readonly width: number, readonly pad: number, readonly channels: number,
  ) {
    this.rowStride = (width + 2 * pad) * channels;
    this.sampleStride = rows * this.rowStride;
    this.data = new Float32Array(count * this.sampleStride);
  }

  /** Offset of (sample n, image row, image column col), col in -pad .. width-1+pad. */
  offset(n: number, row: number, col: number): number {
    const slot = ((row % this.rows) + this.rows) % this.rows;
    return n * this.sampleStride + slot * this.rowStride + (col + this.pad) * this.channels;
  }

  /**
   * Copies `cols` pixels of (n, row) starting at column `col` into dst at dstOffset; rows above the image
   * (row < 0) leave dst untouched (callers pass zeroed buffers).
   */
  copy(n: number, row: number, col: number, cols: number, dst: Float32Array, dstOffset: number): void {
    if (row < 0 || cols <= 0) return;
    const start = this.offset(n, row, col);
    dst.set(this.data.subarray(start, start + cols * this.channels), dstOffset);
  }

  /** Writes one pixel's channels of (n, row, col), 0 <= col < width, from src[srcOffset ..]. */
  setPixel(n: number, row: number, col: number, src: ArrayLike<number>, srcOffset: number): void {
    const start = this.offset(n, row, col);
    for (let ch = 0; ch < this.channels; ch++) this.data[start + ch] = src[srcOffset + ch];
  }

  /** Writes a whole image row (width * channels values) of sample n from src[srcOffset ..]. */
  setRow(n: number, row: number, src: Float32Array, srcOffset: number): void {
    this.data.set(src.subarray(srcOffset, srcOffset + this.width * this.channels), this.offset(n, row, 0));
  }
}
