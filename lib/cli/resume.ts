/**
 * What `--resume` may change: the flags that define a run (refused when they differ from the checkpoint) and the
 * training flags that take effect and are recorded, as pure functions of the options and the checkpoint.
 */
import { isTaskName, TaskName } from '../data';
import { isVaeKind } from '../models';
import { Checkpoint } from '../train/checkpoint';
import { ConfigChange, RESUMABLE_TRAIN_FIELDS, trainConfig } from '../train/config';
import { flag, TrainOptions } from './options';

/**
 * Options that define the model or the data each step sees. A resumed run keeps the checkpoint's: given on the
 * command line they must equal it. Batch size, limit and seed are among them because they decide which examples
 * each step and epoch see (and a PixelVAE's test noise is drawn per test batch), so changing them would splice
 * a different run onto this one; start a new run for that.
 */
const DEFINING_OPTIONS = ['task', 'model', 'layers', 'kernelSize', 'channels', 'zsize', 'vaeDepth', 'vaeChannels', 'posteriorLogvarInit', 'seed', 'batchSize', 'limit'] as const;

/** Options a resumed run may change, and the train config field each sets (the rest of training follows them). */
export const RESUMABLE_OPTIONS: Record<string, (typeof RESUMABLE_TRAIN_FIELDS)[number]> = {
  epochs: 'epochs', learningRate: 'learningRate', evaluateEvery: 'evaluateEvery', testLimit: 'testLimit', klWarmup: 'klWarmupSteps', freeBits: 'freeBits',
};

/** The task a checkpoint was trained on (the CLI records `task`; notebooks the dataset's name, which is the task's). */
export function recordedTask(checkpoint: Checkpoint): TaskName | undefined {
  const { task, dataset } = checkpoint.meta ?? {};
  return [task, dataset].find((name): name is TaskName => typeof name === 'string' && isTaskName(name));
}

/** Each defining option given on the command line that differs from the checkpoint, as `-x 3 (checkpoint: 5)`. */
export function resumeConflicts(options: TrainOptions, given: ReadonlySet<string>, checkpoint: Checkpoint): string[] {
  const model = checkpoint.modelConfig;
  const saved = trainConfig(checkpoint.trainConfig);
  const vae = isVaeKind(model.kind);
  const notVae = `${model.kind}, not a PixelVAE`;
  // The checkpoint's value of each option, or why it has none.
  const values: Record<(typeof DEFINING_OPTIONS)[number], { value: unknown; none?: string }> = {
    task: { value: recordedTask(checkpoint) },
    model: { value: model.kind },
    layers: { value: model.layers },
    kernelSize: { value: model.kernelSize },
    channels: { value: model.channels },
    zsize: { value: vae ? model.latentSize : undefined, none: notVae },
    vaeDepth: { value: vae ? model.vaeDepth : undefined, none: notVae },
    vaeChannels: { value: vae ? model.vaeChannels : undefined, none: notVae },
    // Absent from PixelVAE checkpoints saved before the option existed, which all started at 0.
    posteriorLogvarInit: { value: vae ? model.posteriorLogVarInit ?? 0 : undefined, none: notVae },
    seed: { value: saved.seed },
    batchSize: { value: saved.batchSize },
    limit: { value: saved.limit, none: 'no limit' },
  };
  const conflicts: string[] = [];
  for (const key of DEFINING_OPTIONS) {
    if (!given.has(key)) continue;
    const { value, none } = values[key];
    // A task the checkpoint does not record is checked by image shape instead (checkShape).
    if (key === 'task' && value === undefined) continue;
    if (value !== options[key]) conflicts.push(`${flag(key)} ${String(options[key])} (checkpoint: ${value === undefined ? none : String(value)})`);
  }
  return conflicts;
}

/** One resumption, recorded in the first epoch it completes (history.json and the checkpoint's history). */
export interface ResumeRecord {
  /** Training steps done before the resumption. */
  step: number;
  /** The checkpoint it continued from. */
  checkpoint: string;
  /** Train config fields (and `workers`) the command line changed. */
  changes: Record<string, ConfigChange>;
}
