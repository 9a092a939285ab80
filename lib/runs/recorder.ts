/**
 * Keeps a training run's record (./record.ts) up to date as the run goes: opened when training starts (status
 * running), updated after each epoch (with the checkpoint just written and the latest sample grid's thumbnail),
 * closed as finished, interrupted or failed. Everything it records comes from the run itself (configs, the
 * trainer's history and state), so a resumed run, whose trainer restarts from the checkpoint's history,
 * continues the same record with the steps it retrains replaced. Node only.
 *
 *   const recorder = RunRecorder.open(run, { folder, source: 'notebook:02-gated', backend, workers });
 *   ... after each epoch: recorder.update(run, { checkpoint: file, thumbnail: thumbnailPng(grid) });
 *   recorder.finish(run)  |  recorder.interrupt(run, 'interrupted at step 57')  |  recorder.fail(run, error)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AtomicWriteOptions, writeFileAtomic } from '../io/atomic-file';
import type { ModelConfig } from '../models/registry';
import type { TrainConfig } from '../train/config';
import type { StepRecord, TrainerState } from '../train/trainer';
import { isSmoke } from './location';
import {
  imagesSeenAfter, newRunId, readRecord, RECORD_FILE, RECORD_FORMAT, RECORD_VERSION, RecordedEpoch, RunRecord, RunSource,
  RunStatus, StepSeries, THUMBNAIL_FILE, writeRecord,
} from './record';

/** What the recorder reads of a run (lib/train/run.ts's Run has it all). */
export interface RecordedRun {
  dataset: { name: string; train: { count: number } };
  model: { config: ModelConfig };
  trainer: { config: TrainConfig; state: Pick<TrainerState, 'step' | 'history' | 'epochSeconds'> };
}

export interface RecorderOptions {
  /** The run's folder (created if missing): run.json, and usually its checkpoint, go there. */
  folder: string;
  source: RunSource;
  backend: { name: string; description: string };
  /** Helper worker threads sharing each step (0: none). */
  workers: number;
  /** The task name (default the dataset's name). */
  task?: string;
  /** A smoke run (tiny settings); default PIXEL_SMOKE. The caller puts its folder in the smoke space (runsSpace). */
  smoke?: boolean;
  /**
   * The checkpoint file a resumed run started from. When it is in `folder`, the record there continues (same id
   * and start; wall time adds up); a missing or unreadable one (a warning) is replaced by a new record. When it is
   * elsewhere, the new record notes the id of the record beside it (resumedFrom).
   */
  resuming?: string;
  /** The id of a new record (default: newRunId at its start); a continued record keeps its own. */
  id?: string;
  /** Passed to every write (tests inject failing writes). */
  write?: AtomicWriteOptions;
  /** Where warnings go (default stderr). */
  warn?: (message: string) => void;
  /** The clock of startedAt/updatedAt (tests). */
  now?: () => Date;
}

export interface RecordUpdate {
  /** A checkpoint the run just wrote (a path; stored relative to the folder) and so the step it holds. */
  checkpoint?: string;
  /** PNG bytes of the latest sample grid (./thumbnail.ts), written beside the record as thumb.png. */
  thumbnail?: Uint8Array;
}

/** Training images per epoch: the training set, or the limit. */
function imagesPerEpoch(run: RecordedRun): number {
  return Math.min(run.dataset.train.count, run.trainer.config.limit ?? Infinity);
}

/** The per-step history as series; a part some step lacks is left out. */
function stepSeries(steps: readonly StepRecord[], seen: (step: number) => number): StepSeries {
  const series: StepSeries = { step: steps.map((s) => s.step), imagesSeen: steps.map((s) => seen(s.step)), bitsPerDim: steps.map((s) => s.bitsPerDim) };
  const names = Object.keys(steps[0]?.parts ?? {});
  const parts = names.filter((name) => steps.every((s) => s.parts?.[name] !== undefined));
  if (parts.length > 0) series.parts = Object.fromEntries(parts.map((name) => [name, steps.map((s) => s.parts![name])]));
  return series;
}

