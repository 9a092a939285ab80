/**
 * A full run that does not finish on one machine in one sitting travels in git: `npm run reproduce -- --keep-partial`
 * copies each unfinished work folder's checkpoint (weights, Adam's state, history, data position) to
 * results/NAME/partial/, and a later `npm run reproduce -- NAME` on any machine whose work folder is empty continues
 * from there. The partial folder goes once the run is exported. Node-only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic-file';
import { HISTORY_FILE } from './result';
import { CHECKPOINT_FILE, readWork, WorkState } from './work';

export const PARTIAL_FOLDER = 'partial';

/** The files of a run in progress that a work folder needs to continue. */
const CARRIED = [CHECKPOINT_FILE, HISTORY_FILE];

export function partialDir(resultDir: string): string {
  return path.join(resultDir, PARTIAL_FOLDER);
}

function copyFiles(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const file of CARRIED) {
    const source = path.join(from, file);
    if (fs.existsSync(source)) writeFileAtomic(path.join(to, file), new Uint8Array(fs.readFileSync(source)));
  }
}

/** Copies an unfinished work folder's checkpoint into results/NAME/partial/; returns what it kept, or why not. */
export function keepPartial(work: WorkState, resultDir: string): string {
  if (!work.checkpoint) return 'not started: nothing to keep';
  if (work.finished) return 'finished: export it instead (npm run reproduce -- --export-only)';
  copyFiles(work.dir, partialDir(resultDir));
  return `kept ${work.epochsDone} of ${work.epochs} epochs in ${partialDir(resultDir)}`;
}

/**
 * The work folder to train in: `work` itself, or, when it has no checkpoint and results/NAME/partial/ has one,
 * `work` filled from it (returned re-read), so training continues where another machine stopped.
 */
export function seedFromPartial(work: WorkState, resultDir: string, log: (line: string) => void): WorkState {
  const partial = partialDir(resultDir);
  if (work.checkpoint || !fs.existsSync(path.join(partial, CHECKPOINT_FILE))) return work;
  copyFiles(partial, work.dir);
  const seeded = readWork(work.dir);
  log(`continuing from ${partial} (${seeded.epochsDone} of ${seeded.epochs} epochs trained there)`);
  return seeded;
}

/** Removes results/NAME/partial/ once the run is exported. */
export function dropPartial(resultDir: string): void {
  fs.rmSync(partialDir(resultDir), { recursive: true, force: true });
}

/** Where a pending run stands: its work folder, else the partial run kept in results/NAME/partial/. */
export function progressOf(workDir: string, resultDir: string): WorkState {
  const work = readWork(workDir);
  if (work.checkpoint || !fs.existsSync(path.join(partialDir(resultDir), CHECKPOINT_FILE))) return work;
  return readWork(partialDir(resultDir));
}
