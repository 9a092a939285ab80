/**
 * The run record: `run.json` in a run's folder, one versioned JSON object that says what was trained (the full
 * model and train configs, the task, the backend), how far it got and how it ended (status, per-epoch and
 * per-step history, images seen, final test bits/dim, speed, time), where its checkpoint and thumbnail are.
 * The command line and notebooks write one per training run (./recorder.ts, as the run goes); ./store.ts lists
 * and finds them; ./compare.ts puts several side by side. Node only (files).
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AtomicWriteOptions, writeFileAtomic } from '../io/atomic-file';
import type { ModelConfig } from '../models/registry';
import type { TrainConfig } from '../train/config';
import type { EpochRecord, LossParts } from '../train/trainer';

export const RECORD_FILE = 'run.json';
export const THUMBNAIL_FILE = 'thumb.png';
export const RECORD_FORMAT = 'pixel-notebooks run';
/** Raised when a field changes meaning; a reader refuses records of a newer version by name. */
export const RECORD_VERSION = 1;

/** Who trained: `npm run train`, or a notebook by its config name (`notebook:02-gated`). */
export type RunSource = 'cli' | `notebook:${string}`;
export const RUN_STATUSES = ['running', 'finished', 'interrupted', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** An epoch as the trainer recorded it (with whatever it carries, such as a resume entry), and where it ended. */
export type RecordedEpoch = EpochRecord & { step: number; imagesSeen: number; [more: string]: unknown };

/**
 * The per-step history, one array per quantity (entry k is the k-th step): compact for long runs, and what a
 * chart plots. `imagesSeen` counts training images up to and including that step, so runs with different batch
 * sizes share an axis. `parts`: objectives with parts (a PixelVAE's reconstruction and kl), per step.
 */
export interface StepSeries {
  step: number[];
  imagesSeen: number[];
  bitsPerDim: number[];
  parts?: Record<string, number[]>;
}

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  version: number;
  /** Start time (UTC, to the second) and 4 random hex digits: sorts by start time, e.g. `20261130-055825-a3f9`. */
  id: string;
  source: RunSource;
  status: RunStatus;
  /** A failed run's error; where an interrupted run stopped. */
  message?: string;
  /** Written under PIXEL_SMOKE=1 (tiny settings): kept in its own space, runs/smoke/. */
  smoke: boolean;
  /** The task / dataset name (mnist, cifar10, ...). */
  task: string;
  /** The model config the run built (a record read from disk is checked only for a kind: decodeModelConfig checks the rest). */
  model: ModelConfig;
  train: TrainConfig;
  backend: { name: string; description: string; workers: number };
  startedAt: string;
  updatedAt: string;
  /** The process writing the record: a `running` record whose process is gone was killed without a word. */
  process: { pid: number; host: string };
  epochs: RecordedEpoch[];
  steps: StepSeries;
  /** Training images seen (counting repeats over epochs). */
  imagesSeen: number;
  /** Of the last evaluated epoch; with its parts for objectives that have them. */
  testBitsPerDim?: number;
  testParts?: LossParts;
  /** Images seen per second of training and evaluation. */
  imagesPerSecond?: number;
  /** Seconds of training and evaluation (the epochs' times, and the epoch in progress). */
  trainingSeconds: number;
  /** Wall-clock seconds the run was recording, over all its sessions (a resumed run adds up). */
  wallSeconds: number;
  /** The checkpoint, relative to the record's folder, and the step it holds. */
  checkpoint?: string;
  checkpointStep?: number;
  /** A small PNG of the latest sample grid, relative to the record's folder (THUMBNAIL_FILE). */
  thumbnail?: string;
  /** The record of the run this one was resumed from, when it continues in another folder. */
  resumedFrom?: string;
}

/** A record file that cannot be used: `file` and what is wrong with it. */
export class RecordError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

const ID_PATTERN = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

