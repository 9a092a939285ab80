/**
 * What a model notebook does, one call per cell:
 *
 *   loadChartLibrary()          inline plotly.js once (charts in the notebook and in exported reports)
 *   await prepare(config)       backend, dataset, model (or a reusable checkpoint), shown as a table
 *   await train(session)        live progress line + chart beside earlier runs; a checkpoint after every epoch (./train.ts)
 *   await showSamples(session)  the 12 x 12 grid (top: samples, bottom: completions), class rows if conditional
 *   showResults(session)        the final test bits/dim in a small table, and this run beside earlier ones
 *
 * Every training run is recorded (./run-record.ts: runs/notebooks/<name>/<id>/, with a copy of its checkpoint);
 * prepare's `run` option (or nb.loadRun, ./load-run.ts) loads a recorded run's checkpoint by its id.
 *
 * Kernel -> Interrupt stops training at its next step (./interrupt.ts); running the train cell again goes on from there.
 * Node only (files, backend). Notebooks import it through ./index.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BackendInfo, initBackend } from '../backend/index';
import { Dataset } from '../data/dataset';
import { loadDataset } from '../data/index';
import { projectRoot } from '../project-root';
import { gridPng } from '../render/grid';
import type { RunsLocation } from '../runs/location';
import { thumbnailPng } from '../runs/thumbnail';
import { datasetGrid, sample } from '../sample/index';
import { readCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { modelConfigFor, resumeRun, Run, startRun } from '../train/run';
import { defaultWorkerCount, GradientWorkers, startGradientWorkers } from '../train/workers';
import type { History } from '../train/trainer';
import { effectiveConfig, NotebookConfig, RunIdentity, validateNotebookConfig } from './config';
import { CheckpointDecision, decideCheckpointUse, FoundCheckpoint } from './checkpoint-decision';
import { RunChoice, sessionComparisonHtml } from './compare-runs';
import { formatDuration } from './html';
import { interruptible, Interrupts, kernelInterrupts } from './interrupt';
import { loadedRunConfig, loadedStart, LoadedRun, readRunCheckpoint } from './load-run';
import { defaultOutputs, Outputs } from './output';
import { plotlyBundleHtml } from './plotly';
import { checkpointRecord, noteWarning, RecordRef, recordReusedRun, recordThumbnail } from './run-record';
import {
  classGridCaptionHtml, datasetProgress, gridCaptionHtml, resultsHtml, samplingProgress, stoppableSampling, summaryHtml,
} from './session-view';
import type { TrainingEnd } from './train';

export { train } from './train';
export type { TrainingEnd } from './train';

export interface SampleImages {
  /** The PNG shown for the 12 x 12 grid. */
  grid: Uint8Array;
  /** Conditional models: the PNG with one row per class. */
  classes?: Uint8Array;
  seconds: number;
}

export interface Session {
  /** The configuration in effect (the smoke settings when PIXEL_SMOKE=1). */
  config: NotebookConfig;
  smoke: boolean;
  backend: BackendInfo;
  dataset: Dataset;
  run: Run;
  identity: RunIdentity;
  /** Absolute path of the checkpoint file. */
  checkpointFile: string;
  /** 'new': trains from scratch; 'reused': a finished checkpoint was loaded; 'resumed': an unfinished one continues. */
  start: 'new' | 'reused' | 'resumed';
  /** Why it starts that way (shown in the notebook). */
  startNote: string;
  outputs: Outputs;
  /** Where run records are (PIXEL_RUNS_DIR or runs/, the smoke space for smoke runs). */
  runsLocation: RunsLocation;
  /** This run's record (./run-record.ts): set once it trained, or when it continues or reuses a recorded run. */
  runRecord?: RecordRef;
  samples?: SampleImages;
  /** What stops this session's calls at their next step (Kernel -> Interrupt inside a tslab kernel). */
  interrupts: Interrupts;
  /**
   * 'training' while a train() call trains, then how it ended: 'finished', 'interrupted' (Kernel -> Interrupt; the
   * checkpoint holds where it stopped) or 'failed'. Undefined before a call trained (a reused run's included).
   */
  status?: 'training' | 'finished' | 'interrupted' | 'failed';
  /**
   * Called when a train() call that trained ends (finished, interrupted after its checkpoint was saved, or failed
   * before its error is thrown on): the hook a run record closes with.
   */
  onTrainingEnd?: (end: TrainingEnd) => void | Promise<void>;
}

