/**
 * What a model notebook does, one call per cell:
 *
 *   loadChartLibrary()          inline plotly.js once (charts in the notebook and in exported reports)
 *   await prepare(config)       backend, dataset, model (or a reusable checkpoint), shown as a table
 *   await train(session)        live progress line + chart; a checkpoint after every epoch
 *   await showSamples(session)  the 12 x 12 grid (top: samples, bottom: completions), class rows if conditional
 *   showResults(session)        the final test bits/dim in a small table
 *
 * Node only (files, backend). Notebooks import it through ./index.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BackendInfo, initBackend } from '../backend/index';
import { Dataset } from '../data/dataset';
import { loadDataset, projectRoot } from '../data/index';
import type { LoadProgress } from '../data/progress';
import { isVaeKind } from '../models/config';
import { parameterCount } from '../models/model';
import { gridPng } from '../render/grid';
import { datasetGrid, sample } from '../sample/index';
import type { SampleProgress } from '../sample/index';
import { Checkpoint } from '../train/checkpoint';
import { readCheckpoint, saveCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { checkpointRun, modelConfigFor, resumeRun, Run, startRun } from '../train/run';
import { defaultWorkerCount, GradientWorkers, startGradientWorkers } from '../train/workers';
import type { History } from '../train/trainer';
import {
  effectiveConfig, NotebookConfig, RunIdentity, SMOKE_SETTINGS, validateNotebookConfig,
} from './config';
import { decideCheckpointUse, FoundCheckpoint } from './checkpoint-decision';
import { columnTable, escapeHtml, formatDuration, keyValueTable, noteHtml } from './html';
import { defaultOutputs, Outputs } from './output';
import { chartHtml, plotlyBundleHtml } from './plotly';
import { LiveTraining, partsText } from './live';
import { historyParts, trainingFigure } from './training-chart';

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
  samples?: SampleImages;
}

export interface PrepareOptions {
  /** Where outputs go (default: tslab inside a kernel, the console elsewhere). */
  outputs?: Outputs;
  /** Environment read for PIXEL_SMOKE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Relative checkpoint paths resolve against this folder (default the project root). */
  root?: string;
  /** Passed to loadDataset (e.g. a folder holding the dataset). */
  dataDirectory?: string;
  /**
   * Helper worker threads that share each training step (lib/train/workers.ts). Default: one per extra core
   * on the single-threaded backends (wasm, cpu), none otherwise; PIXEL_WORKERS in `env` overrides it.
   */
  workers?: number;
}

/** Helper workers by config name: re-preparing a config stops its old ones (each holds a wasm heap), not others'. */
const workersByConfig = new Map<string, GradientWorkers>();

/** Shows plotly.js (inlined, once per notebook) so that later charts draw here and in the exported report. */
export function loadChartLibrary(outputs: Outputs = defaultOutputs()): void {
  outputs.display.html(plotlyBundleHtml());
}

function datasetProgress(outputs: Outputs): (progress: LoadProgress) => void {
  let live: ReturnType<Outputs['live']> | undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (!p.finished && now - last < 1000) return;
    last = now;
    live ??= outputs.live();
    const amount = p.unit === 'bytes' ? `${(p.done / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB` : `${p.done}${p.total ? ` / ${p.total}` : ''} images`;
    live.text(`${p.phase === 'download' ? 'downloading' : 'decoding'} ${p.file}: ${amount}${p.failed ? ' (failed)' : p.finished ? ' (done)' : ''}`);
  };
}

/** The object without its undefined fields (so they do not override defaults). */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Loads what a notebook needs and shows what it is about to do. */
export async function prepare(notebookConfig: NotebookConfig, options: PrepareOptions = {}): Promise<Session> {
  validateNotebookConfig(notebookConfig);
  const outputs = options.outputs ?? defaultOutputs();
  const { config, smoke } = effectiveConfig(notebookConfig, options.env ?? process.env);
  const backend = await initBackend();
  const dataset = await loadDataset(config.dataset, { onProgress: datasetProgress(outputs), dataDirectory: options.dataDirectory });
  const model = modelConfigFor(dataset, withoutUndefined(config.model));
  const train = trainConfig(withoutUndefined(config.train));
  const identity: RunIdentity = { dataset: dataset.name, model, train };
  const checkpointFile = path.resolve(options.root ?? projectRoot(), config.checkpoint);

  let found: FoundCheckpoint = { status: 'missing' };
  if (config.reuseCheckpoint && fs.existsSync(checkpointFile)) {
    try {
      found = { status: 'read', checkpoint: readCheckpoint(checkpointFile) };
    } catch (error) {
      found = { status: 'unreadable', error: error as Error };
    }
  }
  const decision = decideCheckpointUse(config.reuseCheckpoint, config.checkpoint, found, identity);
  const { start, note: startNote } = decision;
  let run = decision.start === 'new' ? undefined : await resumeRun(decision.checkpoint, dataset, train, checkpointFile);
  run ??= startRun(dataset, model, train);
  await workersByConfig.get(config.name)?.terminate();
  workersByConfig.delete(config.name);
  const workers = await startGradientWorkers(run, options.workers ?? defaultWorkerCount(backend.name, options.env ?? process.env));
  if (workers) workersByConfig.set(config.name, workers);

  const session: Session = { config, smoke, backend, dataset, run, identity, checkpointFile, start, startNote, outputs };
  showSummary(session);
  return session;
}

