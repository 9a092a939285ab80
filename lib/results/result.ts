/**
 * `results/NAME/result.json`: what one exported run reached and how it was made. Every figure in results/README.md
 * comes from here (or, for runs still training, from their work folder), so reading it checks every field the
 * table and the tests use, and an error names the file and the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LatentUsage } from '../diagnostics/latent-usage';
import { writeFileAtomic } from '../io/atomic-file';

/** Bits/dim on some test images; `parts` for objectives with parts (a PixelVAE: reconstruction + kl, adding up). */
export interface Measured {
  images: number;
  bitsPerDim: number;
  parts?: Record<string, number>;
}

/**
 * What the export measures on its weights file; for a PixelVAE also whether its PixelCNN uses z (a KL above 0 does
 * not show it: lib/diagnostics/latent-usage.ts), on the same test images.
 */
export type SubsetMeasure = Measured & { latent?: LatentUsage };

export interface ResultRecord {
  name: string;
  summary: string;
  task: string;
  /** The training CLI's flags the run was trained with (its entry in lib/results/runs.ts). */
  argv: string[];
  /** The model kind (`-m`). */
  model: string;
  parameters: number;
  epochs: number;
  /** Training images seen in all: epochs x images per epoch. */
  imagesSeen: number;
  /** The last epoch's evaluation during training: the full test set unless the run had --test-limit. */
  test: Measured;
  /**
   * Measured at export from the exported weights (results/NAME/weights.ckpt) on the first `images` test images in
   * batches of `batchSize` (a PixelVAE's noise is drawn per batch): verifyResult recomputes exactly this.
   */
  subset: SubsetMeasure & { batchSize: number };
  /** Seconds of training and evaluation, summed over the epochs (sample grids not included). */
  wallSeconds: number;
  backend: {
    /** lib/backend's name and description of the backend the export ran on (the one that trained it, via reproduce). */
    name: string;
    description: string;
    /** The backend's compute threads, read from its description; null where it names none (webgpu). */
    threads: number | null;
    /** Helper worker threads that shared each training step (the checkpoint's record). */
    workers: number;
  };
  /** When training finished (the work checkpoint's time), ISO 8601. */
  date: string;
  /** The code's git commit at export, and whether the working tree had changes; null outside a git checkout. */
  commit: string | null;
  dirty: boolean;
  /** The work checkpoint exported: a re-run skips the export while it is unchanged. */
  source: { checkpointSha256: string; steps: number };
}

export const RESULT_FILE = 'result.json';
export const WEIGHTS_FILE = 'weights.ckpt';
export const HISTORY_FILE = 'history.json';
export const GRID_FILE = 'grid.png';

export type Check = 'string' | 'string|null' | 'count' | 'number' | 'boolean' | 'strings' | 'parts?' | 'count|null';

const EXPECTED: Record<Check, string> = {
  'string': 'a string', 'string|null': 'a string or null', 'count': 'a whole number >= 0', 'number': 'a finite number',
  'boolean': 'true or false', 'strings': 'a list of strings', 'parts?': 'absent or an object of finite numbers',
  'count|null': 'a whole number >= 0 or null',
};

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

const PASSES: Record<Check, (v: unknown) => boolean> = {
  'string': (v) => typeof v === 'string',
  'string|null': (v) => v === null || typeof v === 'string',
  'count': isCount,
  'number': isNumber,
  'boolean': (v) => typeof v === 'boolean',
  'strings': (v) => Array.isArray(v) && v.every((w) => typeof w === 'string'),
  'parts?': (v) => v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isNumber)),
  'count|null': (v) => v === null || isCount(v),
};