export interface PrepareOptions {
  /** Where outputs go (default: tslab inside a kernel, the console elsewhere). */
  outputs?: Outputs;
  /** Environment read for PIXEL_SMOKE, PIXEL_WORKERS and PIXEL_RUNS_DIR (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The root folder of run records (default PIXEL_RUNS_DIR in `env`, else runs/). */
  runsRoot?: string;
  /**
   * A recorded run to load instead of the configured checkpoint: a run id (or its start), a run folder, or
   * `notebook:NAME` (that notebook's newest run). Its dataset, model and training replace the config's (./load-run.ts).
   */
  run?: string;
  /** Relative checkpoint paths resolve against this folder (default the project root). */
  root?: string;
  /** Passed to loadDataset (e.g. a folder holding the dataset). */
  dataDirectory?: string;
  /**
   * Helper worker threads that share each training step (lib/train/workers.ts). Default: one per extra core
   * on the single-threaded backends (wasm, cpu), none otherwise; PIXEL_WORKERS in `env` overrides it.
   */
  workers?: number;
  /** What interrupts the session's calls (default: SIGINT inside a tslab kernel, nothing elsewhere; tests inject). */
  interrupts?: Interrupts;
}

/** Helper workers by config name: re-preparing a config stops its old ones (each holds a wasm heap), not others'. */
const workersByConfig = new Map<string, GradientWorkers>();

/** Shows plotly.js (inlined, once per notebook) so that later charts draw here and in the exported report. */
export function loadChartLibrary(outputs: Outputs = defaultOutputs()): void {
  outputs.display.html(plotlyBundleHtml());
}

/** The object without its undefined fields (so they do not override defaults). */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Loads what a notebook needs and shows what it is about to do; first waits for an interrupted call that is
 * still stopping (it may be training the run this replaces).
 */
export function prepare(notebookConfig: NotebookConfig, options: PrepareOptions = {}): Promise<Session> {
  const interrupts = options.interrupts ?? kernelInterrupts();
  return interruptible(() => prepareNow(notebookConfig, options, interrupts), interrupts);
}

/** Whether the configured checkpoint is reused, resumed or trained over (./checkpoint-decision.ts). */
function configuredStart(config: NotebookConfig, checkpointFile: string, identity: RunIdentity): CheckpointDecision {
  let found: FoundCheckpoint = { status: 'missing' };
  if (config.reuseCheckpoint && fs.existsSync(checkpointFile)) {
    try {
      found = { status: 'read', checkpoint: readCheckpoint(checkpointFile) };
    } catch (error) {
      found = { status: 'unreadable', error: error as Error };
    }
  }
  return decideCheckpointUse(config.reuseCheckpoint, config.checkpoint, found, identity);
}

async function prepareNow(notebookConfig: NotebookConfig, options: PrepareOptions, interrupts: Interrupts): Promise<Session> {
  validateNotebookConfig(notebookConfig);
  const outputs = options.outputs ?? defaultOutputs();
  const env = options.env ?? process.env;
  const effective = effectiveConfig(notebookConfig, env);
  const warn = noteWarning(outputs);
  const loaded: LoadedRun | undefined = options.run === undefined ? undefined
    : readRunCheckpoint(options.run, { root: options.runsRoot, smoke: effective.smoke, env }, warn);
  const config = loaded ? loadedRunConfig(loaded, effective.config) : effective.config;
  const smoke = loaded ? loaded.stored.record.smoke : effective.smoke;
  const runsLocation: RunsLocation = { root: options.runsRoot, smoke, env };
  const backend = await initBackend();
  const dataset = await loadDataset(config.dataset, { onProgress: datasetProgress(outputs), dataDirectory: options.dataDirectory });
  const model = modelConfigFor(dataset, withoutUndefined(config.model));
  const train = trainConfig(withoutUndefined(config.train));
  const identity: RunIdentity = { dataset: dataset.name, model, train };
  const checkpointFile = path.resolve(options.root ?? projectRoot(), config.checkpoint);

  const decision: CheckpointDecision = loaded
    ? { ...loadedStart(loaded, train.epochs), checkpoint: loaded.checkpoint }
    : configuredStart(config, checkpointFile, identity);
  const { start, note: startNote } = decision;
  let run = decision.start === 'new' ? undefined : await resumeRun(decision.checkpoint, dataset, train, checkpointFile);
  run ??= startRun(dataset, model, train);
  await workersByConfig.get(config.name)?.terminate();
  workersByConfig.delete(config.name);
  const workers = await startGradientWorkers(run, options.workers ?? defaultWorkerCount(backend.name, env));
  if (workers) workersByConfig.set(config.name, workers);

  const session: Session = { config, smoke, backend, dataset, run, identity, checkpointFile, start, startNote, outputs, interrupts, runsLocation };
  // A run that goes on from a checkpoint goes on in that checkpoint's record.
  if (loaded) session.runRecord = { id: loaded.stored.record.id, folder: loaded.stored.folder };
  else if (decision.start !== 'new') session.runRecord = checkpointRecord(decision.checkpoint, runsLocation, warn);
  if (decision.start === 'reused' && !session.runRecord) recordReusedRun(session, decision.checkpoint);
  outputs.display.html(summaryHtml(session));
  return session;
}

/**
 * A recorded run's checkpoint in a session, by run id (or id start, run folder, `notebook:NAME`): prepare with its
 * `run` option. Without `config`, the session takes the run's own settings and a 12 x 12 grid (./load-run.ts).
 */
