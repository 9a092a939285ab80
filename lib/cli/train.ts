/**
 * `npm run train -- ...`: trains a model from the command line with the original project's flags
 * (`train-cnn.py` / `train-cond.py`), writing a run folder with checkpoints, history.json, a sample grid per
 * evaluation and the run record (run.json: lib/runs; `npm run runs` lists and compares them). Ctrl-C records the
 * run as interrupted before the process ends. Node-only (files, progress bar).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as cliProgress from 'cli-progress';
import { initBackend } from '../backend';
import { loadDataset } from '../data';
import { taskShape } from '../data/tasks';
import { modelSpec, parameterCount, requirePixelVAE } from '../models';
import { ignoresZ, latentUsage } from '../diagnostics/latent-usage';
import { writeFileAtomic, readCheckpoint, saveCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { checkpointRun, checkShape, disposeRun, modelConfigFor, resumeRun, Run, startRun } from '../train/run';
import { defaultWorkerCount, startGradientWorkers } from '../train/workers';
import { EpochRecord, NonFiniteLossError } from '../train/trainer';
import { DEFAULT_DIVERGENCE_OPTIONS, DivergenceError, DivergenceWarning } from '../train/divergence';
import { datasetGrid } from '../sample/dataset-grid';
import { gridPng } from '../render/grid';
import { onInterrupt } from '../runs/interrupt';
import { runsSpace } from '../runs/location';
import { RunRecorder } from '../runs/recorder';
import { thumbnailPng } from '../runs/thumbnail';
import { fieldsOf, MODEL_FLAGS, modelInput, refuseForeignFlags } from './model-flags';
import { commandLine, flag, trainSettings, TrainOptions } from './options';
import { describeChanges, recordedTask, RESUMABLE_OPTIONS, resumeConflicts, ResumeOverrides, resumeOverrides, ResumeRecord } from './resume';

export { commandLine } from './options';
export type { TrainOptions } from './options';

function resolveCheckpoint(resume: string): string {
  const file = fs.existsSync(resume) && fs.statSync(resume).isDirectory() ? path.join(resume, 'checkpoint.ckpt') : resume;
  if (!fs.existsSync(file)) throw new Error(`--resume: ${file} does not exist`);
  return file;
}

/**
 * Fails now, not after the dataset is loaded, when the run folder cannot be a folder: `out` is a file, or the
 * nearest existing folder above it is a file.
 */
function checkOutFolder(out: string): void {
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new Error(`--out ${out} is a file; expected a folder for the run (it is created if missing)`);
    return;
  }
  let above = path.dirname(path.resolve(out));
  while (!fs.existsSync(above)) above = path.dirname(above);
  if (!fs.statSync(above).isDirectory()) throw new Error(`--out ${out}: cannot create the run folder there, ${above} is a file`);
}

function makeOutFolder(out: string): void {
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (error) {
    throw new Error(`--out ${out}: cannot create the run folder (${(error as Error).message})`);
  }
}

/** Samples the 12x12 grid (top: from scratch; bottom: completing test images), writes it as a PNG; returns its thumbnail. */
async function writeGrid(run: Run, file: string, seed: number): Promise<Uint8Array> {
  const grid = await datasetGrid(run.model, run.dataset, { seed });
  writeFileAtomic(file, gridPng(grid, grid.layout));
  return thumbnailPng(grid, grid.layout);
}

