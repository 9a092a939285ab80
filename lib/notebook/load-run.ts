/**
 * A recorded run's checkpoint back in a session: `await nb.loadRun(id)` (or `nb.prepare(config, { run: id })`)
 * finds the run (an id, an id start, a run folder, or `notebook:NAME` for that notebook's newest run; ./compare-runs.ts
 * findStoredRun), reads the checkpoint its record names (for a notebook run, the copy in its record folder) and
 * prepares a session from it: the run's own dataset, model and training replace the config's, its record stays the
 * session's. A finished run is loaded as is; an unfinished one (interrupted) trains on from where it stopped when
 * the train cell runs, writing its checkpoint into its own record folder, never over the notebook's.
 *
 * Node only (files).
 */
import * as fs from 'fs';
import { isTaskName } from '../data/dataset';
import type { RunsLocation } from '../runs/location';
import { checkpointFile, StoredRun } from '../runs/store';
import type { Checkpoint } from '../train/checkpoint';
import { readCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { savedIdentity } from './checkpoint-decision';
import { findStoredRun } from './compare-runs';
import type { NotebookConfig } from './config';

/** A recorded run and its checkpoint. */
export interface LoadedRun {
  stored: StoredRun;
  /** The checkpoint file (absolute) and what it holds. */
  file: string;
  checkpoint: Checkpoint;
}

/** Finds the run `ref` names and reads its checkpoint; errors name the run and what is missing. */
export function readRunCheckpoint(ref: string, location: RunsLocation, warn: (message: string) => void): LoadedRun {
  const stored = findStoredRun(ref, location, warn);
  const { id } = stored.record;
  const file = checkpointFile(stored);
  if (file === undefined) throw new Error(`loadRun: run ${id} has no checkpoint (it stopped before its first epoch ended; ${stored.file})`);
  if (!fs.existsSync(file)) throw new Error(`loadRun: run ${id}'s checkpoint ${file} is missing`);
  return { stored, file, checkpoint: readCheckpoint(file) };
}

/** The notebook name of a record's source (`notebook:02-gated`), or `run <id>` for a command-line run. */
function runName(stored: StoredRun): string {
  const { source, id } = stored.record;
  return source.startsWith('notebook:') ? source.slice('notebook:'.length) : `run ${id}`;
}

/**
 * The configuration a loaded run is prepared with: its name, dataset, model and training from the run, its
 * checkpoint file its own; the grid and display settings from `config` (default a 12 x 12 grid, seed 0).
 */
export function loadedRunConfig(loaded: LoadedRun, config?: NotebookConfig): NotebookConfig {
  const { record } = loaded.stored;
  if (!isTaskName(record.task)) throw new Error(`loadRun: run ${record.id} trained on ${record.task}, which this version does not know`);
  const identity = savedIdentity(loaded.checkpoint);
  const train = identity?.train ?? trainConfig(loaded.checkpoint.trainConfig ?? record.train);
  return {
    grid: { rows: 12, cols: 12, seed: 0 },
    ...config,
    name: runName(loaded.stored), dataset: record.task,
    model: identity?.model ?? loaded.checkpoint.modelConfig, train: { ...train },
    checkpoint: loaded.file, reuseCheckpoint: true,
  };
}

/** How a loaded run starts: 'reused' when it finished its epochs, else 'resumed'; and the note saying so. */
export function loadedStart(loaded: LoadedRun, epochs: number): { start: 'reused' | 'resumed'; note: string } {
  const { record } = loaded.stored;
  const state = loaded.checkpoint.trainerState;
  const done = state?.position.epoch ?? 0;
  const where = `${state?.step ?? 0} steps, ${done} of ${epochs} epochs`;
  return done >= epochs
    ? { start: 'reused', note: `Loaded run ${record.id} (${loaded.stored.folder}; ${record.status}, ${where}): not training.` }
    : { start: 'resumed', note: `Loaded run ${record.id} (${loaded.stored.folder}; ${record.status}, ${where}): training continues from there.` };
}
