/**
 * Every notebook training run keeps a run record (lib/runs) in the runs space (PIXEL_RUNS_DIR, else runs/; the
 * smoke space for PIXEL_SMOKE=1): `notebooks/<notebook name>/<run id>/` holds run.json (the full configs, backend,
 * step and epoch history, final test bits/dim, status), thumb.png (the latest grid showSamples drew) and
 * checkpoint.ckpt, a copy of the run's checkpoint. The notebook's own checkpoint file is overwritten by its next
 * run; the copy stays, and nb.loadRun reloads it by run id.
 *
 * A train call that trains opens the record (a new one, or the session's, continued), updates it after each
 * epoch with the checkpoint copy, and closes it as finished, interrupted or failed. A session that resumes or
 * reuses a notebook checkpoint continues the record the checkpoint names (its meta `runRecord`); a reused one
 * saved before records existed gets a record then. Recording never stops training or a cell: a record that
 * cannot be read or written is a warning note. Node only (files).
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic-file';
import { RunsLocation, runsSpace } from '../runs/location';
import { newRunId, readRecord, THUMBNAIL_FILE, writeRecord } from '../runs/record';
import { RunRecorder } from '../runs/recorder';
import { findRun } from '../runs/store';
import { Checkpoint, encodeCheckpoint } from '../train/checkpoint';
import { noteHtml } from './html';
import type { Outputs } from './output';
import type { Session } from './session';
import type { TrainingEnd } from './train';

/** The folder of notebook runs in a runs space. */
export const NOTEBOOK_RUNS = 'notebooks';
/** The run's checkpoint copy in its record folder (the name `npm run train` gives its checkpoints too). */
export const CHECKPOINT_COPY = 'checkpoint.ckpt';
/** The checkpoint meta field naming the record a notebook checkpoint belongs to. */
export const RECORD_META = 'runRecord';

/** A run record by id and folder (absolute). */
export interface RecordRef {
  id: string;
  folder: string;
}

/** A notebook's name as one folder name ('05-blind-spot (leaking)' -> '05-blind-spot-leaking'). */
export function notebookFolderName(name: string): string {
  return name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'notebook';
}

/** Where a notebook's run records go: `<space>/notebooks/<name>/`. */
export function notebookRunsFolder(location: RunsLocation, name: string): string {
  return path.join(runsSpace(location), NOTEBOOK_RUNS, notebookFolderName(name));
}

/** A warning as a note in the cell (never stderr: a notebook shows that as an error). */
export function noteWarning(outputs: Outputs): (message: string) => void {
  return (message) => outputs.display.html(noteHtml(`warning: ${message}`, 'warn'));
}

/** Runs `work`; a failure becomes a warning note saying what was not recorded. */
function quietly(session: Session, what: string, work: () => void): boolean {
  try {
    work();
    return true;
  } catch (error) {
    noteWarning(session.outputs)(`${what}: ${(error as Error).message}`);
    return false;
  }
}

function isRef(value: unknown): value is RecordRef {
  return typeof value === 'object' && value !== null && typeof (value as RecordRef).id === 'string' && typeof (value as RecordRef).folder === 'string';
}

/**
 * The record a checkpoint names, if it is still there: in its folder, else (the runs root moved) by id in the
 * space. An unreadable record is a warning, and the run then starts a new one.
 */
export function checkpointRecord(checkpoint: Checkpoint, location: RunsLocation, warn: (message: string) => void): RecordRef | undefined {
  const ref = checkpoint.meta?.[RECORD_META];
  if (!isRef(ref)) return undefined;
  try {
    if (readRecord(ref.folder).id === ref.id) return ref;
  } catch (error) {
    if (fs.existsSync(ref.folder)) {
      warn(`${(error as Error).message}; this run gets a new record`);
      return undefined;
    }
  }
  try {
    const found = findRun(ref.id, { ...location, warn });
    return { id: found.record.id, folder: found.folder };
  } catch {
    return undefined;
  }
}