function trainingBudget(session: Session): string {
  const { train } = session.identity;
  const perEpoch = Math.min(session.dataset.train.count, train.limit ?? Infinity);
  const steps = train.epochs * session.run.trainer.batchesPerEpoch();
  const testImages = Math.min(session.dataset.test.count, train.testLimit ?? Infinity);
  const remedies = [
    train.klWarmupSteps ? `KL warm-up over ${train.klWarmupSteps} steps` : '',
    train.freeBits ? `free bits ${train.freeBits} nats per latent dimension` : '',
  ].filter(Boolean);
  return `${train.epochs} epoch${train.epochs === 1 ? '' : 's'} x ${perEpoch} images (${steps} steps of ${train.batchSize}), ` +
    `Adam lr ${train.learningRate}; test bits/dim on ${testImages} test images every ${train.evaluateEvery === 1 ? 'epoch' : `${train.evaluateEvery} epochs`}` +
    `${remedies.length ? `; ${remedies.join(', ')} (in the training loss only: reported bits/dim are the true negative ELBO)` : ''}`;
}

function showSummary(session: Session): void {
  const { dataset, identity, config } = session;
  const m = identity.model;
  const rows: [string, string][] = [
    ['backend', session.backend.description],
    ['threads', session.run.trainer.executor.helpers
      ? `this one + ${session.run.trainer.executor.helpers.count} helper worker thread${session.run.trainer.executor.helpers.count === 1 ? '' : 's'} sharing each training step (PIXEL_WORKERS=0 for one)`
      : 'one'],
    ['dataset', `${dataset.name}: ${dataset.train.count} train / ${dataset.test.count} test images, ${dataset.height}x${dataset.width}x${dataset.channels}` +
      `${dataset.classNames.length ? `, ${dataset.classNames.length} classes` : ''}`],
    ['model', isVaeKind(m.kind)
      ? `${m.kind}: latent z of ${m.latentSize}, encoder/decoder widths up to ${m.vaeChannels}${m.vaeDepth ? ` (+${m.vaeDepth} deep blocks)` : ''}` +
        `${m.kind === 'vae-up' ? `, a ${m.conditionMapChannels}-channel condition map` : ''}` +
        `${m.posteriorLogVarInit ? `, q(z|x) starting at log-variance ${m.posteriorLogVarInit}` : ''}; gated PixelCNN ${m.layers} layers, kernel ${m.kernelSize}, ${m.channels} channels`
      : `${m.kind}: ${m.layers} layers, kernel ${m.kernelSize}, ${m.channels} channels` +
        `${m.conditionSize ? `, conditioned on ${m.conditionSize} classes` : ''}`],
    ['parameters', parameterCount(session.run.model).toLocaleString('en-US')],
    ['training', trainingBudget(session)],
    ['sample grid', `${config.grid.rows} x ${config.grid.cols}, seed ${config.grid.seed}`],
    ['checkpoint', `${config.checkpoint} (${session.start})`],
  ];
  let html = '';
  if (session.smoke) {
    html += noteHtml(`PIXEL_SMOKE=1: tiny settings swapped in (model ${JSON.stringify(SMOKE_SETTINGS.model)}, ` +
      `training ${JSON.stringify(SMOKE_SETTINGS.train)}, grid ${JSON.stringify(SMOKE_SETTINGS.grid)}) so the notebook runs in ` +
      'seconds; the numbers and samples below are meaningless. Unset PIXEL_SMOKE for the real run.', 'warn');
  }
  html += keyValueTable(rows, { caption: `${config.name}: what this run does`, className: 'pixel-table pixel-summary' });
  html += noteHtml(session.startNote);
  session.outputs.display.html(html);
}

function saveRunCheckpoint(session: Session, checkpointPromise: Promise<Checkpoint>): Promise<void> {
  return checkpointPromise.then((checkpoint) => {
    fs.mkdirSync(path.dirname(session.checkpointFile), { recursive: true });
    saveCheckpoint(session.checkpointFile, checkpoint);
  });
}

