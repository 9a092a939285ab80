/**
 * `await nb.train(session)`: trains with a live progress line and chart, saving the notebook's checkpoint after
 * every epoch; or shows the chart of a run that is already finished. Kernel -> Interrupt (./interrupt.ts) stops it
 * at the next step boundary: the checkpoint then holds that step (mid-epoch position and running sums too), the
 * chart and progress line say where it stopped, `session.status` is 'interrupted', and running the cell again
 * continues from there (as does prepare with reuseCheckpoint: true, from the checkpoint).
 *
 * Node only (files).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Checkpoint } from '../train/checkpoint';
import { saveCheckpoint } from '../train/checkpoint-file';
import { checkpointRun } from '../train/run';
import type { BatchPosition } from '../data/batches';
import { formatDuration, noteHtml } from './html';
import { interruptible } from './interrupt';
import { LiveTraining } from './live';
import { chartHtml } from './plotly';
import type { Session } from './session';
import { trainingFigure } from './training-chart';

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

function saveRunCheckpoint(session: Session, checkpointPromise: Promise<Checkpoint>): Promise<void> {
  return checkpointPromise.then((checkpoint) => {
    fs.mkdirSync(path.dirname(session.checkpointFile), { recursive: true });
    saveCheckpoint(session.checkpointFile, checkpoint);
  });
}

/** Where a run stands, for messages: "step 57 (epoch 1 of 2, batch 57 of 100)". */
export function positionText(step: number, position: BatchPosition, epochs: number, batchesPerEpoch: number): string {
  return `step ${step} (epoch ${Math.min(position.epoch + 1, epochs)} of ${epochs}, batch ${position.batchIndex} of ${batchesPerEpoch})`;
}

/** Trains with a live progress line and chart (or shows the loaded run's chart); saves a checkpoint per epoch, and where an interrupt stopped it. */
export function train(session: Session): Promise<void> {
  return interruptible((signal) => trainUntilStopped(session, signal), session.interrupts);
}

async function trainUntilStopped(session: Session, signal: AbortSignal): Promise<void> {
  const { run, config, outputs } = session;
  const trainer = run.trainer;
  const title = `${config.name}: bits per dimension (lower is better)`;
  if (session.start === 'reused' || trainer.finished) {
    const history = trainer.state.history;
    outputs.display.html(noteHtml(session.start === 'reused' ? session.startNote
      : `Already trained (${trainer.state.position.epoch} of ${trainer.config.epochs} epochs): showing the finished run. ` +
        'Run the prepare cell again to start over.'));
    outputs.display.html(chartHtml(trainingFigure(history, { batchesPerEpoch: trainer.batchesPerEpoch(), title })));
    return;
  }
  const live = new LiveTraining(outputs, {
    epochs: trainer.config.epochs,
    batchesPerEpoch: trainer.batchesPerEpoch(),
    batchSize: trainer.config.batchSize,
    chartEverySeconds: config.chartEverySeconds,
    title,
  });
  const meta = () => ({ notebook: config.name, notebookIdentity: session.identity, smoke: session.smoke, savedAt: new Date().toISOString() });
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
        await saveRunCheckpoint(session, checkpointRun(run, meta()));
      },
    }, { signal });
  } catch (error) {
    session.status = 'failed';
    await session.onTrainingEnd?.(ended('failed', error as Error));
    throw error;
  }
  const { history } = trainer.state;
  const end = ended(trainer.finished ? 'finished' : 'interrupted');
  const { step, position, seconds } = end;
  if (end.status === 'interrupted') {
    // Mid-epoch: the state holds the data position and the epoch's running sums, so the run resumes exactly.
    await saveRunCheckpoint(session, checkpointRun(run, meta()));
    live.interrupted(history, step, `interrupted at ${positionText(step, position, trainer.config.epochs, trainer.batchesPerEpoch())} ` +
      `after ${formatDuration(seconds)}; checkpoint saved to ${config.checkpoint}. Run this cell again to continue from here.`);
  } else {
    const last = history.epochs.at(-1);
    live.finish(history, `done: ${history.steps.length} steps in ${formatDuration(seconds)}` +
      `${last?.testBitsPerDim !== undefined ? `, test ${last.testBitsPerDim.toFixed(4)} bits/dim` : ''}; checkpoint saved to ${config.checkpoint}`);
  }
  session.status = end.status;
  await session.onTrainingEnd?.(end);
}
