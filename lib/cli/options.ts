/**
 * The training command's flags: the original project's (`train-cnn.py` / `train-cond.py`) and ours, parsed and
 * checked by commander; what `npm run train -- --help` prints comes from here.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { TASK_NAMES } from '../data';
import { MODEL_KINDS, ModelKind } from '../models';

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number >= 0');
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
  /** PixelVAE options (ignored by the other models). */
  zsize: number;
  vaeDepth: number;
  vaeChannels: number;
  /** PixelVAE: the log-variance q(z|x) starts with (modelConfig.posteriorLogVarInit). */
  posteriorLogvarInit: number;
  /** PixelVAE: KL weight rises from 0 to 1 over this many steps (trainConfig.klWarmupSteps). */
  klWarmup?: number;
  /** PixelVAE: floor, in nats per latent dimension, on each dimension's KL while training (trainConfig.freeBits). */
  freeBits?: number;
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
}

export function commandLine(): Command {
  return new Command('train')
    .description('Train a PixelCNN on a dataset; writes checkpoints, history.json and sample grids to a run folder')
    .addOption(new Option('-t, --task <task>', 'dataset').choices([...TASK_NAMES]).default('mnist'))
    .addOption(new Option('-m, --model <kind>', 'model').choices([...MODEL_KINDS]).default('gated'))
    .option('-e, --epochs <n>', 'number of epochs in all (with --resume: default the run\'s own; a larger N extends it)', integer(1), 15)
    .option('-b, --batch-size <n>', 'batch size', integer(1), 64)
    .option('-x, --layers <n>', 'number of masked/gated layers', integer(1), 5)
    .option('-k, --kernel-size <n>', 'kernel size (odd)', integer(1), 5)
    .option('-c, --channels <n>', 'hidden channels (divisible by the colours)', integer(1), 30)
    .option('--zsize <n>', 'PixelVAE (vae-up, vae-straight): size of the latent z', integer(1), 32)
    .option('--vae-depth <n>', 'PixelVAE: extra encoder/decoder blocks at the lowest resolution (besides the 3 resolution blocks)', integer(0), 0)
    .option('--vae-channels <n>', 'PixelVAE: channels of the widest encoder/decoder block (the others get 1/2 and 1/8)', integer(1), 128)
    .option('--posterior-logvar-init <x>', 'PixelVAE: the log-variance q(z|x) starts with (0: the prior\'s width; e.g. -4 starts narrow, against posterior collapse)', finiteNumber, 0)
    .option('--kl-warmup <steps>', 'PixelVAE: the KL term\'s weight rises linearly from 0 to 1 over this many steps (against posterior collapse)', integer(0))
    .option('--free-bits <nats>', 'PixelVAE: while training, each latent dimension\'s KL counts as at least this many nats', nonNegativeNumber)
    .option('-l, --learning-rate <lr>', 'Adam learning rate', positiveNumber, 0.001)
    .option('--limit <n>', 'at most this many training images per epoch', integer(1))
    .option('--test-limit <n>', 'at most this many test images per evaluation', integer(1))
    .option('--evaluate-every <n>', 'evaluate (and sample) every this many epochs', integer(1), 1)
    .option('-D, --data-directory <dir>', 'where the dataset is (see README)')
    .option('--out <dir>', 'run folder (default runs/<task>-<model>-<time>)')
    .option('--resume <checkpoint>', 'continue from a checkpoint file or a run folder holding checkpoint.ckpt, as the run was configured; flags defining the model or data must match it, -e -l --evaluate-every --test-limit --workers --kl-warmup --free-bits change it')
    .option('--seed <n>', 'seed for weights and data order', integer(0), 0)
    .option('--json', 'print one JSON line per epoch on stdout', false)
    .option('--no-samples', 'skip the sample grid after each evaluation')
    .option('--workers <n>', 'helper threads that share each training step (default: one per extra core on the wasm/cpu backends; 0 = none)', integer(0))
    .allowExcessArguments(false)
    .exitOverride();
}

/** How the user writes an option (`-x`, `--zsize`), for messages. */
export function flag(key: string): string {
  const option = commandLine().options.find((o) => o.attributeName() === key);
  return option ? option.short ?? option.long ?? key : key;
}
