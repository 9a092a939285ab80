/**
 * The training command's flags: the original project's (`train-cnn.py` / `train-cond.py`) and ours, parsed and
 * checked by commander; what `npm run train -- --help` prints comes from here. The flags of a kind's own config
 * fields come from the model specs (model-flags.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { TASK_NAMES } from '../data';
import { MODEL_KINDS, ModelKind, ModelOption, modelSpec } from '../models';
import { RESUMABLE_TRAIN_FIELDS, TrainConfig } from '../train/config';
import { fieldsOf, kindsLabel, MODEL_FLAGS, ModelFlag, RESUMABLE_MODEL_FLAGS } from './model-flags';

/** Reads a flag's text as an integer or finite number, >= min if given; the error says what was expected. */
export function numberParser({ type, min }: ModelOption['value']) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n)) || (min !== undefined && n < min)) {
      throw new InvalidArgumentError(`expected ${type === 'integer' ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}`);
    }
    return n;
  };
}

const integer = (min: number) => numberParser({ type: 'integer', min });

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export interface TrainOptions {
  task: string;
  model: ModelKind;
  epochs: number;
  batchSize: number;
  layers: number;
  kernelSize: number;
  channels: number;
  learningRate: number;
  limit?: number;
  testLimit?: number;
  evaluateEvery: number;
  dataDirectory?: string;
  out?: string;
  resume?: string;
  seed: number;
  json: boolean;
  samples: boolean;
  /** Helper worker threads sharing each step; undefined = one per extra core on wasm/cpu (PIXEL_WORKERS overrides). */
  workers?: number;
  /**
   * The kinds' own flags (MODEL_FLAGS), by commander's attribute name (zsize, vaeDepth, vaeChannels,
   * posteriorLogvarInit, klWarmup, freeBits): numbers, undefined where neither typed nor defaulted.
   */
  [modelFlag: string]: string | number | boolean | undefined;
}

/** The trainer's settings the command line sets (TrainConfig's other fields keep their defaults). */
export function trainSettings(options: TrainOptions): Partial<TrainConfig> {
  const { epochs, batchSize, learningRate, limit, testLimit, evaluateEvery, seed } = options;
  return { epochs, batchSize, learningRate, limit, testLimit, evaluateEvery, seed };
}

function option(flags: string, help: string, parse?: (text: string) => number, value?: unknown): Option {
  const made = new Option(flags, help);
  if (parse) made.argParser(parse);
  return value === undefined ? made : made.default(value);
}

/**
 * A kind-specific flag: its help names the kinds that have it, and it defaults to their default where they
 * agree, except resumable ones: --resume must see whether those were typed.
 */
function modelFlagOption({ option: spec, kinds }: ModelFlag): Option {
  const defaults = new Set(kinds.map((kind) => fieldsOf(modelSpec(kind).defaults)[spec.field]));
  const value = spec.resumable || defaults.size !== 1 ? undefined : [...defaults][0];
  return option(spec.flag, `${kindsLabel(kinds)}: ${spec.help}`, numberParser(spec.value), value);
}

export function commandLine(): Command {
  const before = [
    new Option('-t, --task <task>', 'dataset').choices([...TASK_NAMES]).default('mnist'),
    new Option('-m, --model <kind>', 'model').choices([...MODEL_KINDS]).default('gated'),
    option('-e, --epochs <n>', 'number of epochs in all (with --resume: default the run\'s own; a larger N extends it)', integer(1), 15),
    option('-b, --batch-size <n>', 'batch size', integer(1), 64),
    option('-x, --layers <n>', 'number of masked/gated layers', integer(1), 5),
    option('-k, --kernel-size <n>', 'kernel size (odd)', integer(1), 5),
    option('-c, --channels <n>', 'hidden channels (divisible by the colours)', integer(1), 30),
    ...MODEL_FLAGS.map(modelFlagOption),
    option('-l, --learning-rate <lr>', 'Adam learning rate', positiveNumber, 0.001),
    option('--limit <n>', 'at most this many training images per epoch', integer(1)),
    option('--test-limit <n>', 'at most this many test images per evaluation', integer(1)),
    option('--evaluate-every <n>', 'evaluate (and sample) every this many epochs', integer(1), 1),
    option('-D, --data-directory <dir>', 'where the dataset is (see README)'),
    option('--out <dir>', 'run folder (default runs/<task>-<model>-<time>)'),
  ];
  const after = [
    option('--seed <n>', 'seed for weights and data order', integer(0), 0),
    option('--json', 'print one JSON line per epoch on stdout', undefined, false),
    option('--no-samples', 'skip the sample grid after each evaluation'),
    option('--workers <n>', 'helper threads that share each training step (default: one per extra core on the wasm/cpu backends; 0 = none)', integer(0)),
  ];
  // The train config fields --resume may change are the attribute names of their flags (-e: epochs).
  const changeable = [...RESUMABLE_TRAIN_FIELDS, 'workers', ...RESUMABLE_MODEL_FLAGS.map((flag) => flag.key)];
  const resume = option('--resume <checkpoint>', 'continue from a checkpoint file or a run folder holding checkpoint.ckpt, as the run was configured; ' +
    `flags defining the model or data must match it, ${changeable.map((key) => writtenAs([...before, ...after], key)).join(' ')} change it`);
  const program = new Command('train')
    .description('Train a PixelCNN on a dataset; writes checkpoints, history.json and sample grids to a run folder');
  for (const each of [...before, resume, ...after]) program.addOption(each);
  return program.allowExcessArguments(false).exitOverride();
}

function writtenAs(options: readonly Option[], key: string): string {
  const found = options.find((o) => o.attributeName() === key);
  return found ? found.short ?? found.long ?? key : key;
}

/** How the user writes an option (`-x`, `--zsize`), for messages. */
export function flag(key: string): string {
  return writtenAs(commandLine().options, key);
}
