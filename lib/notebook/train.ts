/**
 * `await nb.train(session)`: trains with a live progress line and chart, saving the notebook's checkpoint after
 * every epoch; or shows the chart of a run that is already finished. Kernel -> Interrupt (./interrupt.ts) stops it
 * at the next step boundary: the checkpoint then holds that step (mid-epoch position and running sums too), the
 * chart and progress line say where it stopped, `session.status` is 'interrupted', and running the cell again
 * continues from there (as does prepare with reuseCheckpoint: true, from the checkpoint).
 *
 * The run is recorded as it goes (./run-record.ts: its record, with a copy of each checkpoint, closed as finished,
 * interrupted or failed), and the chart, on training images seen, draws this notebook's other recorded runs
 * (./compare-runs.ts) as faint curves beneath the live one, each named by what differs from this run.
 *
 * Node only (files).
 */
import * as fs from 'fs';
import * as path from 'path';
import { imagesSeenAfter } from '../runs/record';
import { encodeCheckpoint } from '../train/checkpoint';
import { writeFileAtomic } from '../train/checkpoint-file';
import { checkpointRun } from '../train/run';
import type { BatchPosition } from '../data/batches';
import { currentRecord, otherRuns, otherRunTraces, RunChoice, runChoice, Warnings } from './compare-runs';
import { formatDuration, noteHtml } from './html';
import { interruptible } from './interrupt';
import { LiveTraining } from './live';
import { chartHtml, PlotlyTrace } from './plotly';
import { checkpointMeta, Recording } from './run-record';
import type { Session } from './session';
import { trainingFigure } from './training-chart';

export interface TrainOptions {
  /** The recorded runs drawn beside this one (default config.compare, else this notebook's newest 3 others). */
  compare?: RunChoice;
}

/** How a train() call that trained ended: what `session.onTrainingEnd` receives (a run record closes with it). */
export interface TrainingEnd {
  status: 'finished' | 'interrupted' | 'failed';
  /** What a failed call threw (it is thrown on after the hook). */
  error?: Error;
  /** The last completed step, and the next batch to train on (mid-epoch when interrupted). */
  step: number;
  position: BatchPosition;
  /** Wall-clock seconds of this call's training. */
  seconds: number;
  /** The checkpoint file (absolute path): it holds `step` unless the call failed (then the last epoch's, if any). */
  checkpointFile: string;
}

/** Saves the notebook's checkpoint (naming its run record), then its copy in the record folder. */
async function saveRunCheckpoint(session: Session, recording: Recording): Promise<void> {
  const bytes = encodeCheckpoint(await checkpointRun(session.run, checkpointMeta(session)));
  fs.mkdirSync(path.dirname(session.checkpointFile), { recursive: true });
  writeFileAtomic(session.checkpointFile, bytes);
  recording.saved(bytes);
}

/** The chart's x values: training images seen after a step (the last batch of an epoch may be short). */
function imagesSeen(session: Session): (step: number) => number {
  const { config } = session.run.trainer;
  const perEpoch = Math.min(session.dataset.train.count, config.limit ?? Infinity);
  return (step) => imagesSeenAfter(step, config.batchSize, perEpoch);
}

/** The other runs' faint curves, named against this run's record; warnings (a skipped record) shown as notes. */
function otherRunsChart(session: Session, choice: RunChoice | undefined): PlotlyTrace[] {
  const warnings = new Warnings();
  const current = currentRecord(session, warnings.warn);
  const traces = current ? otherRunTraces(current, otherRuns(session, runChoice(session, choice), warnings.warn)) : [];
  if (warnings.messages.size > 0) session.outputs.display.html(warnings.html());
  return traces;
}

/** Where a run stands, for messages: "step 57 (epoch 1 of 2, batch 57 of 100)". */
export function positionText(step: number, position: BatchPosition, epochs: number, batchesPerEpoch: number): string {
  return `step ${step} (epoch ${Math.min(position.epoch + 1, epochs)} of ${epochs}, batch ${position.batchIndex} of ${batchesPerEpoch})`;
}

/** Trains with a live progress line and chart (or shows the loaded run's chart); saves a checkpoint per epoch, and where an interrupt stopped it. */
export function train(session: Session, options: TrainOptions = {}): Promise<void> {
  return interruptible((signal) => trainUntilStopped(session, signal, options), session.interrupts);
}

async function trainUntilStopped(session: Session, signal: AbortSignal, options: TrainOptions): Promise<void> {
  const { run, config, outputs } = session;
  const trainer = run.trainer;
  const title = `${config.name}: bits per dimension (lower is better)`;
  if (session.start === 'reused' || trainer.finished) {
    const history = trainer.state.history;
    outputs.display.html(noteHtml(session.start === 'reused' ? session.startNote
      : `Already trained (${trainer.state.position.epoch} of ${trainer.config.epochs} epochs): showing the finished run. ` +
        'Run the prepare cell again to start over.'));
    const beside = otherRunsChart(session, options.compare);
    outputs.display.html(chartHtml(trainingFigure(history, { batchesPerEpoch: trainer.batchesPerEpoch(), title, imagesSeen: imagesSeen(session), otherRuns: beside })));
    return;
  }
  const recording = Recording.open(session);
  const beside = otherRunsChart(session, options.compare); // read once, drawn in every render
  const live = new LiveTraining(outputs, {
    epochs: trainer.config.epochs,
    batchesPerEpoch: trainer.batchesPerEpoch(),
    batchSize: trainer.config.batchSize,
    chartEverySeconds: config.chartEverySeconds,
    title,
    imagesSeen: imagesSeen(session),
    otherRuns: beside,
  });
  const started = performance.now();
  const ended = (status: TrainingEnd['status'], error?: Error): TrainingEnd => {
    const { step, position } = trainer.state;
    return { status, ...(error ? { error } : {}), step, position, seconds: (performance.now() - started) / 1000, checkpointFile: session.checkpointFile };
  };
  session.status = 'training';
  try {
    await trainer.run({
      onBatch: (info) => live.onBatch(info, trainer.state.history),
      onEpoch: async (record, history) => {
        live.onEpoch(record, history);
        await saveRunCheckpoint(session, recording);
      },
    }, { signal });
  } catch (error) {
    session.status = 'failed';
    const end = ended('failed', error as Error);
    recording.end(end);
    await session.onTrainingEnd?.(end);
    throw error;
  }
  const { history } = trainer.state;
  const end = ended(trainer.finished ? 'finished' : 'interrupted');
  const { step, position, seconds } = end;
  if (end.status === 'interrupted') {
    // Mid-epoch: the state holds the data position and the epoch's running sums, so the run resumes exactly.
    await saveRunCheckpoint(session, recording);
    live.interrupted(history, step, `interrupted at ${positionText(step, position, trainer.config.epochs, trainer.batchesPerEpoch())} ` +
      `after ${formatDuration(seconds)}; checkpoint saved to ${config.checkpoint}. Run this cell again to continue from here.`);
  } else {
    const last = history.epochs.at(-1);
    live.finish(history, `done: ${history.steps.length} steps in ${formatDuration(seconds)}` +
      `${last?.testBitsPerDim !== undefined ? `, test ${last.testBitsPerDim.toFixed(4)} bits/dim` : ''}; checkpoint saved to ${config.checkpoint}`);
  }
  session.status = end.status;
  recording.end(end);
  await session.onTrainingEnd?.(end);
}
