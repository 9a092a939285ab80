/**
 * A training run: a model, its objective and a trainer over one dataset, created fresh or restored
 * from a checkpoint. Notebooks and the command line both go through here.
 */
import { Dataset } from '../data/dataset';
import { buildModel, ModelConfig, modelConfig } from '../models';
import { PixelModel } from '../models/model';
import { Checkpoint, captureCheckpoint, loadOptimizer, loadWeights } from './checkpoint';
import { TrainConfig, trainConfig } from './config';
import { objectiveFor } from './objective';
import { Trainer } from './trainer';

export interface Run {
  dataset: Dataset;
  model: PixelModel;
  trainer: Trainer;
}

/**
 * What a model config needs to know of its data: a loaded `Dataset`, or a name and a task's shape from
 * `TASK_SHAPES` (lib/data/tasks.ts) to check options before the data is loaded.
 */
export type DataShape = Pick<Dataset, 'name' | 'height' | 'width' | 'channels'> & ({ classNames: readonly string[] } | { classes: number });

function classCount(data: DataShape): number {
  return 'classes' in data ? data.classes : data.classNames.length;
}

/**
 * A model config fitted to a dataset: image shape and colours from the data, classes for conditional models
 * (a PixelVAE's condition follows from its own options, see `modelConfig`).
 */
export function modelConfigFor(dataset: DataShape, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const conditional = overrides.kind === 'conditional';
  const classes = classCount(dataset);
  if (conditional && classes === 0 && !overrides.conditionMapChannels) {
    throw new Error(`dataset ${dataset.name} has no class labels: a class-conditional model cannot be trained on it`);
  }
  return modelConfig({
    height: dataset.height, width: dataset.width, colours: dataset.channels,
    ...(conditional ? { conditionSize: classes } : {}),
    ...overrides,
  });
}

/** Throws unless the model was built for the data's images; `source` (the checkpoint file) starts the message. */
export function checkShape(config: ModelConfig, dataset: Pick<Dataset, 'name' | 'height' | 'width' | 'channels'>, source?: string): void {
  if (config.height !== dataset.height || config.width !== dataset.width || config.colours !== dataset.channels) {
    throw new Error(`${source ? `${source}: ` : ''}model expects ${config.height}x${config.width}x${config.colours} images, ` +
      `dataset ${dataset.name} has ${dataset.height}x${dataset.width}x${dataset.channels}`);
  }
}

export function startRun(dataset: Dataset, model: Partial<ModelConfig> = {}, train: Partial<TrainConfig> = {}): Run {
  const config = modelConfigFor(dataset, model);
  checkShape(config, dataset);
  const pixelModel = buildModel(config);
  const settings = trainConfig(train);
  return { dataset, model: pixelModel, trainer: new Trainer(objectiveFor(pixelModel, settings), dataset, settings) };
}

export async function checkpointRun(run: Run, meta: Record<string, unknown> = {}): Promise<Checkpoint> {
  return captureCheckpoint(run.model.config, run.model.params, {
    trainConfig: run.trainer.config, trainerState: run.trainer.state, optimizer: run.trainer.optimizer,
    meta: { dataset: run.dataset.name, ...meta },
  });
}

/**
 * Restores a run from a checkpoint: weights, Adam's state, history and data position. `train`
 * overrides the saved train config (e.g. more epochs).
 */
export async function resumeRun(checkpoint: Checkpoint, dataset: Dataset, train: Partial<TrainConfig> = {}, source = 'checkpoint'): Promise<Run> {
  checkShape(checkpoint.modelConfig, dataset, source);
  const model = buildModel(checkpoint.modelConfig);
  loadWeights(model.params, checkpoint, source);
  const config = trainConfig({ ...checkpoint.trainConfig, ...train });
  const trainer = new Trainer(objectiveFor(model, config), dataset, config, checkpoint.trainerState && structuredClone(checkpoint.trainerState));
  if (checkpoint.optimizer) await loadOptimizer(trainer.optimizer, model.params, checkpoint, source);
  return { dataset, model, trainer };
}

export function disposeRun(run: Run): void {
  const { executor } = run.trainer;
  if (executor.helpers) {
    void executor.helpers.terminate();
    executor.helpers = undefined;
  }
  run.trainer.optimizer.dispose();
  run.model.params.dispose();
}
