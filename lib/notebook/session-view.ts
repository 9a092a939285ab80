/**
 * What the common notebook cells (session.ts) show: the run's summary table, the sample grids' captions, the
 * results tables and the live progress lines of loading and sampling. Every line about the model comes from
 * what the model and its spec say (describeModel, `classes`, `latentSources`), never from its kind.
 *
 * Node only (sessions, outputs).
 */
import type { Dataset } from '../data/dataset';
import type { LoadProgress } from '../data/progress';
import { describeModel, ModelConfig, parameterCount, PixelModel } from '../models';
import type { SampleProgress } from '../sample/index';
import { SMOKE_SETTINGS } from './config';
import { columnTable, escapeHtml, formatDuration, keyValueTable, noteHtml } from './html';
import { isInterruption } from './interrupt';
import { partsText } from './live';
import type { Outputs } from './output';
import type { Results, Session } from './session';
import { historyParts } from './training-chart';

/** A live line for the dataset's download and decoding, at most once a second (and when a file is finished). */
export function datasetProgress(outputs: Outputs): (progress: LoadProgress) => void {
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

/** A live line for a sampling run: progress at most once a second, then `done(text)`. */
export interface SamplingProgress {
  onProgress(p: SampleProgress): void;
  done(text: string): void;
  /** Closes the line after an interrupt stopped the sampling. */
  interrupted(): void;
}

export function samplingProgress(outputs: Outputs, what: string): SamplingProgress {
  const live = outputs.live();
  const started = performance.now();
  let last = -Infinity;
  let fraction = 0;
  live.text(`${what}: starting`);
  return {
    onProgress: (p) => {
      fraction = p.fraction;
      const now = performance.now();
      if (now - last < 1000) return;
      last = now;
      live.text(`${what}: ${(p.fraction * 100).toFixed(0)}% · ${formatDuration((now - started) / 1000)} elapsed`);
    },
    done: (text) => live.text(text),
    interrupted: () => live.text(`${what}: interrupted at ${(fraction * 100).toFixed(0)}% after ` +
      `${formatDuration((performance.now() - started) / 1000)}; run this cell again to sample`),
  };
}

/** Runs one sampling under its progress line; after an interrupt the line says so and the result is undefined. */
export async function stoppableSampling<T>(progress: SamplingProgress, signal: AbortSignal, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!isInterruption(error, signal)) throw error;
    progress.interrupted();
    return undefined;
  }
}

/**
 * Where the training loss departs from the reported objective, as the model's config asks (a PixelVAE's KL
 * warm-up and free bits, its own fields); empty for models without such options.
 */
function objectiveRemedies(model: ModelConfig): string[] {
  if (!('klWarmupSteps' in model)) return [];
  return [
    model.klWarmupSteps ? `KL warm-up over ${model.klWarmupSteps} steps` : '',
    model.freeBits ? `free bits ${model.freeBits} nats per latent dimension` : '',
  ].filter(Boolean);
}

function trainingBudget(session: Session): string {
  const { train, model } = session.identity;
  const perEpoch = Math.min(session.dataset.train.count, train.limit ?? Infinity);
  const steps = train.epochs * session.run.trainer.batchesPerEpoch();
  const testImages = Math.min(session.dataset.test.count, train.testLimit ?? Infinity);
  const remedies = objectiveRemedies(model);
  return `${train.epochs} epoch${train.epochs === 1 ? '' : 's'} x ${perEpoch} images (${steps} steps of ${train.batchSize}), ` +
    `Adam lr ${train.learningRate}; test bits/dim on ${testImages} test images every ${train.evaluateEvery === 1 ? 'epoch' : `${train.evaluateEvery} epochs`}` +
    `${remedies.length ? `; ${remedies.join(', ')} (in the training loss only: reported bits/dim are the true negative ELBO)` : ''}`;
}

/** The prepare cell's output: the smoke warning, what this run does, and why it starts the way it does. */
export function summaryHtml(session: Session): string {
  const { dataset, identity, config } = session;
  const helpers = session.run.trainer.executor.helpers;
  const rows: [string, string][] = [
    ['backend', session.backend.description],
    ['threads', helpers
      ? `this one + ${helpers.count} helper worker thread${helpers.count === 1 ? '' : 's'} sharing each training step (PIXEL_WORKERS=0 for one)`
      : 'one'],
    ['dataset', `${dataset.name}: ${dataset.train.count} train / ${dataset.test.count} test images, ${dataset.height}x${dataset.width}x${dataset.channels}` +
      `${dataset.classNames.length ? `, ${dataset.classNames.length} classes` : ''}`],
    ['model', describeModel(identity.model)],
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
  return html;
}

function captionHtml(html: string): string {
  return `<p class="pixel-caption" style="font-size:13px">${html}</p>`;
}

export interface GridCaption {
  rows: number;
  cols: number;
  seed: number;
  /** Rows of each test image the completions keep. */
  givenRows: number;
}

/** The sample grid's caption: what its halves are, and what conditions them (classes, a latent z). */
export function gridCaptionHtml(model: PixelModel, dataset: Dataset, { rows, cols, seed, givenRows }: GridCaption): string {
  const { classes } = model;
  const classNote = classes > 0
    ? ` Top-half column c is sampled for class ${escapeHtml(dataset.classNames.slice(0, Math.min(cols, classes)).join(', '))}` +
      `${cols > classes ? ' (repeating)' : ''} in order; completions are conditioned on their test image's class.`
    : '';
  // A completion's z comes from the model's first latent source (its default), as the grid asks for none.
  const latentFrom = model.latentSources[0];
  const latentNote = latentFrom
    ? ' Each sample from scratch has its own z drawn from the prior N(0, I); the completions of a column share z = the encoder mean of' +
      (latentFrom === 'given rows'
        ? ` its test image with every row below the given ${givenRows} blacked out (the encoder sees only what is given).`
        : ' its whole test image (the encoder sees the rows the completions sample).')
    : '';
  return captionHtml(`<b>Samples (seed ${seed}).</b> Top ${rows / 2} rows: sampled from scratch. ` +
    `Bottom ${rows / 2} rows: completions — column c keeps the top ${givenRows} rows of test image c and samples the rest; ` +
    `each row is another completion.${classNote}${latentNote}`);
}

/** The caption of the grid with one row per class. */
export function classGridCaptionHtml(seed: number, perClass: number): string {
  return captionHtml(`<b>One row per class (seed ${seed}).</b> ` +
    `Row r: ${perClass} samples from scratch conditioned on class r (labelled on the left).`);
}

/** The results cell's output: the final numbers and how they were measured, then the per-epoch table. */
export function resultsHtml(session: Session, r: Results): string {
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
  return html;
}
