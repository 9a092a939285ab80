/**
 * The data folder a user points a loader at (-D on the command line, `dataDirectory` in code): checks that it
 * is a folder, with errors that say what the path is and what was expected there. Node only.
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * How to set the data folder, for error messages read both at a terminal and in a notebook (the loaders do not
 * know which).
 */
export const SET_DATA_FOLDER =
  'set the data folder with -D DIR on the command line, or { dataDirectory: DIR } in prepare(config, ...) or loadDataset(task, ...) in a notebook';

const ARCHIVE = /\.(tar\.gz|tgz|tar|zip|tar\.bz2|tar\.xz|7z)$/i;

/** What sits at `p`: a folder, a file, or nothing. */
export function pathKind(p: string): 'folder' | 'file' | 'missing' {
  try {
    return fs.statSync(p).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

export interface DataFolderSpec {
  /** The dataset, first in every message (e.g. "mnist"). */
  dataset: string;
  /** What the folder should hold, after "expected a folder holding" (e.g. "the four IDX files (...)"). */
  holding: string;
  /** Names of files the folder holds: a path naming one of them gets "use its folder" in the error. */
  fileNames?: string[];
  /** Appended when the folder does not exist: how to get the data (default: how to set the data folder). */
  howToGet?: string;
}

/** Throws unless `dir` is an existing folder; a file gets an error saying so, with what to pass instead. */
export function requireDataFolder(dir: string, spec: DataFolderSpec): void {
  const found = pathKind(dir);
  if (found === 'folder') return;
  if (found === 'missing') {
    throw new Error(`${spec.dataset}: data folder ${dir} does not exist; expected a folder holding ${spec.holding}. ${spec.howToGet ?? capitalise(SET_DATA_FOLDER)}`);
  }
  let instead = '';
  if (spec.fileNames?.includes(path.basename(dir))) instead = ` It is one of those files: use its folder, ${path.dirname(dir)}`;
  else if (ARCHIVE.test(dir)) instead = ' It looks like an archive: extract it and use the extracted folder';
  throw new Error(`${spec.dataset}: ${dir} is a file, not a folder; expected a folder holding ${spec.holding}.${instead}`);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
