/**
 * Exports a finished work folder (runs/reproduce/NAME) to results/NAME/, the files committed to git:
 * `weights.ckpt` (the model config and weights only: no Adam state, no step history), `history.json` (per epoch:
 * train/test bits/dim, a PixelVAE's parts, seconds), `grid.png` (the final model's 12x12 grid, seed 0, as the
 * training CLI draws it) and `result.json` (lib/results/result.ts). Every figure is read from the run's checkpoint
 * or measured here from the exported weights file.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BackendInfo, initBackend } from '../backend';
import { loadDataset } from '../data';
import { projectRoot } from '../project-root';
import { Dataset } from '../data/dataset';
import { buildModel } from '../models';
import { recordedTask } from '../cli/resume';
import { writeFileAtomic } from '../io/atomic-file';
import { gridPng } from '../render/grid';
import { datasetGrid } from '../sample/dataset-grid';
import { encodeCheckpoint, loadWeights } from '../train/checkpoint';
import { readCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { EpochRecord } from '../train/trainer';
import { runConflicts } from './argv';
import { GRID_FILE, HISTORY_FILE, ResultRecord, WEIGHTS_FILE, writeResult } from './result';
import { ReproduceRun } from './runs';
import { evaluateWeights, SUBSET_IMAGES } from './verify';
import { readWork, sha256File } from './work';

export interface ExportOptions {
  /** The run's dataset when already loaded (the training that just finished); else loaded from the checkpoint's task. */
  dataset?: Dataset;
  /** The backend to record; default the one initBackend selects (the one reproduce trained on). */
  backend?: BackendInfo;
}

/** An epoch as history.json keeps it: the trainer's record, and a resumption's step and changes (not its local path). */
function exportedEpoch(record: EpochRecord & { resumed?: { step: number; changes: unknown } }): Record<string, unknown> {
  const { resumed, ...epoch } = record;
  return resumed ? { ...epoch, resumed: { step: resumed.step, changes: resumed.changes } } : { ...epoch };
}

/** The compute threads a backend description names ("native (oneDNN 2.6.3, 2 threads, ...)"), or null. */
export function backendThreads(description: string): number | null {
  const match = /\b(\d+) threads?\b/.exec(description);
  return match ? Number(match[1]) : null;
}

/** HEAD's commit and whether the code (lib/, native/, package files) differs from it; null outside git. */
export function gitCommit(root = projectRoot()): { commit: string | null; dirty: boolean } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const changes = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'native', 'package.json', 'package-lock.json');
    return { commit, dirty: changes !== '' };
  } catch {
    return { commit: null, dirty: false };
  }
}

/** Exports the finished work folder `workDir` of `run` into `resultDir` (created if missing); returns result.json's record. */
export async function exportRun(run: ReproduceRun, workDir: string, resultDir: string, options: ExportOptions = {}): Promise<ResultRecord> {
  const work = readWork(workDir);
  const { checkpoint, checkpointFile } = work;
  if (!checkpoint) throw new Error(`${run.name}: ${checkpointFile} does not exist; nothing to export (train it with npm run reproduce -- ${run.name})`);
  if (!work.finished) throw new Error(`${run.name}: ${checkpointFile} has trained ${work.epochsDone} of ${work.epochs} epochs; only a finished run is exported`);
  const conflicts = runConflicts(run, checkpoint);
  if (conflicts.length > 0) throw new Error(`${run.name}: ${checkpointFile} was trained with other flags than the run's: ${conflicts.join(', ')}`);
  const task = recordedTask(checkpoint) ?? run.task;
  if (task !== run.task) throw new Error(`${run.name}: ${checkpointFile} was trained on ${task}, the run is on ${run.task}`);
  const state = checkpoint.trainerState!;
  const history = state.history.epochs;
  const last = history.at(-1);
  if (last?.testBitsPerDim === undefined) throw new Error(`${run.name}: ${checkpointFile}'s last epoch has no test bits/dim; the last epoch of a run is always evaluated`);
  const config = trainConfig(checkpoint.trainConfig);
  const backend = options.backend ?? await initBackend();
  const recordedDirectory = checkpoint.meta?.dataDirectory;
  const dataset = options.dataset ?? await loadDataset(task, { dataDirectory: typeof recordedDirectory === 'string' ? recordedDirectory : undefined });
  const { commit, dirty } = gitCommit();

  fs.mkdirSync(resultDir, { recursive: true });
  const weightsFile = path.join(resultDir, WEIGHTS_FILE);
  writeFileAtomic(weightsFile, encodeCheckpoint({ modelConfig: checkpoint.modelConfig, weights: checkpoint.weights, meta: { task, run: run.name } }));
  // Measured on the file as written, as verifyResult will measure it.
  const exported = readCheckpoint(weightsFile);
  const subset = await evaluateWeights(exported, dataset, SUBSET_IMAGES, config.batchSize, weightsFile);
  const model = buildModel(exported.modelConfig);
  try {
    loadWeights(model.params, exported, weightsFile);
    const grid = await datasetGrid(model, dataset, { seed: 0 });
    writeFileAtomic(path.join(resultDir, GRID_FILE), gridPng(grid, grid.layout));
  } finally {
    model.params.dispose();
  }
  writeFileAtomic(path.join(resultDir, HISTORY_FILE), `${JSON.stringify(history.map(exportedEpoch), null, 1)}\n`);

  const workers = checkpoint.meta?.workers;
  const record: ResultRecord = {
    name: run.name, summary: run.summary, task, argv: [...run.argv], model: checkpoint.modelConfig.kind,
    parameters: work.parameters!, epochs: work.epochsDone,
    imagesSeen: work.epochsDone * Math.min(dataset.train.count, config.limit ?? Infinity),
    test: { images: Math.min(dataset.test.count, config.testLimit ?? Infinity), bitsPerDim: last.testBitsPerDim, ...(last.testParts ? { parts: last.testParts } : {}) },
    subset: { ...subset, batchSize: config.batchSize },
    wallSeconds: history.reduce((sum, epoch) => sum + epoch.seconds, 0),
    backend: { name: backend.name, description: backend.description, threads: backendThreads(backend.description), workers: typeof workers === 'number' ? workers : 0 },
    date: fs.statSync(checkpointFile).mtime.toISOString(),
    commit, dirty,
    source: { checkpointSha256: sha256File(checkpointFile), steps: state.step },
  };
  writeResult(resultDir, record);
  return record;
}
