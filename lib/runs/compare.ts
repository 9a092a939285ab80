/**
 * Runs side by side: one row per run (what differs from the reference run, images seen, test bits/dim,
 * images/s, time, status), as cells for a plain-text table (the command line) or an HTML one (notebooks:
 * lib/notebook/html.ts's columnTable takes the same header and cells), and each run's curves on training
 * images seen, so runs with different batch sizes share an axis. Browser-safe (plain data).
 */
import { formatDuration } from '../duration';
import { SettingDifference, settingDifferences } from './diff';
import type { RunRecord } from './record';

export interface ComparisonRow {
  id: string;
  /** Whether this is the reference run (its settings cell says `reference`). */
  reference: boolean;
  differences: SettingDifference[];
  /** `layers 7, learningRate 0.0003`, `same settings`, or `reference`. */
  settings: string;
  imagesSeen: number;
  testBitsPerDim?: number;
  imagesPerSecond?: number;
  wallSeconds: number;
  /** `finished`, `interrupted`, `failed: <error>`, `running`, or `running (process gone)`. */
  status: string;
}

export interface CompareOptions {
  /** The run the others are described against (default the first). */
  reference?: RunRecord;
  /** Says whether a `running` record's process is gone (store.ts: processGone); default: never asked. */
  gone?: (record: RunRecord) => boolean;
}

/** How long a failed run's message may be in a table cell. */
const MESSAGE_WIDTH = 60;

export function statusText(record: RunRecord, gone: (record: RunRecord) => boolean = () => false): string {
  if (record.status === 'running') return gone(record) ? 'running (process gone)' : 'running';
  if (record.status !== 'failed' || !record.message) return record.status;
  const message = record.message.split('\n')[0];
  return `failed: ${message.length > MESSAGE_WIDTH ? `${message.slice(0, MESSAGE_WIDTH - 3)}...` : message}`;
}

function settingsOf(record: RunRecord) {
  return { task: record.task, model: record.model, train: record.train };
}

export function comparisonRows(records: readonly RunRecord[], options: CompareOptions = {}): ComparisonRow[] {
  const reference = options.reference ?? records[0];
  return records.map((record) => {
    const isReference = record === reference || (reference !== undefined && record.id === reference.id);
    const differences = reference && !isReference ? settingDifferences(settingsOf(record), settingsOf(reference)) : [];
    return {
      id: record.id, reference: isReference, differences,
      settings: isReference ? 'reference' : differences.length === 0 ? 'same settings' : differences.map((d) => d.text).join(', '),
      imagesSeen: record.imagesSeen, testBitsPerDim: record.testBitsPerDim, imagesPerSecond: record.imagesPerSecond,
      wallSeconds: record.wallSeconds, status: statusText(record, options.gone),
    };
  });
}

export const COMPARISON_COLUMNS = ['run', 'differing settings', 'images seen', 'test bits/dim', 'images/s', 'time', 'status'];
/** Which comparison columns hold numbers (right-aligned in text). */
export const COMPARISON_NUMERIC = [false, false, true, true, true, true, false];

/** The figures as the tables show them. */
export const formatImages = (n: number): string => n.toLocaleString('en-US');
export const formatBits = (bits: number | undefined): string => (bits === undefined ? '-' : bits.toFixed(4));
export const formatRate = (rate: number | undefined): string => (rate === undefined ? '-' : rate.toFixed(1));

export function comparisonCells(row: ComparisonRow): string[] {
  return [row.id, row.settings, formatImages(row.imagesSeen), formatBits(row.testBitsPerDim), formatRate(row.imagesPerSecond),
    formatDuration(row.wallSeconds), row.status];
}

/**
 * A plain-text table: columns two spaces apart, a dashed rule under the header, `numeric` columns
 * right-aligned; no trailing spaces.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: readonly string[]) => cells
    .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
    .join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  return textTable(COMPARISON_COLUMNS, rows.map(comparisonCells), COMPARISON_NUMERIC);
}

/** One run's curves, x = training images seen. */
export interface RunCurve {
  id: string;
  /** What the legend says: the run's differing settings (or `reference`, `same settings`) and its id. */
  label: string;
  reference: boolean;
  status: string;
  /** Per training step: the batch's bits/dim. */
  steps: { imagesSeen: number[]; bitsPerDim: number[] };
  /** Per epoch, at its end: the epoch's mean train bits/dim and the test bits/dim (null where not evaluated). */
  epochs: { imagesSeen: number[]; train: number[]; test: (number | null)[] };
}

export function comparisonCurves(records: readonly RunRecord[], options: CompareOptions = {}): RunCurve[] {
  const rows = comparisonRows(records, options);
  return records.map((record, k) => ({
    id: record.id,
    label: `${rows[k].settings} (${record.id})`,
    reference: rows[k].reference,
    status: rows[k].status,
    steps: { imagesSeen: record.steps.imagesSeen, bitsPerDim: record.steps.bitsPerDim },
    epochs: {
      imagesSeen: record.epochs.map((e) => e.imagesSeen),
      train: record.epochs.map((e) => e.trainBitsPerDim),
      test: record.epochs.map((e) => e.testBitsPerDim ?? null),
    },
  }));
}
