/**
 * The recorded runs under a root (./location.ts): listed newest first, found by id or by folder, removed by id.
 * A record folder is any folder holding run.json, up to MAX_DEPTH levels below the space (CLI runs sit at
 * runs/<task>-<kind>-<time>/, others in subfolders such as runs/reproduce/<name>/); the smoke space is listed
 * on its own. A corrupt or half-written record is skipped with a warning naming its file and what is wrong,
 * never fatal. Node only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunsLocation, runsRoot, runsSpace, SMOKE_SPACE } from './location';
import { readRecord, RECORD_FILE, RecordError, RunRecord } from './record';

/** How deep below the space record folders are looked for. */
export const MAX_DEPTH = 4;

export interface StoredRun {
  record: RunRecord;
  /** The record's folder and file, absolute. */
  folder: string;
  file: string;
}

export interface StoreOptions extends RunsLocation {
  /** Where the warnings about skipped records go (default stderr, `warning: ...`). */
  warn?: (message: string) => void;
}

function warner(options: StoreOptions): (message: string) => void {
  return options.warn ?? ((message) => process.stderr.write(`warning: ${message}\n`));
}

/** Folders holding run.json under `dir` (not inside a record folder: its subfolders are the run's own files). */
function recordFolders(dir: string, depth: number, skip: string, warn: (message: string) => void): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`cannot list ${dir} (${(error as Error).message}); its runs are not shown`);
    return [];
  }
  if (entries.some((e) => e.name === RECORD_FILE && e.isFile())) return [dir];
  if (depth === 0) return [];
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && path.join(dir, e.name) !== skip)
    .flatMap((e) => recordFolders(path.join(dir, e.name), depth - 1, skip, warn));
}

/** Every readable record of the space, newest first (by id: start time); unreadable ones are skipped with a warning. */
export function listRuns(options: StoreOptions = {}): StoredRun[] {
  const warn = warner(options);
  const space = runsSpace(options);
  // The root's listing leaves out its smoke space: tiny-settings runs are listed only when asked for.
  const skip = space === runsRoot(options) ? path.join(space, SMOKE_SPACE) : '';
  const runs: StoredRun[] = [];
  for (const folder of recordFolders(space, MAX_DEPTH, skip, warn)) {
    try {
      runs.push({ record: readRecord(folder), folder, file: path.join(folder, RECORD_FILE) });
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      warn(`skipped the run record ${error.file}: ${error.problem}`);
    }
  }
  return runs.sort((a, b) => (a.record.id < b.record.id ? 1 : a.record.id > b.record.id ? -1 : a.folder.localeCompare(b.folder)));
}

/** The absolute path of a stored run's checkpoint (reload it by run id: checkpointFile(findRun(id))), if it has one. */
export function checkpointFile(run: StoredRun): string | undefined {
  return run.record.checkpoint === undefined ? undefined : path.resolve(run.folder, run.record.checkpoint);
}

/** Whether `ref` names a folder (or run.json) rather than an id. */
function isPathRef(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || ref === '.' || ref === '..' || fs.existsSync(ref);
}

/**
 * The run `ref` names: a run id (or an unambiguous start of one) in the space, or a record folder (or its
 * run.json) anywhere. Throws an error naming `ref` and what was looked for.
 */
export function findRun(ref: string, options: StoreOptions = {}): StoredRun {
  if (isPathRef(ref)) {
    const folder = path.resolve(path.basename(ref) === RECORD_FILE ? path.dirname(ref) : ref);
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new Error(`run ${ref}: no such folder`);
    if (!fs.existsSync(path.join(folder, RECORD_FILE))) throw new Error(`run ${ref}: ${folder} is not a run folder (it has no ${RECORD_FILE})`);
    try {
      return { record: readRecord(folder), folder, file: path.join(folder, RECORD_FILE) };
    } catch (error) {
      throw new Error(`run ${ref}: ${(error as Error).message}`);
    }
  }
  const runs = listRuns(options);
  const exact = runs.filter((run) => run.record.id === ref);
  const matches = exact.length > 0 ? exact : runs.filter((run) => run.record.id.startsWith(ref));
  const space = runsSpace(options);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    throw new Error(`run ${ref}: no run with this id under ${space} (ids look like 20261130-055825-a3f9; \`npm run runs\` lists them, ` +
      'or name the run folder)');
  }
  throw new Error(`run ${ref}: ${exact.length > 0 ? 'several records have this id' : 'several runs start with this id'}: ` +
    `${matches.map((run) => `${run.record.id} (${run.folder})`).join(', ')}; name the run folder instead`);
}

/**
 * Deletes the folder of the run `ref` names, with its checkpoint and samples, only when it is a record folder:
 * it holds this record, it is not the root or the space, and no other run's record is inside it.
 */
export function removeRun(ref: string, options: StoreOptions = {}): StoredRun {
  const run = findRun(ref, options);
  const roots = [runsRoot(options), runsSpace(options), path.resolve(path.sep)];
  if (roots.includes(run.folder)) throw new Error(`run ${ref}: refusing to delete ${run.folder}: it is the runs root, not a run's own folder`);
  const nested = fs.readdirSync(run.folder, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => recordFolders(path.join(run.folder, e.name), MAX_DEPTH, '', () => undefined));
  if (nested.length > 0) {
    throw new Error(`run ${ref}: refusing to delete ${run.folder}: it also holds other runs (${nested.join(', ')}); remove those first`);
  }
  fs.rmSync(run.folder, { recursive: true });
  return run;
}

/** Whether a `running` record's process is gone (on this machine: another machine's processes cannot be asked). */
export function processGone(record: RunRecord): boolean {
  if (record.status !== 'running' || record.process.host !== os.hostname() || record.process.pid === process.pid) return false;
  try {
    process.kill(record.process.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