function trainingSeconds(history: History): number {
  return history.epochs.reduce((sum, e) => sum + e.seconds, 0);
}

/** Trains with a live progress line and chart (or shows the loaded run's chart); saves a checkpoint per epoch. */
export async function train(session: Session): Promise<void> {
  const { run, config, outputs } = session;
  const trainer = run.trainer;
  const title = `${config.name}: bits per dimension (lower is better)`;
  const finished = trainer.state.position.epoch >= trainer.config.epochs;
  if (session.start === 'reused' || finished) {
    const history = trainer.state.history;
    outputs.display.html(noteHtml(session.start === 'reused' ? session.startNote
      : `Already trained (${trainer.state.position.epoch} of ${trainer.config.epochs} epochs): showing the finished run. ` +
        'Run the prepare cell again to start over.'));
    outputs.display.html(chartHtml(trainingFigure(history, { batchesPerEpoch: trainer.batchesPerEpoch(), title })));
    return;
  }
  const live = new LiveTraining(outputs, {
    epochs: trainer.config.epochs,
    batchesPerEpoch: trainer.batchesPerEpoch(),
    batchSize: trainer.config.batchSize,
    chartEverySeconds: config.chartEverySeconds,
    title,
  });
  const meta = { notebook: config.name, notebookIdentity: session.identity, smoke: session.smoke };
  const started = performance.now();
  await trainer.run({
    onBatch: (info) => live.onBatch(info, trainer.state.history),
    onEpoch: async (record, history) => {
      live.onEpoch(record, history);
      await saveRunCheckpoint(session, checkpointRun(run, { ...meta, savedAt: new Date().toISOString() }));
    },
  });
  const history = trainer.state.history;
  const seconds = (performance.now() - started) / 1000;
  const last = history.epochs.at(-1);
  live.finish(history, `done: ${history.steps.length} steps in ${formatDuration(seconds)}` +
    `${last?.testBitsPerDim !== undefined ? `, test ${last.testBitsPerDim.toFixed(4)} bits/dim` : ''}; checkpoint saved to ${config.checkpoint}`);
}

/** A live line for a sampling run: progress at most once a second, then `done(text)`. */
export function samplingProgress(outputs: Outputs, what: string): { onProgress: (p: SampleProgress) => void; done(text: string): void } {
  const live = outputs.live();
  const started = performance.now();
  let last = -Infinity;
  live.text(`${what}: starting`);
  return {
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 1000) return;
      last = now;
      live.text(`${what}: ${(p.fraction * 100).toFixed(0)}% · ${formatDuration((now - started) / 1000)} elapsed`);
    },
    done: (text) => live.text(text),
  };
}

