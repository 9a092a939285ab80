/**
 * Recorded runs side by side in a notebook (records: ./run-record.ts, lib/runs):
 *
 *   nb.train(session)          the other runs of this notebook as faint curves beside the live one
 *   nb.showResults(session)    the table: run, differing settings, images seen, test bits/dim, images/s, time, status
 *   nb.compareRuns([...])      runs picked by id, folder or `notebook:NAME` (its newest run), across notebooks
 *                              and the command line: their curves and the table
 *
 * Which runs a session shows: `config.compare` or the call's `compare` option, either a number (the newest N
 * other runs of this notebook, default DEFAULT_OTHER_RUNS; 0 for none) or a list of runs. Each run is named by
 * what differs in its configuration from the reference (the session's own run: `layers 7`, `same settings`).
 * Curves are on training images seen, so runs with different batch sizes compare. A run that cannot be found or
 * read (a corrupt or half-written record) is skipped with a warning note naming it. Node only (files).
 */
import { COMPARISON_COLUMNS, comparisonCells, comparisonCurves, comparisonRows } from '../runs/compare';
import { isSmoke, RunsLocation, runsSpace } from '../runs/location';
import { readRecord, RunRecord } from '../runs/record';
import { findRun, listRuns, processGone, StoredRun } from '../runs/store';
import { columnTable, noteHtml } from './html';
import { defaultOutputs, Outputs } from './output';
import { chartHtml, PlotlyTrace } from './plotly';
import { comparisonFigure, runCurveTraces } from './run-curves';
import type { Session } from './session';

/** How many other runs of the notebook a session shows by default. */
export const DEFAULT_OTHER_RUNS = 3;

/** A number of the notebook's newest other runs, or runs by id, folder or `notebook:NAME`. */
export type RunChoice = number | string[];

/** Warnings gathered while finding runs, each shown once. */
export class Warnings {
  readonly messages = new Set<string>();
  readonly warn = (message: string): void => { this.messages.add(message); };

  html(): string {
    return [...this.messages].map((message) => noteHtml(`warning: ${message}`, 'warn')).join('');
  }
}

const NOTEBOOK_REF = /^notebook:(.+)$/;

/** The run `ref` names in one space: `notebook:NAME` is that notebook's newest run; else an id or folder (findRun). */
function findIn(ref: string, location: RunsLocation, warn: (message: string) => void): StoredRun {
  const notebook = NOTEBOOK_REF.exec(ref);
  if (!notebook) return findRun(ref, { ...location, warn });
  const newest = listRuns({ ...location, warn }).find((run) => run.record.source === ref);
  if (!newest) throw new Error(`run ${ref}: notebook ${notebook[1]} has no recorded run under ${runsSpace(location)}`);
  return newest;
}

/** The run `ref` names, looked for in the location's space, then in the other (smoke or not); throws the first error. */
export function findStoredRun(ref: string, location: RunsLocation, warn: (message: string) => void): StoredRun {
  let first: Error | undefined;
  for (const space of [location, { ...location, smoke: !isSmoke(location) }]) {
    try {
      return findIn(ref, space, warn);
    } catch (error) {
      first ??= error as Error;
    }
  }
  throw first;
}

/** The session's own record as it is now (undefined before it trained, or unreadable: a warning). */
export function currentRecord(session: Session, warn: (message: string) => void): RunRecord | undefined {
  if (!session.runRecord) return undefined;
  try {
    return readRecord(session.runRecord.folder);
  } catch (error) {
    warn(`${(error as Error).message}; this run is left out of the comparison`);
    return undefined;
  }
}

/** The runs to show beside the session's own (never itself), as `choice` says. */
export function otherRuns(session: Session, choice: RunChoice, warn: (message: string) => void): RunRecord[] {
  const own = session.runRecord?.id;
  if (Array.isArray(choice)) {
    const found: RunRecord[] = [];
    for (const ref of choice) {
      try {
        const { record } = findStoredRun(ref, session.runsLocation, warn);
        if (record.id !== own && !found.some((r) => r.id === record.id)) found.push(record);
      } catch (error) {
        warn(`compare: ${(error as Error).message}; not shown`);
      }
    }
    return found;
  }
  if (choice <= 0) return [];
  const source = `notebook:${session.config.name}`;
  return listRuns({ ...session.runsLocation, warn })
    .filter((run) => run.record.source === source && run.record.id !== own)
    .slice(0, choice)
    .map((run) => run.record);
}

