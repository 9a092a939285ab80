/**
 * "The same model after the full run": what a notebook's model reaches after the original's full run, from the
 * committed `results/NAME` (lib/results, `npm run reproduce`): its test bits/dim, its curves next to this
 * notebook's run on training images seen, and its 12 x 12 grid sampled here from the committed weights. A run
 * not exported yet is shown as pending, with how far it has got (its work folder, or the committed partial run).
 * showFullRunComparison puts several full runs side by side (notebook 05: the blind spot's cost).
 *
 * Node only (files).
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../project-root';
import { buildModel } from '../models';
import { loadWeights } from '../train/checkpoint';
import { readCheckpoint } from '../train/checkpoint-file';
import type { EpochRecord } from '../train/trainer';
import { datasetGrid } from '../sample/dataset-grid';
import { gridPng } from '../render/grid';
import { ignoresZ } from '../diagnostics/latent-usage';
import { GRID_FILE, readHistory, readResult, RESULT_FILE, ResultRecord, WEIGHTS_FILE } from '../results/result';
import { progressOf } from '../results/partial';
import { describePending } from '../results/timing';
import { columnTable, formatDuration, keyValueTable, noteHtml } from './html';
import { defaultOutputs, Outputs } from './output';
import { chartHtml, PlotlyFigure, PlotlyTrace } from './plotly';
import type { Session } from './session';
import { samplingProgress } from './session-view';
import { TEST_COLOUR, TRAIN_SMOOTH_COLOUR } from './training-chart';

export interface FullRunOptions {
  /** Folder holding results/ and runs/reproduce/ (default: the project root, as for the session's checkpoint). */
  root?: string;
  /** Sample the grid from the committed weights (default true; a smoke run shows the committed grid.png instead). */
  sample?: boolean;
}

/** Test bits/dim per evaluated epoch against training images seen. */
function testCurve(epochs: readonly EpochRecord[], imagesPerEpoch: number, name: string, dash: string): PlotlyTrace {
  const tested = epochs.filter((e) => e.testBitsPerDim !== undefined);
  return {
    x: tested.map((e) => (e.epoch + 1) * imagesPerEpoch), y: tested.map((e) => e.testBitsPerDim!), name, mode: 'lines+markers',
    line: { color: TEST_COLOUR, width: 2, dash },
  };
}

/** The full run's epoch means (dotted) and this run's steps (solid), both against training images seen. */
function comparisonFigure(session: Session, result: ResultRecord, full: readonly EpochRecord[]): PlotlyFigure {
  const config = session.run.trainer.config;
  const own = session.run.trainer.state.history;
  const perEpoch = Math.min(config.limit ?? Infinity, session.dataset.train.count);
  const fullPerEpoch = result.imagesSeen / result.epochs;
  const label = `full run (${result.epochs} epochs)`;
  return {
    data: [
      {
        x: full.map((e) => (e.epoch + 1) * fullPerEpoch), y: full.map((e) => e.trainBitsPerDim), name: `${label}: train (epoch mean)`,
        mode: 'lines', line: { color: TRAIN_SMOOTH_COLOUR, width: 2, dash: 'dot' },
      },
      testCurve(full, fullPerEpoch, `${label}: test`, 'dot'),
      {
        x: own.steps.map((s) => (s.step + 1) * config.batchSize), y: own.steps.map((s) => s.bitsPerDim), name: 'this run: train (per step)',
        mode: 'lines', line: { color: TRAIN_SMOOTH_COLOUR, width: 1 }, opacity: 0.6,
      },
      testCurve(own.epochs, perEpoch, 'this run: test', 'solid'),
    ],
    layout: {
      title: { text: `${session.config.name}: this run next to ${result.name}'s full run` },
      xaxis: { title: { text: 'training images seen' }, type: 'log' },
      yaxis: { title: { text: 'bits/dim' } },
      height: 360,
    },
  };
}

function resultTable(result: ResultRecord): string {
  const latent = result.subset.latent;
  const parts = result.test.parts ? ` = ${Object.entries(result.test.parts).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(' + ')}` : '';
  return keyValueTable([
    ['run', `${result.name}: ${result.summary}`],
    ['flags', `npm run train -- ${result.argv.join(' ')}`],
    ['test bits/dim', `${result.test.bitsPerDim.toFixed(4)}${parts} (${result.test.images.toLocaleString('en-US')} test images)`],
    ...(latent ? [['does the PixelCNN use z?', `its own z saves ${latent.bitsPerImage.toFixed(1)} bits per image over another image's ` +
      `(first ${latent.images.toLocaleString('en-US')} test images${ignoresZ(latent) ? ': it ignores z, posterior collapse' : ''})`] as [string, string]] : []),
    ['trained', `${result.epochs} epochs, ${result.imagesSeen.toLocaleString('en-US')} images, ${formatDuration(result.wallSeconds)} on ${result.backend.name}`],
    ['parameters', result.parameters.toLocaleString('en-US')],
    ['date', result.date.slice(0, 10)],
  ], { caption: `The same model after the full run (results/${result.name})` });
}