/** Every field of ResultRecord and what it must hold. */
const FIELDS: readonly [string, Check][] = [
  ['name', 'string'], ['summary', 'string'], ['task', 'string'], ['argv', 'strings'], ['model', 'string'],
  ['parameters', 'count'], ['epochs', 'count'], ['imagesSeen', 'count'],
  ['test.images', 'count'], ['test.bitsPerDim', 'number'], ['test.parts', 'parts?'],
  ['subset.images', 'count'], ['subset.batchSize', 'count'], ['subset.bitsPerDim', 'number'], ['subset.parts', 'parts?'],
  ['wallSeconds', 'number'],
  ['backend.name', 'string'], ['backend.description', 'string'], ['backend.threads', 'count|null'], ['backend.workers', 'count'],
  ['date', 'string'], ['commit', 'string|null'], ['dirty', 'boolean'],
  ['source.checkpointSha256', 'string'], ['source.steps', 'count'],
];

const LATENT_FIELDS: readonly [string, Check][] = [
  ['subset.latent.images', 'count'], ['subset.latent.ownBitsPerDim', 'number'], ['subset.latent.otherBitsPerDim', 'number'], ['subset.latent.bitsPerImage', 'number'],
];

/** Checks parsed JSON against `fields` (dotted paths and what each must hold); `source` (the file) starts every error, which names the field. */
export function checkFields(value: unknown, fields: readonly [string, Check][], source: string): void {
  for (const [field, check] of fields) {
    let at: unknown = value;
    const keys = field.split('.');
    for (const [i, key] of keys.entries()) {
      if (typeof at !== 'object' || at === null || Array.isArray(at)) {
        const parent = keys.slice(0, i).join('.');
        throw new Error(`${source}: ${i === 0 ? 'the file' : `field "${parent}"`} is ${at === undefined ? 'missing' : JSON.stringify(at)}; expected an object holding "${field}"`);
      }
      at = (at as Record<string, unknown>)[key];
    }
    if (!PASSES[check](at)) {
      throw new Error(`${source}: field "${field}" is ${at === undefined ? 'missing' : JSON.stringify(at)}; expected ${EXPECTED[check]}`);
    }
  }
}

/** Checks parsed JSON against ResultRecord; `source` (the file) starts every error, which names the field. */
export function checkResult(value: unknown, source: string): ResultRecord {
  checkFields(value, FIELDS, source);
  const record = value as ResultRecord;
  if (record.subset.latent !== undefined) checkFields(value, LATENT_FIELDS, source);
  if (Number.isNaN(Date.parse(record.date))) throw new Error(`${source}: field "date" is ${JSON.stringify(record.date)}; expected an ISO 8601 date`);
  return record;
}

/** A JSON file's contents, unchecked; a file that does not parse is an error naming it. */
export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** Reads and checks `dir/result.json`. */
export function readResult(dir: string): ResultRecord {
  const file = path.join(dir, RESULT_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist; expected the result of an exported run (npm run reproduce -- --export-only)`);
  return checkResult(readJsonFile(file), file);
}

/** An exported run's epochs: test bits/dim where the epoch was evaluated. */
export interface ExportedEpoch {
  epoch: number;
  trainBitsPerDim: number;
  testBitsPerDim?: number;
  seconds: number;
}

/** Reads and checks `dir/history.json` of an exported run: its epochs in order, each with the fields the table and notebooks use. */
export function readHistory(dir: string): ExportedEpoch[] {
  const file = path.join(dir, HISTORY_FILE);
  const parsed = readJsonFile(file);
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON list of epochs, got ${JSON.stringify(parsed).slice(0, 40)}`);
  parsed.forEach((entry: unknown, i) => {
    checkFields(entry, [['epoch', 'count'], ['trainBitsPerDim', 'number'], ['seconds', 'number']], `${file}: epoch ${i}`);
    const { epoch, testBitsPerDim } = entry as ExportedEpoch;
    if (epoch !== i) throw new Error(`${file}: epoch ${i}: field "epoch" is ${epoch}; expected ${i} (epochs in order from 0)`);
    if (testBitsPerDim !== undefined) checkFields(entry, [['testBitsPerDim', 'number']], `${file}: epoch ${i}`);
  });
  return parsed as ExportedEpoch[];
}

export function writeResult(dir: string, record: ResultRecord): void {
  writeFileAtomic(path.join(dir, RESULT_FILE), `${JSON.stringify(checkResult(record, 'result being written'), null, 1)}\n`);
}
