/**
 * Shape arithmetic shared by the native and wasm `Sum` and `Add` kernels: which reductions and broadcasts are one
 * block of consecutive axes (bias gradients, per-image condition biases), as the flat loops over them see it.
 */
/**
 * A reduction over one block of consecutive axes that stops before the last axis, as [outer, rows, width]:
 * out[o, c] = sum_r x[(o * rows + r) * width + c]. Bias gradients reduce dy [N, H, W, C] over N, H, W (outer 1);
 * a per-image condition's bias [N, 1, 1, C] over H, W (outer N). Undefined for any other reduction.
 */
export function reductionBlock(shape: readonly number[], axes: readonly number[]): { outer: number; rows: number; width: number } | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  const first = sorted[0], last = sorted[sorted.length - 1];
  if (sorted.length === 0 || last >= shape.length - 1 || sorted.some((a, i) => a !== first + i)) return undefined;
  const product = (from: number, to: number) => shape.slice(from, to).reduce((p, v) => p * v, 1);
  return { outer: product(0, first), rows: product(first, last + 1), width: product(last + 1, shape.length) };
}

/**
 * How `small` repeats over `outShape` when it broadcasts over one block of axes, as [outer, middle, inner]:
 * out[o, m, i] = big[o, m, i] + small[o, i]. A [C] bias over [N, H, W, C] is outer 1; a per-image [N, 1, 1, C]
 * is outer N, middle H * W. Undefined for any other broadcast.
 */
export function broadcastBlock(outShape: readonly number[], small: readonly number[]): { outer: number; middle: number; inner: number } | undefined {
  if (small.length > outShape.length) return undefined;
  const padded = [...outShape.slice(small.length).map(() => 1), ...small];
  let from = 0;
  while (from < padded.length && padded[from] === outShape[from]) from++;
  let to = from;
  while (to < padded.length && padded[to] === 1) to++;
  if (padded.slice(to).some((d, i) => d !== outShape[to + i])) return undefined;
  const product = (start: number, end: number) => outShape.slice(start, end).reduce((p, v) => p * v, 1);
  const [outer, middle, inner] = [product(0, from), product(from, to), product(to, outShape.length)];
  // Equal shapes: one flat add
  return middle === 1 ? { outer: 1, middle: 1, inner: outer * inner } : { outer, middle, inner };
}

/** The shape a reduction over `axes` leaves: the axes dropped, or kept as 1 with keepDims. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}