/** Shows results/NAME next to the session's run; `name` is a run of lib/results/runs.ts (e.g. 'gated-5x30'). */
export async function showFullRun(session: Session, name: string, options: FullRunOptions = {}): Promise<void> {
  const root = options.root ?? projectRoot();
  const dir = path.join(root, 'results', name);
  const { outputs } = session;
  const { result, epochs: full, pending } = fullRunStanding(name, root);
  if (!result) {
    outputs.display.html(noteHtml(`The full run ${name} is not in results/ yet (so far: ${pending}). ` +
      `The command npm run reproduce -- ${name} trains it (resumably) and commits its weights, history and grid there.`, 'warn'));
    return;
  }
  outputs.display.html(resultTable(result));
  outputs.display.html(chartHtml(comparisonFigure(session, result, full)));
  if (options.sample === false || session.smoke) {
    outputs.display.png(new Uint8Array(fs.readFileSync(path.join(dir, GRID_FILE))));
    return;
  }
  const weightsFile = path.join(dir, WEIGHTS_FILE);
  const checkpoint = readCheckpoint(weightsFile);
  const model = buildModel(checkpoint.modelConfig);
  try {
    loadWeights(model.params, checkpoint, weightsFile);
    const { rows, cols, seed } = session.config.grid;
    const progress = samplingProgress(outputs, `sampling ${result.name}'s ${rows} x ${cols} grid from its committed weights`);
    const started = performance.now();
    const grid = await datasetGrid(model, session.dataset, { rows, cols, seed, onProgress: progress.onProgress });
    progress.done(`sampled ${result.name}'s grid in ${formatDuration((performance.now() - started) / 1000)}`);
    outputs.display.png(gridPng(grid, { ...grid.layout, scale: 2 }));
  } finally {
    model.params.dispose();
  }
}

/** Where one full run stands: exported (its result), training (its epochs so far), or not started. */
export interface FullRunStanding {
  name: string;
  /** Its result.json, once exported. */
  result?: ResultRecord;
  /** Its epochs so far: results/NAME/history.json once exported, else its work folder's or committed partial run's. */
  epochs: EpochRecord[];
  /** The epochs it trains in all, where known. */
  plannedEpochs?: number;
  /** While not exported: how far it has got (lib/results/timing.ts describePending). */
  pending?: string;
}

/** Reads where the full run `name` stands under `root` (results/ and runs/reproduce/). */
export function fullRunStanding(name: string, root = projectRoot()): FullRunStanding {
  const dir = path.join(root, 'results', name);
  if (fs.existsSync(path.join(dir, RESULT_FILE))) {
    const result = readResult(dir);
    const epochs = readHistory(dir);
    return { name, result, epochs, plannedEpochs: result.epochs };
  }
  const work = progressOf(path.join(root, 'runs', 'reproduce', name), dir);
  return { name, epochs: work.checkpoint?.trainerState?.history.epochs ?? [], plannedEpochs: work.epochs, pending: describePending(work, dir) };
}

const lastTest = (epochs: readonly EpochRecord[]) => epochs.filter((e) => e.testBitsPerDim !== undefined).at(-1);

/**
 * Full runs side by side, from results/ (notebook 05: gated-5x30 and gated-blindspot-5x30, what the blind spot costs
 * after a full run): a table of each run's test bits/dim and its difference to the first run's, and their test
 * bits/dim per epoch on one chart. Runs still training show their epochs so far; runs not started say so.
 */
export function showFullRunComparison(names: readonly string[], options: { root?: string; outputs?: Outputs } = {}): FullRunStanding[] {
  const outputs = options.outputs ?? defaultOutputs();
  const standings = names.map((name) => fullRunStanding(name, options.root));
  const first = standings[0]?.result;
  const rows = standings.map(({ name, result, epochs, plannedEpochs, pending }) => {
    if (result) {
      const difference = first && result !== first ? `${result.test.bitsPerDim >= first.test.bitsPerDim ? '+' : ''}${(result.test.bitsPerDim - first.test.bitsPerDim).toFixed(4)}` : '—';
      return [name, result.summary, result.test.bitsPerDim.toFixed(4), String(result.epochs), difference];
    }
    const tested = lastTest(epochs);
    const sofar = tested ? `${tested.testBitsPerDim!.toFixed(4)} after ${tested.epoch + 1} of ${plannedEpochs} epochs; ` : '';
    return [name, '', `pending: ${sofar}${pending}`, plannedEpochs === undefined ? '—' : `${epochs.length} of ${plannedEpochs}`, '—'];
  });
  outputs.display.html(columnTable(['run', 'what it is', 'test bits/dim', 'epochs', `vs ${names[0]}`], rows, { caption: 'Full runs side by side (results/)' }));
  const traces: PlotlyTrace[] = standings.filter(({ epochs }) => lastTest(epochs)).map(({ name, epochs, result, plannedEpochs }) => {
    const tested = epochs.filter((e) => e.testBitsPerDim !== undefined);
    return {
      x: tested.map((e) => e.epoch + 1), y: tested.map((e) => e.testBitsPerDim!), mode: 'lines+markers',
      name: result ? name : `${name} (${epochs.length} of ${plannedEpochs} epochs so far)`,
    };
  });
  if (traces.length > 0) {
    outputs.display.html(chartHtml({
      data: traces,
      layout: { title: { text: `test bits/dim per epoch: ${names.join(' vs ')}` }, xaxis: { title: { text: 'epoch' } }, yaxis: { title: { text: 'test bits/dim' } }, height: 340 },
    }));
  }
  return standings;
}
