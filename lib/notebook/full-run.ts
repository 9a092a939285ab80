/**
 * "The same model after the full run": what a notebook's model reaches after the original's full run, from the
 * committed `results/NAME` (lib/results, `npm run reproduce`): its test bits/dim, its curves next to this
 * notebook's run on training images seen, and its 12 x 12 grid sampled here from the committed weights. A run
 * not exported yet is shown as pending, with how far it has got (its work folder, or the committed partial run).
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
import { GRID_FILE, HISTORY_FILE, readResult, RESULT_FILE, ResultRecord, WEIGHTS_FILE } from '../results/result';
import { progressOf } from '../results/partial';
import { describePending } from '../results/timing';
import { formatDuration, keyValueTable, noteHtml } from './html';
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
  const parts = result.test.parts ? ` = ${Object.entries(result.test.parts).map(([name, value]) => `${name} ${value.toFixed(4)}`).join(' + ')}` : '';
  return keyValueTable([
    ['run', `${result.name}: ${result.summary}`],
    ['flags', `npm run train -- ${result.argv.join(' ')}`],
    ['test bits/dim', `${result.test.bitsPerDim.toFixed(4)}${parts} (${result.test.images.toLocaleString('en-US')} test images)`],
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
  if (!fs.existsSync(path.join(dir, RESULT_FILE))) {
    // Its work folder here, else the partial run committed in results/NAME/partial/.
    const work = progressOf(path.join(root, 'runs', 'reproduce', name), dir);
    outputs.display.html(noteHtml(`The full run ${name} is not in results/ yet (so far: ${describePending(work, dir)}). ` +
      `The command npm run reproduce -- ${name} trains it (resumably) and commits its weights, history and grid there.`, 'warn'));
    return;
  }
  const result = readResult(dir);
  const full = JSON.parse(fs.readFileSync(path.join(dir, HISTORY_FILE), 'utf8')) as EpochRecord[];
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
