/**
 * The live training display: a progress line and the training chart, each one output that is replaced in
 * place (tslab.newDisplay()), throttled so a fast run does not flood the notebook with updates. The same
 * line also goes to $PIXEL_REPORT_STATUS_FILE when set (the report command shows it on its terminal).
 *
 * Node only.
 */
import { writeFileAtomic } from '../io/atomic-file';
import type { BatchInfo, EpochRecord, History, LossParts } from '../train/trainer';
import { escapeHtml, formatDuration } from './html';
import type { Output, Outputs } from './output';
import { chartHtml, PlotlyTrace } from './plotly';
import { trainingFigure } from './training-chart';

export interface LiveTrainingOptions {
  epochs: number;
  batchesPerEpoch: number;
  batchSize: number;
  /** Seconds between chart updates (default 5); epoch ends and the finish always update. */
  chartEverySeconds?: number;
  /** Seconds between progress-line updates (default 1). */
  progressEverySeconds?: number;
  title?: string;
  /** Training images seen after a step: given, the chart's x axis is images seen (./training-chart.ts). */
  imagesSeen?: (step: number) => number;
  /** Earlier runs' traces, drawn beneath this run's in every render (static: computed once). */
  otherRuns?: PlotlyTrace[];
  /** Clock in milliseconds (tests). */
  now?: () => number;
  /** Where the status line goes besides the notebook (default $PIXEL_REPORT_STATUS_FILE). */
  statusFile?: string;
}

/** Parts of a loss as "reconstruction 1.234 + kl 0.00123" (bits/dim; small parts with more digits). */
export function partsText(parts: LossParts): string {
  return Object.entries(parts).map(([name, v]) => `${name} ${v.toFixed(Math.abs(v) < 0.1 ? 5 : 3)}`).join(' + ');
}

export class LiveTraining {
  private readonly progress: Output;
  private readonly chart: Output;
  private readonly now: () => number;
  private readonly started: number;
  private lastProgress = -Infinity;
  private lastChart = -Infinity;
  private lastLine = '';
  private stepsDone = 0;
  /** The divergence warning last shown ("kind@since"), so a new one is shown at once. */
  private shownWarning = '';
  /** Seconds spent in training steps (evaluation excluded), and when the last step or epoch ended. */
  private trainSeconds = 0;
  private mark: number;
  /** Number of chart renders so far (tests). */
  chartUpdates = 0;

  constructor(outputs: Outputs, private readonly options: LiveTrainingOptions) {
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
    this.mark = this.started;
    this.progress = outputs.live();
    this.chart = outputs.live();
    this.showLine('starting: the first steps compile kernels and are slower');
  }

  private statusFile(): string | undefined {
    return this.options.statusFile ?? process.env.PIXEL_REPORT_STATUS_FILE;
  }

  private lineHtml(text: string): string {
    return `<div class="pixel-progress" style="font-family:monospace;font-size:13px;white-space:pre-wrap">${escapeHtml(text)}</div>`;
  }

  private showLine(text: string): void {
    this.lastLine = text;
    this.progress.html(this.lineHtml(text));
    const file = this.statusFile();
    if (file) {
      try {
        // Atomic so the report command, polling this file, never reads half a line; no fsync: a lost line is harmless.
        writeFileAtomic(file, `${text}\n`, { durable: false });
      } catch {
        // the status file is a convenience for the report command's terminal; never fail training over it
      }
    }
  }

  /** The last progress line shown. */
  get line(): string {
    return this.lastLine;
  }

  private elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  private totalSteps(): number {
    return this.options.epochs * this.options.batchesPerEpoch;
  }

  private progressText(info: BatchInfo, history: History): string {
    const { epochs, batchesPerEpoch, batchSize } = this.options;
    const elapsed = this.elapsed();
    const rate = this.stepsDone / Math.max(this.trainSeconds, 1e-9);
    const left = (this.totalSteps() - info.step) / Math.max(rate, 1e-9);
    const recent = history.steps.slice(-20);
    const mean = recent.reduce((a, s) => a + s.bitsPerDim, 0) / Math.max(recent.length, 1);
    const lastTest = [...history.epochs].reverse().find((e) => e.testBitsPerDim !== undefined);
    // A divergence warning leads the line: the report command's terminal may cut the line's end off.
    return `${info.divergence ? `WARNING ${info.divergence.message} · ` : ''}epoch ${info.epoch + 1}/${epochs} · batch ${info.batch + 1}/${batchesPerEpoch} · step ${info.step}/${this.totalSteps()}` +
      ` · train ${info.bitsPerDim.toFixed(3)} bits/dim${info.parts ? ` (${partsText(info.parts)})` : ''} (last 20: ${mean.toFixed(3)})` +
      `${lastTest ? ` · test ${lastTest.testBitsPerDim!.toFixed(3)} after epoch ${lastTest.epoch + 1}` : ''}` +
      ` · ${(rate * batchSize).toFixed(1)} images/s · ${formatDuration(elapsed)} elapsed · ~${formatDuration(left)} left (+ evaluation)`;
  }

  private renderChart(history: History, interruptedAt?: number): void {
    const { batchesPerEpoch, title, imagesSeen, otherRuns } = this.options;
    this.chart.html(chartHtml(trainingFigure(history, { batchesPerEpoch, title, interruptedAt, imagesSeen, otherRuns })));
    this.chartUpdates += 1;
    this.lastChart = this.now();
  }

  /** Call from Trainer.run's onBatch. */
  onBatch(info: BatchInfo, history: History): void {
    this.stepsDone += 1;
    const t = this.now();
    this.trainSeconds += (t - this.mark) / 1000;
    this.mark = t;
    const isLast = info.batch + 1 === info.batchesPerEpoch;
    const warning = info.divergence ? `${info.divergence.symptom}@${info.divergence.since}` : '';
    const newWarning = warning !== this.shownWarning;
    if (isLast || newWarning || t - this.lastProgress >= (this.options.progressEverySeconds ?? 1) * 1000) {
      this.shownWarning = warning;
      this.lastProgress = t;
      let text = this.progressText(info, history);
      if (isLast) text += ' · evaluating on the test set…';
      this.showLine(text);
    }
    if (t - this.lastChart >= (this.options.chartEverySeconds ?? 5) * 1000) this.renderChart(history);
  }

  /** Call from Trainer.run's onEpoch: always redraws (a new test point). */
  onEpoch(record: EpochRecord, history: History): void {
    this.mark = this.now(); // the time since the last step was evaluation: not counted in the training rate
    this.renderChart(history);
    this.showLine(`epoch ${record.epoch + 1}/${this.options.epochs} done: train ${record.trainBitsPerDim.toFixed(4)} bits/dim` +
      `${record.trainParts ? ` (${partsText(record.trainParts)})` : ''}` +
      `${record.testBitsPerDim !== undefined ? `, test ${record.testBitsPerDim.toFixed(4)} bits/dim` : ''}` +
      `${record.testParts ? ` (${partsText(record.testParts)})` : ''}` +
      ` (${formatDuration(record.seconds)}) · ${formatDuration(this.elapsed())} elapsed`);
  }

  /** Final state: the chart of the whole history and a closing line. */
  finish(history: History, text: string): void {
    this.renderChart(history);
    this.showLine(text);
  }

  /** Stopped early (Kernel -> Interrupt) after step `step`: the chart so far, marked where it stopped, and a closing line. */
  interrupted(history: History, step: number, text: string): void {
    this.renderChart(history, step);
    this.showLine(text);
  }
}