/** A new run id: the start time (UTC) and 4 random hex digits, so two runs started in the same second differ. */
export function newRunId(start: Date = new Date(), random: string = randomBytes(2).toString('hex')): string {
  const stamp = start.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${random}`;
}

/** Training images seen after `step` steps of `batchSize`, at `imagesPerEpoch` images an epoch (the last batch may be short). */
export function imagesSeenAfter(step: number, batchSize: number, imagesPerEpoch: number): number {
  const perEpoch = Math.ceil(imagesPerEpoch / batchSize);
  const epochs = Math.floor(step / perEpoch);
  return epochs * imagesPerEpoch + Math.min((step - epochs * perEpoch) * batchSize, imagesPerEpoch);
}

/** One field per line: readable, and the long step arrays stay on one line each. */
export function recordJson(record: RunRecord): string {
  const fields = Object.entries(record).filter(([, value]) => value !== undefined);
  return `{\n${fields.map(([key, value]) => ` ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n')}\n}\n`;
}

/** Writes `folder`/run.json atomically: a reader sees the previous record or this one, never a mix. */
export function writeRecord(folder: string, record: RunRecord, options: AtomicWriteOptions = {}): void {
  writeFileAtomic(path.join(folder, RECORD_FILE), recordJson(record), options);
}

type Check = (value: unknown) => boolean;
const isString: Check = (v) => typeof v === 'string';
const isNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isObject: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumbers: Check = (v) => Array.isArray(v) && v.every(isNumber);

/** The fields a record must have, what each must be, and the check. */
const REQUIRED: [string, string, Check][] = [
  ['id', 'a run id such as 20261130-055825-a3f9', (v) => isString(v) && ID_PATTERN.test(v as string)],
  ['source', "'cli' or 'notebook:<name>'", (v) => v === 'cli' || (isString(v) && (v as string).startsWith('notebook:'))],
  ['status', RUN_STATUSES.join(' | '), (v) => (RUN_STATUSES as readonly unknown[]).includes(v)],
  ['smoke', 'true or false', (v) => typeof v === 'boolean'],
  ['task', 'a task name', isString],
  ['model', 'a model config with a kind', (v) => isObject(v) && isString((v as { kind?: unknown }).kind)],
  ['train', 'a train config', (v) => isObject(v) && isNumber((v as { batchSize?: unknown }).batchSize)],
  ['backend', 'an object with name, description and workers', (v) => isObject(v) && isString((v as { name?: unknown }).name)],
  ['process', 'an object with pid and host', (v) => isObject(v) && isNumber((v as { pid?: unknown }).pid) && isString((v as { host?: unknown }).host)],
  ['startedAt', 'an ISO time', (v) => isString(v) && !Number.isNaN(Date.parse(v as string))],
  ['updatedAt', 'an ISO time', (v) => isString(v) && !Number.isNaN(Date.parse(v as string))],
  ['epochs', 'a list of epochs', (v) => Array.isArray(v) && v.every((e) => isObject(e) && isNumber(e.epoch) && isNumber(e.imagesSeen))],
  ['steps', 'step, imagesSeen and bitsPerDim lists of one length', (v) => isObject(v) && stepsConsistent(v as Record<string, unknown>)],
  ['imagesSeen', 'a number', isNumber],
  ['trainingSeconds', 'a number', isNumber],
  ['wallSeconds', 'a number', isNumber],
];
const OPTIONAL: [string, string, Check][] = [
  ['message', 'a string', isString],
  ['testBitsPerDim', 'a number', isNumber],
  ['testParts', 'bits/dim by part name', (v) => isObject(v) && Object.values(v as object).every(isNumber)],
  ['imagesPerSecond', 'a number', isNumber],
  ['checkpoint', 'a path', isString],
  ['checkpointStep', 'a number', isNumber],
  ['thumbnail', 'a path', isString],
  ['resumedFrom', 'a run id', isString],
];

function stepsConsistent(steps: Record<string, unknown>): boolean {
  const { step, imagesSeen, bitsPerDim, parts } = steps;
  if (!isNumbers(step) || !isNumbers(imagesSeen) || !isNumbers(bitsPerDim)) return false;
  const n = (step as number[]).length;
  if ((imagesSeen as number[]).length !== n || (bitsPerDim as number[]).length !== n) return false;
  return parts === undefined || (isObject(parts) && Object.values(parts as object).every((p) => isNumbers(p) && (p as number[]).length === n));
}

/** Reads a record's text; throws a RecordError naming `file` and the first thing wrong. */
export function parseRecord(text: string, file: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RecordError(file, `not valid JSON, a half-written or damaged record (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new RecordError(file, 'expected a JSON object');
  const record = value as Record<string, unknown>;
  if (record.format !== RECORD_FORMAT) throw new RecordError(file, `format is ${JSON.stringify(record.format)}, expected "${RECORD_FORMAT}"`);
  if (!Number.isInteger(record.version) || (record.version as number) < 1) throw new RecordError(file, `version is ${JSON.stringify(record.version)}, expected a positive integer`);
  if ((record.version as number) > RECORD_VERSION) {
    throw new RecordError(file, `written by a newer version of this project (record version ${record.version}; this one reads up to ${RECORD_VERSION})`);
  }
  for (const [field, expected, check] of REQUIRED) {
    if (!(field in record)) throw new RecordError(file, `${field} is missing (expected ${expected})`);
    if (!check(record[field])) throw new RecordError(file, `${field} is ${JSON.stringify(record[field])?.slice(0, 60)}, expected ${expected}`);
  }
  for (const [field, expected, check] of OPTIONAL) {
    if (record[field] !== undefined && !check(record[field])) throw new RecordError(file, `${field} is ${JSON.stringify(record[field])?.slice(0, 60)}, expected ${expected}`);
  }
  return record as unknown as RunRecord;
}

/** The record in `folder` (or a RecordError naming its file). */
export function readRecord(folder: string): RunRecord {
  const file = path.join(folder, RECORD_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new RecordError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return parseRecord(text, file);
}