export function loadRun(run: string, config?: NotebookConfig, options: PrepareOptions = {}): Promise<Session> {
  if (config) return prepare(config, { ...options, run });
  const env = options.env ?? process.env;
  const loaded = readRunCheckpoint(run, { root: options.runsRoot, env }, noteWarning(options.outputs ?? defaultOutputs()));
  return prepare(loadedRunConfig(loaded), { ...options, run });
}

function trainingSeconds(history: History): number {
  return history.epochs.reduce((sum, e) => sum + e.seconds, 0);
}

/** The sample grid (top half from scratch, bottom half completing test images); class rows for class-conditional models. */
export function showSamples(session: Session): Promise<void> {
  return interruptible((signal) => sampleAndShow(session, signal), session.interrupts);
}

async function sampleAndShow(session: Session, signal: AbortSignal): Promise<void> {
  const { run, dataset, config, outputs } = session;
  const model = run.model;
  const { rows, cols, seed } = config.grid;
  if (dataset.test.count < cols) throw new Error(`showSamples: the grid completes ${cols} test images, the test set has ${dataset.test.count}`);
  const started = performance.now();
  const progress = samplingProgress(outputs, `sampling the ${rows} x ${cols} grid (${rows * cols} images)`);
  // Completions of the first `cols` test images: with their classes for class-conditional models, with prior
  // z (samples) and encodeTop z (completions) for a PixelVAE.
  const grid = await stoppableSampling(progress, signal, () => datasetGrid(model, dataset, { rows, cols, seed, onProgress: progress.onProgress, signal }));
  if (!grid) return;
  const gridSeconds = (performance.now() - started) / 1000;
  progress.done(`sampled the ${rows} x ${cols} grid in ${formatDuration(gridSeconds)}`);
  const gridImage = gridPng(grid, { ...grid.layout, scale: 2 });
  outputs.display.html(gridCaptionHtml(model, dataset, { rows, cols, seed, givenRows: grid.givenRows }));
  outputs.display.png(gridImage);
  recordThumbnail(session, thumbnailPng(grid, grid.layout));
  const samples: SampleImages = { grid: gridImage, seconds: gridSeconds };

  if (model.classes > 0) {
    const classes = model.classes;
    const perClass = config.grid.classColumns ?? cols;
    const labels: number[] = [];
    for (let c = 0; c < classes; c++) for (let k = 0; k < perClass; k++) labels.push(c);
    const classProgress = samplingProgress(outputs, `sampling ${perClass} images per class (${labels.length} images)`);
    const t0 = performance.now();
    const result = await stoppableSampling(classProgress, signal,
      () => sample(model, { count: labels.length, seed: seed + 1, condition: { labels }, onProgress: classProgress.onProgress, signal }));
    if (!result) return;
    classProgress.done(`sampled ${labels.length} class-conditional images in ${formatDuration((performance.now() - t0) / 1000)}`);
    const names = Array.from({ length: classes }, (_, c) => dataset.classNames[c] ?? `class ${c}`);
    const classImage = gridPng(
      { images: result.images, count: result.count, height: result.height, width: result.width, colours: result.colours },
      { rows: classes, cols: perClass, rowLabels: names, scale: 2 },
    );
    outputs.display.html(classGridCaptionHtml(seed + 1, perClass));
    outputs.display.png(classImage);
    samples.classes = classImage;
  }
  samples.seconds = (performance.now() - started) / 1000;
  session.samples = samples;
}

export interface Results {
  testBitsPerDim?: number;
  trainBitsPerDim?: number;
  /** For objectives with parts (a PixelVAE: reconstruction, kl), bits/dim of the same evaluations. */
  testParts?: Record<string, number>;
  trainParts?: Record<string, number>;
  steps: number;
  epochs: number;
  trainingSeconds: number;
}

/** The run's numbers (no display). */
export function results(session: Session): Results {
  const history = session.run.trainer.state.history;
  const lastTest = [...history.epochs].reverse().find((e) => e.testBitsPerDim !== undefined);
  return {
    testBitsPerDim: lastTest?.testBitsPerDim,
    trainBitsPerDim: history.epochs.at(-1)?.trainBitsPerDim,
    testParts: lastTest?.testParts,
    trainParts: history.epochs.at(-1)?.trainParts,
    steps: session.run.trainer.state.step,
    epochs: history.epochs.length,
    trainingSeconds: trainingSeconds(history),
  };
}

export interface ResultsOptions {
  /** The recorded runs tabled with this one (default config.compare, else this notebook's newest 3 others). */
  compare?: RunChoice;
}

/**
 * The final test bits/dim (and how it was measured) in a small table, the per-epoch history, then this run
 * beside the other recorded runs (./compare-runs.ts): one output, as reports carry it.
 */
export function showResults(session: Session, options: ResultsOptions = {}): void {
  session.outputs.display.html(resultsHtml(session, results(session)) + sessionComparisonHtml(session, options.compare));
}
