/**
 * The table of recorded runs that `npm run runs` prints (newest first, as listRuns returns them): what each run
 * trained, how far it got and where its folder is. Node only (paths, process checks).
 */
import * as path from 'path';
import { COMPARISON_NUMERIC, formatBits, formatImages, formatRate, statusText, textTable } from './compare';
import { formatDuration } from '../duration';
import { processGone, StoredRun } from './store';

export const LIST_COLUMNS = ['run', 'source', 'task', 'model', 'images seen', 'test bits/dim', 'images/s', 'time', 'status', 'folder'];
const LIST_NUMERIC = [false, false, false, false, ...COMPARISON_NUMERIC.slice(2, 6), false, false];

/** The folder as the listing shows it: relative to the space it was listed from, absolute when outside it. */
function shownFolder(folder: string, space: string): string {
  const relative = path.relative(space, folder);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

export function listingCells({ record, folder }: StoredRun, space: string): string[] {
  return [record.id, record.source, record.task, record.model.kind, formatImages(record.imagesSeen), formatBits(record.testBitsPerDim),
    formatRate(record.imagesPerSecond), formatDuration(record.wallSeconds), statusText(record, processGone), shownFolder(folder, space)];
}

export function listingTable(runs: readonly StoredRun[], space: string): string {
  return textTable(LIST_COLUMNS, runs.map((run) => listingCells(run, space)), LIST_NUMERIC);
}
