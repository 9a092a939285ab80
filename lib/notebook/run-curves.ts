/**
 * Recorded runs' curves on training images seen (lib/runs/compare.ts comparisonCurves gives them): each run's
 * per-step train bits/dim as a moving average and its test points, in a colour of its own and one legend entry
 * named by the run's label (its differing settings and id). Faint beside a live run (nb.train), full strength
 * in a comparison of chosen runs (nb.compareRuns). Browser-safe (plain data).
 */
import type { RunCurve } from '../runs/compare';
import { comparisonLayout, PlotlyFigure, PlotlyTrace } from './plotly';
import { defaultHalfWidth, downsample, movingAverage } from './training-chart';

/** One colour per run, none of them the live run's blues or its test red. */
export const RUN_COLOURS = ['#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface RunTraceOptions {
  /** Drawn faint (beside a live run) rather than at full strength. */
  faint?: boolean;
  /** Most points of a run's train curve (default 600). */
  maxPoints?: number;
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** The traces of one run: the smoothed train curve (in the legend) and its test points (in its legend group). */
export function runTraces(curve: RunCurve, colour: string, options: RunTraceOptions = {}): PlotlyTrace[] {
  const { imagesSeen, bitsPerDim } = curve.steps;
  const smoothed = downsample(imagesSeen, movingAverage(bitsPerDim, defaultHalfWidth(bitsPerDim.length)), options.maxPoints ?? 600);
  const tested = curve.epochs.test.flatMap((bits, k) => (bits === null ? [] : [{ x: curve.epochs.imagesSeen[k], y: bits }]));
  const width = curve.reference ? 3 : options.faint ? 1.5 : 2;
  const opacity = options.faint ? 0.5 : 1;
  return [
    {
      type: 'scatter', mode: 'lines', name: curve.label, legendgroup: curve.id, x: smoothed.x, y: smoothed.y.map(round4), opacity,
      line: { color: colour, width }, hovertemplate: '%{x:,} images: %{y:.3f} bits/dim<extra>%{fullData.name}, train</extra>',
    },
    {
      type: 'scatter', mode: 'lines+markers', name: `${curve.label}: test`, legendgroup: curve.id, showlegend: false,
      x: tested.map((t) => t.x), y: tested.map((t) => round4(t.y)), opacity,
      line: { color: colour, width: 1, dash: 'dot' }, marker: { color: colour, size: options.faint ? 6 : 8, symbol: 'diamond' },
      hovertemplate: '%{x:,} images: %{y:.4f} bits/dim<extra>%{fullData.name}</extra>',
    },
  ];
}

/** Every run's traces, each in the next colour. */
export function runCurveTraces(curves: readonly RunCurve[], options: RunTraceOptions = {}): PlotlyTrace[] {
  return curves.flatMap((curve, k) => runTraces(curve, RUN_COLOURS[k % RUN_COLOURS.length], options));
}

/** The chart of chosen runs side by side on training images seen. */
export function comparisonFigure(curves: readonly RunCurve[], title: string): PlotlyFigure {
  return {
    data: runCurveTraces(curves),
    layout: comparisonLayout(title, 'training images seen'),
  };
}