/** The sample grid (top half from scratch, bottom half completing test images); class rows for conditional models. */
export async function showSamples(session: Session): Promise<void> {
  const { run, dataset, config, outputs } = session;
  const model = run.model;
  const { rows, cols, seed } = config.grid;
  if (dataset.test.count < cols) throw new Error(`showSamples: the grid completes ${cols} test images, the test set has ${dataset.test.count}`);
  const vae = isVaeKind(model.config.kind);
  const conditional = model.config.conditionSize > 0 && !vae;
  const started = performance.now();
  const progress = samplingProgress(outputs, `sampling the ${rows} x ${cols} grid (${rows * cols} images)`);
  // Completions of the first `cols` test images: with their classes for class-conditional models, with prior
  // z (samples) and encodeTop z (completions) for a PixelVAE.
  const grid = await datasetGrid(model, dataset, { rows, cols, seed, onProgress: progress.onProgress });
  const gridSeconds = (performance.now() - started) / 1000;
  progress.done(`sampled the ${rows} x ${cols} grid in ${formatDuration(gridSeconds)}`);
  const gridImage = gridPng(grid, { ...grid.layout, scale: 2 });
  const givenRows = grid.givenRows;
  const classNote = conditional
    ? ` Top-half column c is sampled for class ${escapeHtml(dataset.classNames.slice(0, Math.min(cols, model.config.conditionSize)).join(', '))}` +
      `${cols > model.config.conditionSize ? ' (repeating)' : ''} in order; completions are conditioned on their test image's class.`
    : '';
  const vaeNote = vae
    ? ' Each sample from scratch has its own z drawn from the prior N(0, I); the completions of a column share z = the encoder mean of' +
      ` its test image with every row below the given ${givenRows} blacked out (the encoder sees only what is given).`
    : '';
  outputs.display.html(`<p class="pixel-caption" style="font-size:13px"><b>Samples (seed ${seed}).</b> Top ${rows / 2} rows: sampled from scratch. ` +
    `Bottom ${rows / 2} rows: completions — column c keeps the top ${givenRows} rows of test image c and samples the rest; ` +
    `each row is another completion.${classNote}${vaeNote}</p>`);
  outputs.display.png(gridImage);
  const samples: SampleImages = { grid: gridImage, seconds: gridSeconds };

  if (conditional) {
    const classes = model.config.conditionSize;
    const perClass = config.grid.classColumns ?? cols;
    const labels: number[] = [];
    for (let c = 0; c < classes; c++) for (let k = 0; k < perClass; k++) labels.push(c);
    const classProgress = samplingProgress(outputs, `sampling ${perClass} images per class (${labels.length} images)`);
    const t0 = performance.now();
    const result = await sample(model, { count: labels.length, seed: seed + 1, condition: { labels }, onProgress: classProgress.onProgress });
    classProgress.done(`sampled ${labels.length} class-conditional images in ${formatDuration((performance.now() - t0) / 1000)}`);
    const names = Array.from({ length: classes }, (_, c) => dataset.classNames[c] ?? `class ${c}`);
    const classImage = gridPng(
      { images: result.images, count: result.count, height: result.height, width: result.width, colours: result.colours },
      { rows: classes, cols: perClass, rowLabels: names, scale: 2 },
    );
    outputs.display.html(`<p class="pixel-caption" style="font-size:13px"><b>One row per class (seed ${seed + 1}).</b> ` +
      `Row r: ${perClass} samples from scratch conditioned on class r (labelled on the left).</p>`);
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

/** The final test bits/dim (and how it was measured) in a small table, then the per-epoch history. */
export function showResults(session: Session): void {
  const r = results(session);
  const { identity, dataset, config } = session;
  const history = session.run.trainer.state.history;
  const testImages = Math.min(dataset.test.count, identity.train.testLimit ?? Infinity);
  const lastTest = [...history.epochs].reverse().find((e) => e.testBitsPerDim !== undefined);
  const images = r.steps * identity.train.batchSize;
  const parts = historyParts(history);
  const elbo = parts.length > 0 ? ' (negative ELBO)' : '';
  const rows: [string, string | { html: string }][] = [
    [`final test bits/dim${elbo}`, { html: `<b>${r.testBitsPerDim !== undefined ? r.testBitsPerDim.toFixed(4) : 'not evaluated'}</b>` +
      `${r.testParts ? ` = ${escapeHtml(partsText(r.testParts))}` : ''}` +
      `${lastTest ? ` (after epoch ${lastTest.epoch + 1}, on ${testImages === dataset.test.count ? 'all' : 'the first'} ${testImages} test images)` : ''}` }],
    [`final train bits/dim${elbo}`, r.trainBitsPerDim !== undefined
      ? `${r.trainBitsPerDim.toFixed(4)}${r.trainParts ? ` = ${partsText(r.trainParts)}` : ''} (mean over the last epoch)` : '-'],
    ['training', `${r.steps} steps, ${r.epochs} epochs, ~${images.toLocaleString('en-US')} images in ${formatDuration(r.trainingSeconds)}` +
      `${r.trainingSeconds > 0 ? ` (${(images / r.trainingSeconds).toFixed(1)} images/s incl. evaluation)` : ''}`],
    ['model', `${identity.model.kind}, ${parameterCount(session.run.model).toLocaleString('en-US')} parameters`],
    ['backend', session.backend.name],
    ['checkpoint', `${config.checkpoint}${session.start === 'reused' ? ' (loaded, not retrained)' : ''}`],
  ];
  if (session.smoke) rows.push(['mode', 'PIXEL_SMOKE=1 (tiny settings: numbers are meaningless)']);
  let html = keyValueTable(rows, { caption: `${config.name}: results`, className: 'pixel-table pixel-results' });
  if (history.epochs.length > 0) {
    const part = (values: Record<string, number> | undefined, name: string) => (values?.[name] !== undefined ? values[name].toFixed(5) : '-');
    html += columnTable(
      ['epoch', 'train bits/dim', ...parts.map((p) => `train ${p}`), 'test bits/dim', ...parts.map((p) => `test ${p}`), 'time'],
      history.epochs.map((e) => [
        e.epoch + 1, e.trainBitsPerDim.toFixed(4), ...parts.map((p) => part(e.trainParts, p)),
        e.testBitsPerDim !== undefined ? e.testBitsPerDim.toFixed(4) : '-', ...parts.map((p) => part(e.testParts, p)), formatDuration(e.seconds),
      ]),
      { caption: `per epoch${parts.length ? ` (bits/dim = ${parts.join(' + ')})` : ''}`, className: 'pixel-table pixel-epochs' },
    );
  }
  session.outputs.display.html(html);
}
