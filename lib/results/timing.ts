/**
 * How long a run will take before it has trained an epoch: its first training steps timed on its own data, flags
 * and trainer, and a test evaluation timed on a few batches, scaled to all its epochs. For the runs whose first
 * epoch alone is hours here (the 9x63 runs), so that their pending rows carry an estimate without spending those
 * hours. Kept in results/NAME/timing.json (committed with the table it feeds); once the run has an epoch, that
 * epoch's time is the estimate instead (lib/results/work.ts). Node-only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../backend';
import { trainSettings } from '../cli/options';
import { modelInput } from '../cli/model-flags';
import { loadDataset } from '../data';
import { batches } from '../data/batches';
import { Dataset } from '../data/dataset';
import { formatSpan } from '../duration';
import { writeFileAtomic } from '../io/atomic-file';
import { disposeRun, startRun } from '../train/run';
import { defaultWorkerCount, startGradientWorkers } from '../train/workers';
import { parseRunArgv } from './argv';
import { backendThreads } from './export';
import { Check, checkFields, readJsonFile } from './result';
import { ReproduceRun } from './runs';
import { describeProgress, WorkState } from './work';

export const TIMING_FILE = 'timing.json';

export interface StepTiming {
  /** Training steps timed (the first epoch's, after `warmupSteps` untimed ones) and their mean seconds. */
  steps: number;
  warmupSteps: number;
  secondsPerStep: number;
  batchSize: number;
  /** The run's steps per epoch and epochs. */
  stepsPerEpoch: number;
  epochs: number;
  /** Test images evaluated while timing, and their seconds. */
  evaluationImages: number;
  evaluationSeconds: number;
  /** The run's evaluations (every --evaluate-every epochs, and the last) and the test images each covers. */
  evaluations: number;
  testImages: number;
  backend: { name: string; description: string; threads: number | null; workers: number };
  /** When it was timed, ISO 8601. */
  date: string;
}

const FIELDS: readonly [string, Check][] = [
  ['steps', 'count'], ['warmupSteps', 'count'], ['secondsPerStep', 'number'], ['batchSize', 'count'], ['stepsPerEpoch', 'count'],
  ['epochs', 'count'], ['evaluationImages', 'count'], ['evaluationSeconds', 'number'], ['evaluations', 'count'], ['testImages', 'count'],
  ['backend.name', 'string'], ['backend.description', 'string'], ['backend.threads', 'count|null'], ['backend.workers', 'count'], ['date', 'string'],
];

/** Seconds of training and evaluation for the whole run at the timed pace (sample grids not included, as in wall time). */
export function timedSeconds(timing: StepTiming): number {
  const evaluation = timing.evaluationImages > 0 ? timing.evaluationSeconds / timing.evaluationImages * timing.testImages : 0;
  return timing.epochs * timing.stepsPerEpoch * timing.secondsPerStep + timing.evaluations * evaluation;
}

/** What a pending row says of a timed run. */
export function describeTiming(timing: StepTiming): string {
  const threads = timing.backend.threads === null ? '' : `, ${timing.backend.threads} thread${timing.backend.threads === 1 ? '' : 's'}`;
  return `about ${formatSpan(timedSeconds(timing))} for ${timing.epochs} epochs at ${timing.secondsPerStep.toFixed(2)} s per step ` +
    `(${timing.steps} steps of its first epoch timed on ${timing.backend.name}${threads}, ${timing.date.slice(0, 10)})`;
}

/** Epochs that end with an evaluation: every `every`-th, and the last (as the trainer does). */
export function evaluatedEpochs(epochs: number, every: number): number {
  return Array.from({ length: epochs }, (_, epoch) => (epoch + 1) % every === 0 || epoch + 1 === epochs).filter(Boolean).length;
}

export interface TimingOptions {
  /** Steps to time after `warmup` untimed ones (the first compile kernels and fill caches). */
  steps: number;
  warmup?: number;
  /** Test batches to time the evaluation on. */
  evaluationBatches?: number;
  dataset?: Dataset;
  log?: (line: string) => void;
}

