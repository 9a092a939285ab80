/**
 * Plotly charts as self-contained HTML outputs.
 *
 * `plotlyBundleHtml()` inlines plotly.js (the 1 MB "basic" bundle: scatter, bar, pie) in one `<script>`;
 * a notebook shows it once, before its first chart, so charts work in the live notebook and in the
 * exported HTML report without a network. The bundle is wrapped so that it always sets `window.Plotly`:
 * under RequireJS (the classic notebook page) its UMD header would otherwise register an AMD module instead.
 *
 * `chartHtml(figure)` is a `<div>`, the figure as JSON in a `<script type="application/json">`, and a small
 * script that draws it (waiting briefly for Plotly). Each call makes fresh element ids, so a live output
 * can be replaced again and again.
 *
 * Node only (reads the bundle from node_modules).
 */
import * as fs from 'fs';

export interface PlotlyTrace {
  x: number[];
  y: number[];
  name: string;
  type?: 'scatter' | 'bar';
  mode?: 'lines' | 'markers' | 'lines+markers';
  line?: { color?: string; width?: number; dash?: string };
  marker?: { color?: string; size?: number; symbol?: string };
  opacity?: number;
  hovertemplate?: string;
  [key: string]: unknown;
}

export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
}

/** The layout of the project's comparison charts: a title, the x axis named, bits/dim on a log axis, the legend below. */
export function comparisonLayout(title: string, xTitle: string, yTitle = 'bits/dim'): Record<string, unknown> {
  return {
    title: { text: title, font: { size: 15 } },
    xaxis: { title: { text: xTitle }, rangemode: 'tozero', zeroline: false },
    yaxis: { title: { text: yTitle }, type: 'log', tickformat: '.2f' },
    legend: { orientation: 'h', y: -0.2 },
    margin: { l: 60, r: 20, t: 40, b: 70 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
  };
}

/** Marks the bundle's script element (tests count it: once per report). */
export const PLOTLY_BUNDLE_ATTRIBUTE = 'data-pixel-plotly-bundle';
/** Marks every chart's container. */
export const CHART_CLASS = 'pixel-chart';

let bundleCache: { version: string; code: string } | undefined;

function loadBundle(): { version: string; code: string } {
  if (!bundleCache) {
    const file = require.resolve('plotly.js-basic-dist-min');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const version = (require('plotly.js-basic-dist-min/package.json') as { version: string }).version;
    const code = fs.readFileSync(file, 'utf8');
    if (/<\/script/i.test(code)) throw new Error(`${file} contains "</script", so it cannot be inlined in HTML`);
    bundleCache = { version, code };
  }
  return bundleCache;
}

/** One `<script>` holding plotly.js; show it once per notebook, before the first chart. */
export function plotlyBundleHtml(): string {
  const { version, code } = loadBundle();
  // Hiding define/exports/module makes the UMD header take its browser-global branch (window.Plotly).
  return `<script ${PLOTLY_BUNDLE_ATTRIBUTE}="${version}">(function(define, exports, module) {\n${code}\n}).call(window);</script>` +
    `<div class="pixel-plotly-loaded" style="font-size:12px;color:#777">Chart library loaded: plotly.js ${version} (basic bundle, inlined).</div>`;
}

let chartCounter = 0;

function chartId(): string {
  chartCounter += 1;
  return `pixel-chart-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${chartCounter}`;
}

/** JSON that is safe inside a `<script>` element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface ChartOptions {
  /** Height in CSS pixels (default: the figure's `layout.height`, else 380). */
  height?: number;
  /** Maximum width in CSS pixels (default 900). */
  maxWidth?: number;
}

/** A chart output: container, figure JSON and the drawing script. */
export function chartHtml(figure: PlotlyFigure, options: ChartOptions = {}): string {
  const id = chartId();
  const height = options.height ?? (typeof figure.layout.height === 'number' ? figure.layout.height : 380);
  const maxWidth = options.maxWidth ?? 900;
  const script =
    `(function(){var el=document.getElementById(${JSON.stringify(id)});` +
    `var fig=JSON.parse(document.getElementById(${JSON.stringify(`${id}-data`)}).textContent);` +
    'function draw(n){if(window.Plotly){window.Plotly.react(el,fig.data,fig.layout,{displaylogo:false,responsive:true});}' +
    'else if(n<100){setTimeout(function(){draw(n+1);},100);}' +
    "else{el.textContent='The chart library (plotly.js) is not loaded: run the notebook from its first cell.';}}" +
    'draw(0);})();';
  return `<div class="${CHART_CLASS}" id="${id}" style="width:100%;max-width:${maxWidth}px;height:${height}px"></div>` +
    `<script type="application/json" id="${id}-data" class="${CHART_CLASS}-data">${scriptSafeJson(figure)}</script>` +
    `<script>${script}</script>`;
}