/** The run choice in force: the call's option, else the config's, else the newest DEFAULT_OTHER_RUNS. */
export function runChoice(session: Session, option?: RunChoice): RunChoice {
  return option ?? session.config.compare ?? DEFAULT_OTHER_RUNS;
}

/** The faint curves of `others` for the live chart, named by what differs from `current`. */
export function otherRunTraces(current: RunRecord, others: readonly RunRecord[]): PlotlyTrace[] {
  if (others.length === 0) return [];
  return runCurveTraces(comparisonCurves([current, ...others], { reference: current, gone: processGone }).slice(1), { faint: true });
}

export interface TableOptions {
  caption: string;
  /** The reference row's settings cell (default `reference`). */
  referenceText?: string;
  /** Adds the run's source to its id (`20261130-055825-a3f9 (01-simple)`): runs from several notebooks. */
  sources?: boolean;
}

/** The comparison table: one row per run, settings as they differ from `reference`. */
export function comparisonTableHtml(records: readonly RunRecord[], reference: RunRecord, options: TableOptions): string {
  const rows = comparisonRows(records, { reference, gone: processGone });
  const cells = rows.map((row, k) => {
    const cell = comparisonCells(row);
    if (row.reference && options.referenceText) cell[1] = options.referenceText;
    if (options.sources) cell[0] = `${cell[0]} (${records[k].source.replace(/^notebook:/, '')})`;
    return cell;
  });
  return columnTable(COMPARISON_COLUMNS, cells, { caption: options.caption, className: 'pixel-table pixel-comparison' });
}

/** showResults' comparison: warnings, then the table of the session's run and the others (empty before it trained). */
export function sessionComparisonHtml(session: Session, choice?: RunChoice): string {
  const warnings = new Warnings();
  const current = currentRecord(session, warnings.warn);
  const others = current ? otherRuns(session, runChoice(session, choice), warnings.warn) : [];
  const table = current ? comparisonTableHtml([current, ...others], current, {
    caption: others.length > 0 ? `${session.config.name}: this run and ${others.length === 1 ? 'an earlier run' : `${others.length} other runs`} ` +
      '(differing settings: what differs from this run)' : `${session.config.name}: this run's record`,
    referenceText: 'this run',
  }) : '';
  return warnings.html() + table;
}

export interface CompareRunsOptions extends RunsLocation {
  /** Where the chart and table go (default: tslab inside a kernel, the console elsewhere). */
  outputs?: Outputs;
  /** The chart's title. */
  title?: string;
}

/**
 * Shows the runs `runs` names (ids, id starts, run folders, or `notebook:NAME` for that notebook's newest run)
 * side by side: their curves on training images seen and the table, each run described by what differs from
 * the first one found. Runs that cannot be found or read are skipped with a warning; none at all is an error.
 */
export function compareRuns(runs: readonly string[], options: CompareRunsOptions = {}): void {
  if (!Array.isArray(runs) || runs.length === 0 || runs.some((ref) => typeof ref !== 'string')) {
    throw new Error('compareRuns: runs must be a list of run ids, run folders or notebook:NAME, e.g. compareRuns([\'notebook:01-simple\', \'notebook:02-gated\'])');
  }
  const outputs = options.outputs ?? defaultOutputs();
  const warnings = new Warnings();
  const records: RunRecord[] = [];
  for (const ref of runs) {
    try {
      const { record } = findStoredRun(ref, options, warnings.warn);
      if (!records.some((r) => r.id === record.id)) records.push(record);
    } catch (error) {
      warnings.warn(`${(error as Error).message}; not compared`);
    }
  }
  if (warnings.messages.size > 0) outputs.display.html(warnings.html());
  if (records.length === 0) throw new Error(`compareRuns: none of the runs could be read (${runs.join(', ')})`);
  const [reference] = records;
  const curves = comparisonCurves(records, { reference, gone: processGone });
  outputs.display.html(chartHtml(comparisonFigure(curves, options.title ?? 'runs compared: bits per dimension (lower is better)')));
  outputs.display.html(comparisonTableHtml(records, reference, {
    caption: `differing settings: what differs from ${reference.id}`, sources: true,
  }));
}
