/**
 * The notebooks' entry point: `import * as nb from './lib/notebook/index';` (tslab resolves no directory
 * index, so the `/index` is needed).
 *
 * Why the implementation is loaded through Node's own require with tsx registered: tslab compiles the
 * TypeScript a notebook imports itself and resolves the `require`s of that compiled code only to files
 * (`./x` -> `./x.js`). Other lib folders import directories (`'../models'` in lib/train/run.ts), which then
 * fail with "Cannot find module". With tsx's CommonJS hook registered (once per kernel), a real `require`
 * resolves like TypeScript (directory indexes, .ts files) and loads the whole lib graph once, so every
 * module has a single instance (the backend state, `instanceof` checks in the sampler). tslab still
 * type-checks everything through the `typeof import(...)` types below.
 *
 * Under `node --import tsx` (tests, scripts) tsx is already registered.
 * After editing lib/ sources, restart the kernel (modules are cached for the kernel's lifetime).
 */
import type * as Session from './session';
import type * as Config from './config';
import type * as Diagnostics from './diagnostics';
import type * as LiveSampler from './live-sampler';
import type * as Vae from './vae';
import type * as FullRun from './full-run';
import type * as CompareRuns from './compare-runs';
import type * as RunsLocation from '../runs/location';

export type { NotebookConfig } from './config';
export type { Session, PrepareOptions, Results, ResultsOptions, SampleImages, TrainingEnd } from './session';
export type { TrainOptions } from './train';
export type { CompareRunsOptions, RunChoice } from './compare-runs';
export type { Interrupts } from './interrupt';
export type { Outputs, Output } from './output';
export type { FieldStudyConfig, LeakDemo, LikelihoodCheckConfig } from './diagnostics';
export type { LiveSamplerDisplayOptions } from './live-sampler';

interface NodeModule {
  createRequire(filename: string): NodeRequire;
  _extensions: Record<string, unknown>;
}

function load<T>(id: string): T {
  // `require` here may be tslab's wrapper (it would load tslab's own compiled copies): use Node's.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Module = require('module') as NodeModule;
  if (typeof Module._extensions['.ts'] !== 'function') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    (require('tsx/cjs/api') as { register(): unknown }).register();
  }
  return Module.createRequire(__filename)(id) as T;
}

const session = load<typeof Session>('./session');
const config = load<typeof Config>('./config');
const diagnostics = load<typeof Diagnostics>('./diagnostics');
const liveSampler = load<typeof LiveSampler>('./live-sampler');
const vae = load<typeof Vae>('./vae');
const fullRun = load<typeof FullRun>('./full-run');
const recordedRuns = load<typeof CompareRuns>('./compare-runs');
const location = load<typeof RunsLocation>('../runs/location');

export const loadChartLibrary = session.loadChartLibrary;
export const prepare = session.prepare;
export const train = session.train;
export const showSamples = session.showSamples;
export const showResults = session.showResults;
// The trained model as a widget that samples and completes images in the reader's browser (lib/live).
export const showLiveSampler = liveSampler.showLiveSampler;
export const results = session.results;
// Recorded runs (runs/notebooks/NAME/ID/): chosen runs side by side, across notebooks; a run's checkpoint by its id.
export const compareRuns = recordedRuns.compareRuns;
export const loadRun = session.loadRun;
// What the same model reaches after the original's full run (results/NAME, npm run reproduce).
export const showFullRun = fullRun.showFullRun;
// Full runs side by side (notebook 05: what the blind spot costs after 15 epochs).
export const showFullRunComparison = fullRun.showFullRunComparison;
export const effectiveConfig = config.effectiveConfig;
export const smokeRequested = location.smokeRequested;
// Notebook 05-blind-spot (receptive fields, the leak demonstration, the pixel-by-pixel likelihood check).
export const showBlindSpots = diagnostics.showBlindSpots;
export const showColourFields = diagnostics.showColourFields;
export const prepareLeakDemo = diagnostics.prepareLeakDemo;
export const showTrainingComparison = diagnostics.showTrainingComparison;
export const showLikelihoodChecks = diagnostics.showLikelihoodChecks;
// Notebook 04-vae (reconstructions, rows per fixed z, latent interpolation).
export const showReconstructions = vae.showReconstructions;
export const showLatentRows = vae.showLatentRows;
export const showInterpolation = vae.showInterpolation;