/** The notebook checkpoint's meta: who saved it, for reuse (notebookIdentity), and its record. */
export function checkpointMeta(session: Session): Record<string, unknown> {
  return {
    notebook: session.config.name, notebookIdentity: session.identity, smoke: session.smoke, savedAt: new Date().toISOString(),
    ...(session.runRecord ? { [RECORD_META]: session.runRecord } : {}),
  };
}

/** Opens a recorder for the session's run: continuing the session's record, else a new one in the notebook's folder. */
function openRecorder(session: Session): RunRecorder {
  const { run, config } = session;
  const id = session.runRecord?.id ?? newRunId();
  const folder = session.runRecord?.folder ?? path.join(notebookRunsFolder(session.runsLocation, config.name), id);
  // A continued record starts from its checkpoint copy; a resumed checkpoint without a record, from the notebook's.
  const resuming = session.runRecord ? path.join(folder, CHECKPOINT_COPY) : session.start === 'resumed' ? session.checkpointFile : undefined;
  const recorder = RunRecorder.open(run, {
    folder, id, source: `notebook:${config.name}`, task: run.dataset.name, smoke: session.smoke, resuming,
    backend: session.backend, workers: run.trainer.executor.helpers?.count ?? 0, warn: noteWarning(session.outputs),
  });
  session.runRecord = { id: recorder.record.id, folder };
  return recorder;
}

/** The record of one train call's training: opened at its start, updated per saved checkpoint, closed at its end. */
export class Recording {
  private constructor(private readonly session: Session, private readonly recorder: RunRecorder | undefined) {}

  /** Opens (or continues) the session's record; a record that cannot be written is a warning, and training goes on. */
  static open(session: Session): Recording {
    let recorder: RunRecorder | undefined;
    quietly(session, 'this run is not recorded', () => { recorder = openRecorder(session); });
    return new Recording(session, recorder);
  }

  /** After the notebook's checkpoint was written (`bytes`): the copy in the record folder, and the record's progress. */
  saved(bytes: Uint8Array): void {
    const { recorder, session } = this;
    if (!recorder) return;
    quietly(session, 'the run record was not updated', () => {
      const copy = path.join(recorder.folder, CHECKPOINT_COPY);
      if (path.resolve(copy) !== path.resolve(session.checkpointFile)) writeFileAtomic(copy, bytes);
      recorder.update(session.run, { checkpoint: copy });
    });
  }

  /** Closes the record as the call ended. */
  end(end: TrainingEnd): void {
    const { recorder, session } = this;
    if (!recorder) return;
    if (end.status === 'failed') recorder.fail(session.run, end.error);
    else if (end.status === 'interrupted') recorder.interrupt(session.run, `interrupted at step ${end.step} (epoch ${end.position.epoch}, batch ${end.position.batchIndex})`);
    else quietly(session, 'the run record was not closed', () => recorder.finish(session.run));
  }
}

/**
 * A reused checkpoint saved before run records existed (or whose record is gone): a finished record for it now,
 * with its checkpoint copied there, and the notebook's checkpoint rewritten to name it.
 */
export function recordReusedRun(session: Session, checkpoint: Checkpoint): void {
  quietly(session, 'the reused run is not recorded', () => {
    const recorder = openRecorder(session);
    const bytes = encodeCheckpoint({ ...checkpoint, meta: { ...checkpoint.meta, [RECORD_META]: session.runRecord } });
    const copy = path.join(recorder.folder, CHECKPOINT_COPY);
    writeFileAtomic(copy, bytes);
    writeFileAtomic(session.checkpointFile, bytes);
    recorder.update(session.run, { checkpoint: copy });
    recorder.finish(session.run);
  });
}

/** Keeps the grid showSamples drew as the record's thumbnail (the record's other fields are left as they are). */
export function recordThumbnail(session: Session, png: Uint8Array): void {
  const ref = session.runRecord;
  if (!ref) return;
  quietly(session, 'the run record has no thumbnail', () => {
    const record = readRecord(ref.folder);
    writeFileAtomic(path.join(ref.folder, THUMBNAIL_FILE), png);
    writeRecord(ref.folder, { ...record, thumbnail: THUMBNAIL_FILE, updatedAt: new Date().toISOString() });
  });
}
