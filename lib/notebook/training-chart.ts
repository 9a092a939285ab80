/**
 * The training chart: train bits/dim per step (raw, faint, and smoothed) and test bits/dim per evaluated
 * epoch, against the training step, or against training images seen when asked (a notebook's chart, so that
 * earlier runs with other batch sizes, drawn beneath as other traces, share the axis). For objectives with parts
 * (a PixelVAE: the negative ELBO = reconstruction + KL) each part is drawn too, in the same unit: the
 * reconstruction with the total, the KL (orders of magnitude smaller) in a panel of its own below.
 * Browser-safe (pure data).
 */
import type { History, LossParts } from '../train/trainer';
import type { PlotlyFigure, PlotlyTrace } from './plotly';

export const TRAIN_RAW_COLOUR = '#9ecae1';
export const TRAIN_SMOOTH_COLOUR = '#1f5fbf';
export const TEST_COLOUR = '#d62728';

/** How each known part is drawn: its label, colour, and whether it gets the lower panel (a small term). */
const PART_STYLES: Record<string, { label: string; colour: string; lower: boolean }> = {
  reconstruction: { label: 'reconstruction', colour: '#2ca02c', lower: false },
  kl: { label: 'KL', colour: '#9467bd', lower: true },
};
const OTHER_PART_COLOURS = ['#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** Names of the parts recorded in a history (in first-seen order), empty for objectives without parts. */
export function historyParts(history: History): string[] {
  const names = new Set<string>();
  const add = (parts: LossParts | undefined) => { for (const name of Object.keys(parts ?? {})) names.add(name); };
  for (const s of history.steps) add(s.parts);
  for (const e of history.epochs) {
    add(e.trainParts);
    add(e.testParts);
  }
  return [...names];
}

/**
 * Centred moving average over 2 * halfWidth + 1 values (fewer at the ends): unlike an exponential average
 * it does not lag behind a steeply falling loss. `halfWidth` 0 returns the values unchanged.
 */
export function movingAverage(values: readonly number[], halfWidth: number): number[] {
  if (!Number.isInteger(halfWidth) || halfWidth < 0) throw new Error(`movingAverage: halfWidth must be an integer >= 0, got ${halfWidth}`);
  const prefix = [0];
  for (const v of values) prefix.push(prefix[prefix.length - 1] + v);
  return values.map((_, i) => {
    const from = Math.max(0, i - halfWidth);
    const to = Math.min(values.length, i + halfWidth + 1);
    return (prefix[to] - prefix[from]) / (to - from);
  });
}

/**
 * Exponential moving average with bias correction (as TensorBoard smooths): the first values are not
 * pulled towards zero. `weight` 0 returns the values unchanged.
 */
export function smooth(values: readonly number[], weight = 0.9): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`smooth: weight must be in [0, 1), got ${weight}`);
  const out: number[] = [];
  let average = 0;
  let norm = 0;
  for (const v of values) {
    average = weight * average + (1 - weight) * v;
    norm = weight * norm + (1 - weight);
    out.push(average / norm);
  }
  return out;
}

/** The default half-width for a run of `steps` steps: about 1/30 of the run, at least 1, at most 50. */
export function defaultHalfWidth(steps: number): number {
  return Math.min(50, Math.max(1, Math.round(steps / 30)));
}

