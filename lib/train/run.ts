/**
 * A training run: a model, its objective and a trainer over one dataset, created fresh or restored
 * from a checkpoint. Notebooks and the command line both go through here.
 */
import { Dataset } from '../data/dataset';
import { buildModel, DataShape, ModelConfig, modelConfig, ModelInput, modelOptions, PixelModel } from '../models';
import { Checkpoint, captureCheckpoint, loadOptimizer, loadWeights } from './checkpoint';
import { TrainConfig, trainConfig } from './config';
import { Trainer } from './trainer';

export interface Run {
  dataset: Dataset;
  model: PixelModel;
  trainer: Trainer;
}

/** What a model config needs to know of a dataset (or of a task's shape from TASK_SHAPES, before loading it). */
export type DatasetShape = Pick<Dataset, 'name' | 'height' | 'width' | 'channels'> & ({ classNames: readonly string[] } | { classes: number });

export function dataShape(dataset: DatasetShape): DataShape {
  const classes = 'classes' in dataset ? dataset.classes : dataset.classNames.length;
  return { name: dataset.name, height: dataset.height, width: dataset.width, channels: dataset.channels, classes };
}

/**
 * A model config fitted to a dataset: image shape and colours from the data, and what the kind takes from it
 * (a class-conditional model's classes), then `overrides`.
 */
export function modelConfigFor(dataset: DatasetShape, overrides: ModelInput = {}): ModelConfig {
  return modelConfig(overrides, dataShape(dataset));
}

/** Throws unless the model was built for the data's images; `source` (the checkpoint file) starts the message. */
export function checkShape(config: ModelConfig, dataset: Pick<Dataset, 'name' | 'height' | 'width' | 'channels'>, source?: string): void {
  if (config.height !== dataset.height || config.width !== dataset.width || config.colours !== dataset.channels) {
    throw new Error(`${source ? `${source}: ` : ''}model expects ${config.height}x${config.width}x${config.colours} images, ` +
      `dataset ${dataset.name} has ${dataset.height}x${dataset.width}x${dataset.channels}`);
  }
}

export function startRun(dataset: Dataset, model: ModelInput = {}, train: Partial<TrainConfig> = {}): Run {
  const config = modelConfigFor(dataset, model);
  checkShape(config, dataset);
  const pixelModel = buildModel(config);
  const settings = trainConfig(train);
  return { dataset, model: pixelModel, trainer: new Trainer(pixelModel.objective(), dataset, settings) };
}

export async function checkpointRun(run: Run, meta: Record<string, unknown> = {}): Promise<Checkpoint> {
  return captureCheckpoint(run.model.config, run.model.params, {
    trainConfig: run.trainer.config, trainerState: run.trainer.state, optimizer: run.trainer.optimizer,
    meta: { dataset: run.dataset.name, ...meta },
  });
}

/**
 * Restores a run from a checkpoint: weights, Adam's state, history and data position. `train` overrides the
 * saved train config (e.g. more epochs), `objective` the model's resumable options (its spec's, such as a
 * PixelVAE's KL schedule); the fields that define the model cannot change.
 */
export async function resumeRun(
  checkpoint: Checkpoint, dataset: Dataset, train: Partial<TrainConfig> = {}, source = 'checkpoint', objective: Record<string, number> = {},
): Promise<Run> {
  const resumable = new Set(modelOptions().filter(({ option }) => option.resumable).map(({ option }) => option.field));
  const fixed = Object.keys(objective).filter((field) => !resumable.has(field));
  if (fixed.length > 0) throw new Error(`resumeRun: ${fixed.join(', ')} define the model and cannot change when a run is resumed`);
  const resumed = modelConfig({ ...checkpoint.modelConfig, ...objective } as ModelInput);
  checkShape(resumed, dataset, source);
  const model = buildModel(resumed);
  loadWeights(model.params, checkpoint, source);
  const config = trainConfig({ ...checkpoint.trainConfig, ...train });
  const trainer = new Trainer(model.objective(), dataset, config, checkpoint.trainerState && structuredClone(checkpoint.trainerState));
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