/** Times `run`'s first training steps and a test evaluation on this machine's backend (nothing is saved but the figures). */
export async function timeRun(run: ReproduceRun, options: TimingOptions): Promise<StepTiming> {
  const { steps, warmup = 3, evaluationBatches = 4, log = () => {} } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`timeRun: steps must be a whole number >= 1, got ${steps}`);
  const { options: flags } = parseRunArgv(run);
  const backend = await initBackend();
  const dataset = options.dataset ?? await loadDataset(run.task, { onProgress: () => {} });
  const trained = startRun(dataset, modelInput(flags), trainSettings(flags));
  try {
    const workers = await startGradientWorkers(trained, flags.workers ?? defaultWorkerCount(backend.name));
    const { trainer } = trained;
    const { config } = trainer;
    const perEpoch = trainer.batchesPerEpoch();
    if (warmup + steps > perEpoch) throw new Error(`timeRun: ${warmup} + ${steps} steps do not fit in ${run.name}'s epoch of ${perEpoch} steps`);
    let seconds = 0, timed = 0;
    for (const batch of batches(dataset.train, { batchSize: config.batchSize, seed: config.seed, limit: config.limit, epoch: 0 })) {
      if (batch.index >= warmup + steps) break;
      const started = performance.now();
      await trainer.step(batch.images, batch.labels, batch.size); // reads the loss back: the step has finished
      if (batch.index < warmup) continue;
      seconds += (performance.now() - started) / 1000;
      timed += 1;
      if (timed % 5 === 0 || timed === steps) log(`${run.name}: ${timed} of ${steps} steps timed, ${(seconds / timed).toFixed(2)} s per step`);
    }
    const testImages = Math.min(dataset.test.count, config.testLimit ?? Infinity);
    const evaluationImages = Math.min(testImages, evaluationBatches * config.batchSize);
    const started = performance.now();
    await trainer.evaluate(dataset.test, evaluationImages);
    const evaluationSeconds = (performance.now() - started) / 1000;
    return {
      steps: timed, warmupSteps: warmup, secondsPerStep: seconds / timed, batchSize: config.batchSize, stepsPerEpoch: perEpoch,
      epochs: config.epochs, evaluationImages, evaluationSeconds, evaluations: evaluatedEpochs(config.epochs, config.evaluateEvery), testImages,
      backend: { name: backend.name, description: backend.description, threads: backendThreads(backend.description), workers: workers?.count ?? 0 },
      date: new Date().toISOString(),
    };
  } finally {
    disposeRun(trained);
  }
}

/** results/NAME/timing.json, checked, or undefined where there is none. */
export function readTiming(resultDir: string): StepTiming | undefined {
  const file = path.join(resultDir, TIMING_FILE);
  if (!fs.existsSync(file)) return undefined;
  const parsed = readJsonFile(file);
  checkFields(parsed, FIELDS, file);
  const timing = parsed as StepTiming;
  if (timing.steps < 1) throw new Error(`${file}: field "steps" is ${timing.steps}; expected at least 1 timed step`);
  return timing;
}

export function writeTiming(resultDir: string, timing: StepTiming): void {
  checkFields(timing, FIELDS, 'timing being written');
  fs.mkdirSync(resultDir, { recursive: true });
  writeFileAtomic(path.join(resultDir, TIMING_FILE), `${JSON.stringify(timing, null, 1)}\n`);
}

/** Removes results/NAME/timing.json once the run has an epoch of its own to estimate from. */
export function dropTiming(resultDir: string): void {
  fs.rmSync(path.join(resultDir, TIMING_FILE), { force: true });
}

/** A pending run's progress: its epochs and their pace, or, not started, its timed estimate where it has one. */
export function describePending(work: WorkState, resultDir: string): string {
  const timing = work.checkpoint ? undefined : readTiming(resultDir);
  return timing ? `not started; ${describeTiming(timing)}` : describeProgress(work);
}
