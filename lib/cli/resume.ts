/**
 * What `--resume` may change: the flags that define a run (refused when they differ from the checkpoint) and the
 * training flags that take effect and are recorded, as pure functions of the options and the checkpoint. The
 * kinds' own flags take their role from the model specs: a `resumable` one steers training, the others define
 * the model.
 */
import { isTaskName, TaskName } from '../data';
import { Checkpoint } from '../train/checkpoint';
import { ConfigChange, configChanges, RESUMABLE_TRAIN_FIELDS, TrainConfig, trainConfig } from '../train/config';
import { fieldsOf, MODEL_FLAGS, RESUMABLE_MODEL_FLAGS } from './model-flags';
import { flag, TrainOptions } from './options';

/**
 * Options that define the model or the data each step sees. A resumed run keeps the checkpoint's: given on the
 * command line they must equal it. Batch size, limit and seed are among them because they decide which examples
 * each step and epoch see (and a PixelVAE's test noise is drawn per test batch), so changing them would splice
 * a different run onto this one; start a new run for that.
 */
const DEFINING_OPTIONS: readonly string[] = [
  'task', 'model', 'layers', 'kernelSize', 'channels',
  ...MODEL_FLAGS.filter((flag) => !flag.option.resumable).map((flag) => flag.key),
  'seed', 'batchSize', 'limit',
];

/**
 * Options a resumed run may change, and the config field each sets: the train config's (named as their flags'
 * attributes: -e is epochs), then the model config's resumable ones (the rest of training follows them).
 */
export const RESUMABLE_OPTIONS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(RESUMABLE_TRAIN_FIELDS.map((field) => [field, field])),
  ...Object.fromEntries(RESUMABLE_MODEL_FLAGS.map((flag) => [flag.key, flag.option.field])),
};

/** The task a checkpoint was trained on (the CLI records `task`; notebooks the dataset's name, which is the task's). */
export function recordedTask(checkpoint: Checkpoint): TaskName | undefined {
  const { task, dataset } = checkpoint.meta ?? {};
  return [task, dataset].find((name): name is TaskName => typeof name === 'string' && isTaskName(name));
}

/** Each defining option given on the command line that differs from the checkpoint, as `-x 3 (checkpoint: 5)`. */
export function resumeConflicts(options: TrainOptions, given: ReadonlySet<string>, checkpoint: Checkpoint): string[] {
  const model = fieldsOf(checkpoint.modelConfig);
  const saved = trainConfig(checkpoint.trainConfig);
  // The checkpoint's value of each shared option, or why it has none; its model config holds the kind's own
  // (decoded with the defaults of fields added since it was written).
  const shared: Record<string, { value: unknown; none?: string }> = {
    task: { value: recordedTask(checkpoint) },
    model: { value: model.kind },
    layers: { value: model.layers },
    kernelSize: { value: model.kernelSize },
    channels: { value: model.channels },
    seed: { value: saved.seed },
    batchSize: { value: saved.batchSize },
    limit: { value: saved.limit, none: 'no limit' },
  };
  const recorded = (key: string) => {
    const own = MODEL_FLAGS.find((flag) => flag.key === key);
    return own ? { value: model[own.option.field], none: `${String(model.kind)} has none` } : shared[key];
  };
  const conflicts: string[] = [];
  for (const key of DEFINING_OPTIONS) {
    if (!given.has(key)) continue;
    const { value, none } = recorded(key);
    // A task the checkpoint does not record is checked by image shape instead (checkShape).
    if (key === 'task' && value === undefined) continue;
    if (value !== options[key]) conflicts.push(`${flag(key)} ${String(options[key])} (checkpoint: ${value === undefined ? none : String(value)})`);
  }
  return conflicts;
}

/** What the command line changes in a resumed run: typed train config fields, typed resumable model options. */
export interface ResumeOverrides {
  train: Partial<TrainConfig>;
  /** For resumeRun's `objective`: model config fields, such as a PixelVAE's klWarmupSteps. */
  model: Record<string, number>;
  /** The fields whose value that changes, by field name. */
  changes: Record<string, ConfigChange>;
}

export function resumeOverrides(options: TrainOptions, given: ReadonlySet<string>, checkpoint: Checkpoint): ResumeOverrides {
  const savedTrain = fieldsOf(trainConfig(checkpoint.trainConfig));
  const savedModel = fieldsOf(checkpoint.modelConfig);
  const trainFields = new Set<string>(RESUMABLE_TRAIN_FIELDS);
  const train: Record<string, number> = {}, model: Record<string, number> = {}, before: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(RESUMABLE_OPTIONS)) {
    const value = options[key];
    if (!given.has(key) || typeof value !== 'number') continue;
    (trainFields.has(field) ? train : model)[field] = value;
    before[field] = (trainFields.has(field) ? savedTrain : savedModel)[field];
  }
  return { train: train as Partial<TrainConfig>, model, changes: configChanges(before, { ...train, ...model }) };
}

/** The changes as the log line names them: `-e 1 -> 2, --kl-warmup 0 -> 40`. */
export function describeChanges(changes: Record<string, ConfigChange>): string {
  return Object.entries(changes).map(([field, { from, to }]) => {
    const key = Object.keys(RESUMABLE_OPTIONS).find((k) => RESUMABLE_OPTIONS[k] === field) ?? field;
    return `${flag(key)} ${from ?? 'unset'} -> ${to ?? 'unset'}`;
  }).join(', ');
}

/** One resumption, recorded in the first epoch it completes (history.json and the checkpoint's history). */
export interface ResumeRecord {
  /** Training steps done before the resumption. */
  step: number;
  /** The checkpoint it continued from. */
  checkpoint: string;
  /** Config fields (train and resumable model fields, and `workers`) the command line changed. */
  changes: Record<string, ConfigChange>;
}
