/**
 * `npm run train -- ...`: trains a model from the command line with the original project's flags
 * (`train-cnn.py` / `train-cond.py`), writing a run folder with checkpoints, history.json and a sample
 * grid per evaluation. Node-only (files, progress bar).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError, Option } from 'commander';
import * as cliProgress from 'cli-progress';
import { initBackend } from '../backend';
import { loadDataset, TASK_NAMES } from '../data';
import { isVaeKind, MODEL_KINDS, ModelKind, parameterCount } from '../models';
import { isPixelVAE } from '../models/vae';
import { latentUsage } from '../diagnostics/latent-usage';
import { writeFileAtomic, readCheckpoint, saveCheckpoint } from '../train/checkpoint-file';
import { checkpointRun, disposeRun, resumeRun, Run, startRun } from '../train/run';
import { defaultWorkerCount, startGradientWorkers } from '../train/workers';
import { EpochRecord } from '../train/trainer';
import { datasetGrid } from '../sample/dataset-grid';
import { gridPng } from '../render/grid';

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
    .option('-e, --epochs <n>', 'number of epochs', integer(1), 15)
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
    .option('--resume <checkpoint>', 'continue from a checkpoint file or a run folder holding checkpoint.ckpt')
    .option('--seed <n>', 'seed for weights and data order', integer(0), 0)
    .option('--json', 'print one JSON line per epoch on stdout', false)
    .option('--no-samples', 'skip the sample grid after each evaluation')
    .option('--workers <n>', 'helper threads that share each training step (default: one per extra core on the wasm/cpu backends; 0 = none)', integer(0))
    .exitOverride();
}

function resolveCheckpoint(resume: string): string {
  const file = fs.existsSync(resume) && fs.statSync(resume).isDirectory() ? path.join(resume, 'checkpoint.ckpt') : resume;
  if (!fs.existsSync(file)) throw new Error(`--resume: ${file} does not exist`);
  return file;
}

/** Samples the 12x12 grid (top: from scratch; bottom: completing test images) and writes it as a PNG. */
async function writeGrid(run: Run, file: string, seed: number): Promise<void> {
  const grid = await datasetGrid(run.model, run.dataset, { seed });
  writeFileAtomic(file, gridPng(grid, grid.layout));
}