/** At most `max` points: consecutive points averaged in equal buckets (x is the bucket's last x). */
export function downsample(x: readonly number[], y: readonly number[], max: number): { x: number[]; y: number[] } {
  if (x.length <= max) return { x: [...x], y: [...y] };
  const size = Math.ceil(x.length / max);
  const outX: number[] = [];
  const outY: number[] = [];
  for (let start = 0; start < x.length; start += size) {
    const end = Math.min(start + size, x.length);
    let sum = 0;
    for (let i = start; i < end; i++) sum += y[i];
    outX.push(x[end - 1]);
    outY.push(sum / (end - start));
  }
  return { x: outX, y: outY };
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

export interface TrainingChartOptions {
  title?: string;
  /** Half-width of the train curve's moving average in steps (default: defaultHalfWidth). */
  halfWidth?: number;
  /** Steps per epoch: test points sit at the end of their epoch. */
  batchesPerEpoch: number;
  /** Most raw train points drawn (default 1500). */
  maxPoints?: number;
  /** The step an interrupt stopped the run after: marked by a dashed line, and named in the title. */
  interruptedAt?: number;
  /** Training images seen after a step: given, the x axis is images seen (hover still names the step). */
  imagesSeen?: (step: number) => number;
  /** Other runs' traces on the same axes (./run-curves.ts), drawn beneath this run's. */
  otherRuns?: PlotlyTrace[];
}

/** The traces of each part: smoothed train (per step) and test (per evaluated epoch), on the upper or lower y axis. */
function partTraces(history: History, options: TrainingChartOptions, halfWidth: number): { traces: PlotlyTrace[]; lower: boolean } {
  const traces: PlotlyTrace[] = [];
  let lower = false;
  historyParts(history).forEach((name, k) => {
    const style = PART_STYLES[name] ?? { label: name, colour: OTHER_PART_COLOURS[k % OTHER_PART_COLOURS.length], lower: false };
    const axis = style.lower ? 'y2' : 'y';
    lower ||= style.lower;
    const steps = history.steps.filter((s) => s.parts?.[name] !== undefined);
    const smoothed = downsample(steps.map((s) => s.step), movingAverage(steps.map((s) => s.parts![name]), halfWidth), options.maxPoints ?? 1500);
    const tested = history.epochs.filter((e) => e.testParts?.[name] !== undefined);
    const digits = style.lower ? 5 : 3;
    traces.push({
      type: 'scatter', mode: 'lines', name: `${style.label} (train, smoothed)`, x: smoothed.x, y: smoothed.y.map(round6), yaxis: axis,
      line: { color: style.colour, width: 2, dash: 'dot' }, hovertemplate: `step %{x}: %{y:.${digits}f} bits/dim<extra>${style.label}, train</extra>`,
    });
    traces.push({
      type: 'scatter', mode: 'lines+markers', name: `${style.label} (test)`, yaxis: axis,
      x: tested.map((e) => (e.epoch + 1) * options.batchesPerEpoch), y: tested.map((e) => round6(e.testParts![name])),
      line: { color: style.colour, width: 2 }, marker: { color: style.colour, size: 8 },
      hovertemplate: `after epoch %{text}: %{y:.${digits}f} bits/dim<extra>${style.label}, test</extra>`, text: tested.map((e) => String(e.epoch + 1)),
    });
  });
  return { traces, lower };
}

/** A dashed vertical line at `step` across the plot, labelled, and the title saying where the run stopped. */
function markInterrupted(figure: PlotlyFigure, step: number): void {
  const title = figure.layout.title as { text: string };
  title.text = `${title.text} · interrupted at step ${step}`;
  figure.layout.shapes = [{ type: 'line', xref: 'x', yref: 'paper', x0: step, x1: step, y0: 0, y1: 1, line: { color: '#555555', width: 1.5, dash: 'dash' } }];
  figure.layout.annotations = [{ xref: 'x', yref: 'paper', x: step, y: 1, text: 'interrupted', showarrow: false, xanchor: 'right', yanchor: 'bottom', font: { size: 11, color: '#555555' } }];
}

/** Moves the figure's x values from steps to images seen; the hover keeps the step (in customdata). */
function onImagesSeen(figure: PlotlyFigure, imagesSeen: (step: number) => number): void {
  for (const trace of figure.data) {
    trace.customdata = trace.x;
    trace.x = trace.x.map(imagesSeen);
    if (typeof trace.hovertemplate === 'string') trace.hovertemplate = trace.hovertemplate.replace('step %{x}', 'step %{customdata} (%{x:,} images)');
  }
  const xaxis = figure.layout.xaxis as { title: { text: string } };
  xaxis.title = { text: 'training images seen' };
  const mark = figure.layout.shapes as { x0: number; x1: number }[] | undefined;
  const label = figure.layout.annotations as { x: number }[] | undefined;
  for (const item of [...(mark ?? []), ...(label ?? [])]) {
    if ('x0' in item) item.x0 = item.x1 = imagesSeen(item.x0);
    else item.x = imagesSeen(item.x);
  }
}

/** The figure for a training history (any length, including empty). */
export function trainingFigure(history: History, options: TrainingChartOptions): PlotlyFigure {
  const steps = history.steps.map((s) => s.step);
  const bits = history.steps.map((s) => s.bitsPerDim);
  const halfWidth = options.halfWidth ?? defaultHalfWidth(steps.length);
  const raw = downsample(steps, bits, options.maxPoints ?? 1500);
  const smoothed = downsample(steps, movingAverage(bits, halfWidth), options.maxPoints ?? 1500);
  const tested = history.epochs.filter((e) => e.testBitsPerDim !== undefined);
  const parts = partTraces(history, options, halfWidth);
  const total = parts.traces.length > 0 ? 'negative ELBO, bits/dim' : 'bits/dim';
  const figure: PlotlyFigure = {
    data: [
      {
        type: 'scatter', mode: 'lines', name: 'train (per step)', x: raw.x, y: raw.y.map(round4),
        line: { color: TRAIN_RAW_COLOUR, width: 1 }, hovertemplate: 'step %{x}: %{y:.3f} bits/dim<extra>train</extra>',
      },
      {
        type: 'scatter', mode: 'lines', name: `train (average of ${2 * halfWidth + 1} steps)`, x: smoothed.x, y: smoothed.y.map(round4),
        line: { color: TRAIN_SMOOTH_COLOUR, width: 2.5 }, hovertemplate: 'step %{x}: %{y:.3f} bits/dim<extra>train, smoothed</extra>',
      },
      {
        type: 'scatter', mode: 'lines+markers', name: 'test',
        x: tested.map((e) => (e.epoch + 1) * options.batchesPerEpoch), y: tested.map((e) => round4(e.testBitsPerDim!)),
        line: { color: TEST_COLOUR, width: 2.5 }, marker: { color: TEST_COLOUR, size: 9 },
        hovertemplate: 'after epoch %{text}: %{y:.4f} bits/dim<extra>test</extra>', text: tested.map((e) => String(e.epoch + 1)),
      },
      ...parts.traces,
    ],
    layout: {
      title: { text: options.title ?? 'bits per dimension (lower is better)', font: { size: 15 } },
      xaxis: { title: { text: 'training step' }, rangemode: 'tozero', zeroline: false },
      yaxis: { title: { text: total }, type: 'log', tickformat: '.2f' },
      legend: { orientation: 'h', y: -0.2 },
      margin: { l: 60, r: 20, t: 40, b: 70 },
      paper_bgcolor: '#ffffff',
      plot_bgcolor: '#ffffff',
    },
  };
  if (options.interruptedAt !== undefined) markInterrupted(figure, options.interruptedAt);
  if (parts.lower) {
    // Two panels sharing the step axis: the total (and large parts) above, the small parts (KL) below, linear.
    figure.layout.yaxis = { title: { text: total }, type: 'log', tickformat: '.2f', domain: [0.36, 1] };
    figure.layout.yaxis2 = { title: { text: 'KL, bits/dim' }, rangemode: 'tozero', domain: [0, 0.26], anchor: 'x', tickformat: '.4f' };
    figure.layout.xaxis = { title: { text: 'training step' }, rangemode: 'tozero', zeroline: false, anchor: 'y2' };
    figure.layout.legend = { orientation: 'h', y: -0.12 };
    figure.layout.height = 560; // chartHtml sizes its container to it
  }
  if (options.imagesSeen) onImagesSeen(figure, options.imagesSeen);
  if (options.otherRuns?.length) figure.data = [...options.otherRuns, ...figure.data];
  return figure;
}