function stderrWarning(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** The record in `folder`, if there is a readable one (`warn` hears why not, when there is one). */
function recordIn(folder: string, warn: (message: string) => void): RunRecord | undefined {
  if (!fs.existsSync(path.join(folder, RECORD_FILE))) return undefined;
  try {
    return readRecord(folder);
  } catch (error) {
    warn(`${(error as Error).message}; starting a new record there`);
    return undefined;
  }
}

export class RunRecorder {
  /** The record as last written. */
  record: RunRecord;
  private readonly started = performance.now();
  private readonly priorWallSeconds: number;
  private readonly now: () => Date;
  private readonly warn: (message: string) => void;

  private constructor(readonly folder: string, record: RunRecord, private readonly options: RecorderOptions) {
    this.record = record;
    this.priorWallSeconds = record.wallSeconds;
    this.now = options.now ?? (() => new Date());
    this.warn = options.warn ?? stderrWarning;
  }

  /** Starts (or, resuming from a checkpoint in the same folder, continues) the record of `run` in `options.folder` and writes it. */
  static open(run: RecordedRun, options: RecorderOptions): RunRecorder {
    const folder = path.resolve(options.folder);
    fs.mkdirSync(folder, { recursive: true });
    const now = (options.now ?? (() => new Date()))();
    const warn = options.warn ?? stderrWarning;
    const from = options.resuming !== undefined ? path.dirname(path.resolve(options.resuming)) : undefined;
    const previous = from !== undefined ? recordIn(from, from === folder ? warn : () => undefined) : undefined;
    const continued = from === folder ? previous : undefined;
    const record: RunRecord = {
      format: RECORD_FORMAT, version: RECORD_VERSION,
      id: continued?.id ?? options.id ?? newRunId(now),
      source: options.source, status: 'running', smoke: options.smoke ?? isSmoke(),
      task: options.task ?? run.dataset.name, model: run.model.config, train: run.trainer.config,
      backend: { name: options.backend.name, description: options.backend.description, workers: options.workers },
      startedAt: continued?.startedAt ?? now.toISOString(), updatedAt: now.toISOString(),
      process: { pid: process.pid, host: os.hostname() },
      epochs: [], steps: { step: [], imagesSeen: [], bitsPerDim: [] }, imagesSeen: 0, trainingSeconds: 0,
      wallSeconds: continued?.wallSeconds ?? 0,
      // A resumed run starts from its checkpoint, wherever it is, until it writes its own.
      checkpoint: options.resuming !== undefined ? path.relative(folder, path.resolve(options.resuming)) : undefined,
      checkpointStep: options.resuming !== undefined ? run.trainer.state.step : undefined,
      thumbnail: continued?.thumbnail, resumedFrom: continued ? continued.resumedFrom : previous?.id,
    };
    const recorder = new RunRecorder(folder, record, options);
    recorder.write(run, 'running');
    return recorder;
  }

  /** Records the run's progress so far (status running): call after each epoch. */
  update(run: RecordedRun, update: RecordUpdate = {}): void {
    const changes: Partial<RunRecord> = {};
    if (update.thumbnail) {
      writeFileAtomic(path.join(this.folder, THUMBNAIL_FILE), update.thumbnail, this.options.write);
      changes.thumbnail = THUMBNAIL_FILE;
    }
    if (update.checkpoint !== undefined) {
      changes.checkpoint = path.relative(this.folder, path.resolve(update.checkpoint));
      changes.checkpointStep = run.trainer.state.step;
    }
    this.write(run, 'running', undefined, changes);
  }

  finish(run: RecordedRun): void {
    this.write(run, 'finished');
  }

  /**
   * Records where the run stopped. Never throws (it runs on the way out): a failed write is a warning. The
   * checkpoint named in the record may be older than the last step recorded; a resumed run continues from it.
   */
  interrupt(run: RecordedRun, message: string): void {
    this.closeQuietly(run, 'interrupted', message);
  }

  /** Records the error; never throws (the error itself is what the caller reports). */
  fail(run: RecordedRun, error: unknown): void {
    this.closeQuietly(run, 'failed', error instanceof Error ? error.message : String(error));
  }

  private closeQuietly(run: RecordedRun, status: RunStatus, message: string): void {
    try {
      this.write(run, status, message);
    } catch (error) {
      this.warn(`the run record was not updated: ${(error as Error).message}`);
    }
  }

  /** Builds the record from the run's state and writes it; `record` changes only once the write succeeded. */
  private write(run: RecordedRun, status: RunStatus, message?: string, changes: Partial<RunRecord> = {}): void {
    const { config, state } = run.trainer;
    const perEpoch = imagesPerEpoch(run);
    const batches = Math.ceil(perEpoch / config.batchSize);
    const seen = (step: number) => imagesSeenAfter(step, config.batchSize, perEpoch);
    const epochs: RecordedEpoch[] = state.history.epochs.map((e) => ({ ...e, step: (e.epoch + 1) * batches, imagesSeen: (e.epoch + 1) * perEpoch }));
    const lastTest = [...epochs].reverse().find((e) => e.testBitsPerDim !== undefined);
    const trainingSeconds = epochs.reduce((sum, e) => sum + e.seconds, 0) + state.epochSeconds;
    const imagesSeen = seen(state.step);
    const record: RunRecord = {
      ...this.record,
      ...changes,
      status, message,
      model: run.model.config, train: config,
      updatedAt: this.now().toISOString(),
      epochs, steps: stepSeries(state.history.steps, seen), imagesSeen,
      testBitsPerDim: lastTest?.testBitsPerDim, testParts: lastTest?.testParts,
      imagesPerSecond: trainingSeconds > 0 ? imagesSeen / trainingSeconds : undefined,
      trainingSeconds,
      wallSeconds: this.priorWallSeconds + (performance.now() - this.started) / 1000,
    };
    // Unset fields are left out, as they are on disk: the record in memory equals the one read back.
    for (const key of Object.keys(record) as (keyof RunRecord)[]) if (record[key] === undefined) delete record[key];
    writeRecord(this.folder, record, this.options.write);
    this.record = record;
  }
}