export async function train(options: TrainOptions): Promise<Run> {
  if (!options.resume && !isVaeKind(options.model) && (options.klWarmup || options.freeBits)) {
    throw new Error(`--kl-warmup and --free-bits act on a PixelVAE's KL term (-m ${MODEL_KINDS.filter(isVaeKind).join(' or -m ')}); -m ${options.model} has none`);
  }
  const backend = await initBackend();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`backend: ${backend.description}`);
  const dataset = await loadDataset(options.task, { dataDirectory: options.dataDirectory });
  log(`dataset: ${dataset.name} (${dataset.train.count} train / ${dataset.test.count} test, ${dataset.height}x${dataset.width}x${dataset.channels})`);
  const klOptions = {
    ...(options.klWarmup !== undefined ? { klWarmupSteps: options.klWarmup } : {}),
    ...(options.freeBits !== undefined ? { freeBits: options.freeBits } : {}),
  };
  const trainOverrides = {
    epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate, limit: options.limit,
    testLimit: options.testLimit, evaluateEvery: options.evaluateEvery, seed: options.seed, ...klOptions,
  };
  const checkpointFile = options.resume ? resolveCheckpoint(options.resume) : undefined;
  const run = checkpointFile
    ? await resumeRun(readCheckpoint(checkpointFile), dataset, { epochs: options.epochs, ...klOptions }, checkpointFile)
    : startRun(dataset, {
      kind: options.model, layers: options.layers, kernelSize: options.kernelSize, channels: options.channels, seed: options.seed,
      ...(isVaeKind(options.model) ? { latentSize: options.zsize, vaeDepth: options.vaeDepth, vaeChannels: options.vaeChannels, posteriorLogVarInit: options.posteriorLogvarInit } : {}),
    }, trainOverrides);
  const out = options.out ?? (checkpointFile ? path.dirname(checkpointFile) : path.join('runs', `${options.task}-${run.model.config.kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  fs.mkdirSync(out, { recursive: true });
  log(`model: ${run.model.config.kind}, ${parameterCount(run.model)} parameters; run folder: ${out}`);
  const { klWarmupSteps, freeBits } = run.trainer.config;
  if (klWarmupSteps) log(`KL warm-up: the KL weight rises from 0 to 1 over ${klWarmupSteps} steps (reported bits/dim stay the true negative ELBO)`);
  if (freeBits) log(`free bits: each latent dimension's KL counts as at least ${freeBits} nats while training`);
  const workers = await startGradientWorkers(run, options.workers ?? defaultWorkerCount(backend.name));
  log(workers ? `training on this thread + ${workers.count} helper worker thread${workers.count === 1 ? '' : 's'} (--workers ${workers.count})` : 'training on one thread');

  const bar = new cliProgress.SingleBar({
    format: 'epoch {epoch} [{bar}] {value}/{total} batches | {bits} bits/dim | {eta_formatted} left',
    stream: process.stderr, hideCursor: true, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 10000,
  }, cliProgress.Presets.shades_classic);
  let barEpoch = -1;
  await run.trainer.run({
    onBatch: (info) => {
      if (info.epoch !== barEpoch) {
        bar.start(info.batchesPerEpoch, info.batch, { epoch: info.epoch, bits: '-' });
        barEpoch = info.epoch;
      }
      bar.update(info.batch + 1, { bits: info.bitsPerDim.toFixed(3) });
    },
    onEpoch: async (record: EpochRecord, history) => {
      bar.stop();
      barEpoch = -1;
      saveCheckpoint(path.join(out, 'checkpoint.ckpt'), await checkpointRun(run, { task: options.task }));
      writeFileAtomic(path.join(out, 'history.json'), JSON.stringify(history.epochs, null, 1));
      const line: Record<string, number | null> = { epoch: record.epoch, train_bits_per_dim: record.trainBitsPerDim, test_bits_per_dim: record.testBitsPerDim ?? null, seconds: record.seconds };
      // Objectives with parts (a PixelVAE: reconstruction and kl, adding up to the bits/dim) get a key per part.
      for (const [name, bits] of Object.entries(record.trainParts ?? {})) line[`train_${name}_bits_per_dim`] = bits;
      if (record.trainParts) for (const name of Object.keys(record.trainParts)) line[`test_${name}_bits_per_dim`] = record.testParts?.[name] ?? null;
      // A PixelVAE's KL does not say whether the PixelCNN uses z (notebook 04): measure it on the evaluated test images.
      const usage = isPixelVAE(run.model) && record.testBitsPerDim !== undefined
        ? await latentUsage(run.model, run.dataset.test.images, Math.min(run.dataset.test.count, run.trainer.config.testLimit ?? 1000), run.trainer.config.batchSize)
        : undefined;
      if (usage) line.test_z_saves_bits_per_image = usage.bitsPerImage;
      if (options.json) process.stdout.write(`${JSON.stringify(line)}\n`);
      const parts = (p: Record<string, number> | undefined) => p ? ` (${Object.entries(p).map(([name, bits]) => `${name} ${bits.toFixed(4)}`).join(' + ')})` : '';
      log(`epoch ${record.epoch}: train ${record.trainBitsPerDim.toFixed(4)} bits/dim${parts(record.trainParts)}${record.testBitsPerDim !== undefined ? `, test ${record.testBitsPerDim.toFixed(4)} bits/dim${parts(record.testParts)}` : ''} (${record.seconds.toFixed(1)} s)`);
      if (usage) {
        log(`z: on the first ${usage.images} test images, their own z saves ${usage.bitsPerImage.toFixed(1)} bits per image over another image's z` +
          `${Math.abs(usage.bitsPerImage) < 1 ? ' (the PixelCNN ignores z: posterior collapse)' : ''}`);
      }
      if (record.testBitsPerDim !== undefined && options.samples) {
        const file = path.join(out, `samples-epoch-${record.epoch}.png`);
        await writeGrid(run, file, options.seed);
        log(`samples: ${file}`);
      }
    },
  });
  return run;
}

export async function main(argv: string[]): Promise<number> {
  const program = commandLine();
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === undefined ? 2 : code === 0 ? 0 : 2;
  }
  const run = await train(program.opts<TrainOptions>());
  disposeRun(run);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: Error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  });
}