/** The default run folder, in the runs space (PIXEL_RUNS_DIR, runs/smoke/ under PIXEL_SMOKE=1); relative when below the working folder. */
function defaultOut(task: string, kind: string): string {
  const folder = path.join(runsSpace(), `${task}-${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const relative = path.relative(process.cwd(), folder);
  return relative.startsWith('..') || path.isAbsolute(relative) ? folder : relative;
}

/**
 * Logs the training options of the model's kind in force (resumable options away from their default, such as
 * a PixelVAE's KL warm-up), with their flag and meaning.
 */
function logTrainingOptions(run: Run, log: (line: string) => void): void {
  const config = fieldsOf(run.model.config);
  const defaults = fieldsOf(modelSpec(run.model.config.kind).defaults);
  for (const { name, option, kinds } of MODEL_FLAGS) {
    if (!option.resumable || !kinds.includes(run.model.config.kind) || config[option.field] === defaults[option.field]) continue;
    log(`${name} ${String(config[option.field])}: ${option.help}`);
  }
}

/** A path as one shell word. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Trains as the options say. `given` names the options typed on the command line (the others hold defaults):
 * on --resume those define whether a flag changes the run, conflicts with it, or is left to the checkpoint.
 * Returns undefined when there was nothing to train (a finished run resumed without a larger -e).
 */
export async function train(options: TrainOptions, given: ReadonlySet<string> = new Set()): Promise<Run | undefined> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (options.out !== undefined) checkOutFolder(options.out);
  // Everything that can be checked without the data is checked first: a dataset can take minutes to download.
  const checkpointFile = options.resume ? resolveCheckpoint(options.resume) : undefined;
  const checkpoint = checkpointFile ? readCheckpoint(checkpointFile) : undefined;
  const task = checkpoint && !given.has('task') ? recordedTask(checkpoint) ?? options.task : options.task;
  const shape = { name: task, ...taskShape(task) };
  let overrides: ResumeOverrides | undefined;
  if (checkpoint && checkpointFile) {
    const conflicts = resumeConflicts(options, given, checkpoint);
    if (conflicts.length > 0) {
      throw new Error(`--resume ${checkpointFile}: ${conflicts.length === 1 ? 'this flag differs' : 'these flags differ'} from the checkpoint, ` +
        `and ${conflicts.length === 1 ? 'it defines' : 'they define'} the model or its data: ${conflicts.join(', ')}. ` +
        'Leave them out to continue the run, or start a new run without --resume.');
    }
    checkShape(checkpoint.modelConfig, shape, checkpointFile);
    refuseForeignFlags(checkpoint.modelConfig.kind, given, `the checkpoint's model, ${checkpoint.modelConfig.kind},`);
    overrides = resumeOverrides(options, given, checkpoint);
    const saved = trainConfig(checkpoint.trainConfig);
    const done = checkpoint.trainerState?.position.epoch ?? 0;
    const epochs = overrides.train.epochs ?? saved.epochs;
    if (done >= epochs) {
      if (epochs < done && given.has('epochs')) {
        throw new Error(`-e ${epochs}: ${checkpointFile} has already trained ${done} epochs; -e is the total number of epochs, pass -e ${done + 1} or more to train further`);
      }
      log(`${checkpointFile}: the run is finished (${done} of ${epochs} epochs trained); nothing to do. Pass -e ${done + 1} or more (the new total) to train it further.`);
      return undefined;
    }
  } else {
    refuseForeignFlags(options.model, given, `-m ${options.model}`);
    modelConfigFor(shape, modelInput(options));
  }

  const backend = await initBackend();
  log(`backend: ${backend.description}`);
  const recordedDirectory = checkpoint?.meta?.dataDirectory;
  const dataDirectory = options.dataDirectory ?? (typeof recordedDirectory === 'string' ? recordedDirectory : undefined);
  const dataset = await loadDataset(task, { dataDirectory });
  log(`dataset: ${dataset.name} (${dataset.train.count} train / ${dataset.test.count} test, ${dataset.height}x${dataset.width}x${dataset.channels})`);
  const run = checkpoint && checkpointFile && overrides
    ? await resumeRun(checkpoint, dataset, overrides.train, checkpointFile, overrides.model)
    : startRun(dataset, modelInput(options), trainSettings(options));
  const config = run.trainer.config;
  const out = options.out ?? (checkpointFile ? path.dirname(checkpointFile) : defaultOut(task, run.model.config.kind));
  makeOutFolder(out);
  log(`model: ${run.model.config.kind}, ${parameterCount(run.model)} parameters; run folder: ${out}`);
  logTrainingOptions(run, log);
  // Helper threads change how a step's batch is split (and so a PixelVAE's noise): a resumed run keeps its count.
  const savedWorkers = typeof checkpoint?.meta?.workers === 'number' ? checkpoint.meta.workers : undefined;
  const workerCount = options.workers ?? savedWorkers ?? defaultWorkerCount(backend.name);
  const changes = overrides?.changes ?? {};
  if (checkpoint && given.has('workers') && workerCount !== savedWorkers) changes.workers = { from: savedWorkers ?? null, to: workerCount };
  const workers = await startGradientWorkers(run, workerCount);
  log(workers ? `training on this thread + ${workers.count} helper worker thread${workers.count === 1 ? '' : 's'} (--workers ${workers.count})` : 'training on one thread');
  const meta = { task, workers: workers?.count ?? 0, ...(dataDirectory !== undefined ? { dataDirectory: path.resolve(dataDirectory) } : {}) };
  const recorder = RunRecorder.open(run, { folder: out, source: 'cli', task, backend, workers: meta.workers, resuming: checkpointFile });

  let resumed: ResumeRecord | undefined;
  if (checkpointFile) {
    const { step, position } = run.trainer.state;
    resumed = { step, checkpoint: path.resolve(checkpointFile), changes };
    log(`resuming ${checkpointFile} after epoch ${position.epoch} (step ${step}), training to epoch ${config.epochs}` +
      `${Object.keys(changes).length > 0 ? `; changed: ${describeChanges(changes)}` : ''}`);
  }
  // The checkpoint a diverged run can go back to: the last one this run wrote, else the one it resumed from.
  let lastCheckpoint = checkpointFile;

  const bar = new cliProgress.SingleBar({
    format: 'epoch {epoch} [{bar}] {value}/{total} batches | {bits} bits/dim | {eta_formatted} left',
    stream: process.stderr, hideCursor: true, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 10000,
  }, cliProgress.Presets.shades_classic);
  let barEpoch = -1;
  // The divergence warning in force at the latest step: an epoch that ends worse than uniform keeps the last checkpoint.
  let diverging: DivergenceWarning | undefined;
  const stopWatching = onInterrupt(() => {
    bar.stop();
    const { step, position } = run.trainer.state;
    const where = `step ${step} (epoch ${position.epoch}, batch ${position.batchIndex})`;
    recorder.interrupt(run, `interrupted at ${where}`);
    log(`interrupted at ${where}; ${lastCheckpoint ? `continue from the last checkpoint: npm run train -- --resume ${shellWord(lastCheckpoint)}` : 'no checkpoint was written yet'}`);
  });
  try {
    await run.trainer.run({
      onWarning: (warning) => {
        if (process.stderr.isTTY) process.stderr.write('\n'); // the progress bar holds the current line
        log(`warning: ${warning.message}`);
      },
      onBatch: (info) => {
        diverging = info.divergence;
        if (info.epoch !== barEpoch) {
          bar.start(info.batchesPerEpoch, info.batch, { epoch: info.epoch, bits: '-' });
          barEpoch = info.epoch;
        }
        bar.update(info.batch + 1, { bits: info.bitsPerDim.toFixed(3) });
      },
      onEpoch: async (record: EpochRecord, history) => {
        bar.stop();
        barEpoch = -1;
        // The record is the one in the trainer's history, so the checkpoint keeps it too.
        if (resumed) Object.assign(record, { resumed });
        resumed = undefined;
        const file = path.join(out, 'checkpoint.ckpt');
        // Weights worse than a uniform guess would replace the checkpoint a lower learning rate can restart from with
        // one it cannot. The watch needs a full window of steps; the epoch's mean covers the steps before that.
        const { uniformBitsPerDim, uniformMargin } = { ...DEFAULT_DIVERGENCE_OPTIONS, ...run.trainer.divergence };
        const worseThanUniform = diverging?.symptom === 'worse-than-uniform' ? `since step ${diverging.since}`
          : record.trainBitsPerDim > uniformBitsPerDim + uniformMargin ? `in this epoch (${record.trainBitsPerDim.toPrecision(3)} bits/dim)` : undefined;
        if (worseThanUniform) {
          log(`checkpoint not written after epoch ${record.epoch}: the loss has been worse than uniform ${worseThanUniform}` +
            `${lastCheckpoint ? `; ${lastCheckpoint} is kept` : ''}`);
        } else {
          saveCheckpoint(file, await checkpointRun(run, meta));
          lastCheckpoint = file;
          writeFileAtomic(path.join(out, 'history.json'), JSON.stringify(history.epochs, null, 1));
          recorder.update(run, { checkpoint: file }); // now: an interrupt while sampling must name this checkpoint
        }
        const line: Record<string, number | null> = { epoch: record.epoch, train_bits_per_dim: record.trainBitsPerDim, test_bits_per_dim: record.testBitsPerDim ?? null, seconds: record.seconds };
        // Objectives with parts (a PixelVAE: reconstruction and kl, adding up to the bits/dim) get a key per part.
        for (const [name, bits] of Object.entries(record.trainParts ?? {})) line[`train_${name}_bits_per_dim`] = bits;
        if (record.trainParts) for (const name of Object.keys(record.trainParts)) line[`test_${name}_bits_per_dim`] = record.testParts?.[name] ?? null;
        // A KL term (a PixelVAE's) does not say whether the PixelCNN uses z (notebook 04): measure it on the evaluated test images.
        const usage = record.testParts?.kl !== undefined
          ? await latentUsage(requirePixelVAE(run.model, 'z usage'), run.dataset.test.images, Math.min(run.dataset.test.count, config.testLimit ?? 1000), config.batchSize)
          : undefined;
        if (usage) line.test_z_saves_bits_per_image = usage.bitsPerImage;
        if (options.json) process.stdout.write(`${JSON.stringify(line)}\n`);
        const parts = (p: Record<string, number> | undefined) => p ? ` (${Object.entries(p).map(([name, bits]) => `${name} ${bits.toFixed(4)}`).join(' + ')})` : '';
        log(`epoch ${record.epoch}: train ${record.trainBitsPerDim.toFixed(4)} bits/dim${parts(record.trainParts)}${record.testBitsPerDim !== undefined ? `, test ${record.testBitsPerDim.toFixed(4)} bits/dim${parts(record.testParts)}` : ''} (${record.seconds.toFixed(1)} s)`);
        if (usage) {
          log(`z: on the first ${usage.images} test images, their own z saves ${usage.bitsPerImage.toFixed(1)} bits per image over another image's z` +
            `${ignoresZ(usage) ? ' (the PixelCNN ignores z: posterior collapse)' : ''}`);
        }
        let thumbnail: Uint8Array | undefined;
        if (record.testBitsPerDim !== undefined && options.samples) {
          const grid = path.join(out, `samples-epoch-${record.epoch}.png`);
          thumbnail = await writeGrid(run, grid, config.seed);
          log(`samples: ${grid}`);
        }
        recorder.update(run, { thumbnail });
      },
    });
    recorder.finish(run);
  } catch (error) {
    bar.stop();
    // Both say the weights are unusable and to lower the learning rate; only here is it known which checkpoint to go
    // back to. (The trainer's DivergenceError, for a loss that explodes but stays finite,.)
    if (error instanceof NonFiniteLossError || error instanceof DivergenceError) {
      const lower = Number((config.learningRate / 3).toPrecision(1));
      if (lastCheckpoint) {
        // Going back to the checkpoint this run resumed from loses the flags it was resumed with: repeat them.
        const repeat = lastCheckpoint === checkpointFile
          ? [...Object.keys(RESUMABLE_OPTIONS), 'workers'].filter((key) => key !== 'learningRate' && given.has(key)).map((key) => `${flag(key)} ${String(options[key])}`)
          : [];
        if (path.resolve(out) !== path.resolve(path.dirname(lastCheckpoint))) repeat.push(`--out ${shellWord(out)}`);
        error.message += `; then resume from the last checkpoint: npm run train -- --resume ${shellWord(lastCheckpoint)} -l ${lower}${repeat.map((word) => ` ${word}`).join('')}`;
      } else {
        error.message += `; no checkpoint was written yet (one is written after each epoch), so start again, e.g. with -l ${lower}`;
      }
    }
    recorder.fail(run, error);
    disposeRun(run);
    throw error;
  } finally {
    stopWatching();
  }
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
  // Which options the user typed, as opposed to defaults: --resume treats the two differently.
  const given = new Set(program.options.map((o) => o.attributeName()).filter((key) => program.getOptionValueSource(key) === 'cli'));
  const run = await train(program.opts<TrainOptions>(), given);
  if (run) disposeRun(run);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: Error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  });
}
