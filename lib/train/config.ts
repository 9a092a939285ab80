/** Training options as plain data, defaults from the original's MNIST runs (`-e 15 -b 64 -l 0.001`). */

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** At most this many training examples per epoch (`--limit`); undefined = all. */
  limit?: number;
  /** Evaluate on the test set every this many epochs (`--evaluate-every`). */
  evaluateEvery: number;
  /** At most this many test examples per evaluation; undefined = all. */
  testLimit?: number;
  /** Seed of the data order. */
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 15,
  batchSize: 64,
  learningRate: 0.001,
  evaluateEvery: 1,
  seed: 0,
};

export function trainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  const config = { ...DEFAULT_TRAIN_CONFIG, ...overrides };
  for (const field of ['epochs', 'batchSize', 'evaluateEvery'] as const) {
    if (!Number.isInteger(config[field]) || config[field] < 1) throw new Error(`train config: ${field} must be a positive integer, got ${config[field]}`);
  }
  for (const field of ['limit', 'testLimit'] as const) {
    const value = config[field];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`train config: ${field} must be a positive integer, got ${value}`);
  }
  if (!(config.learningRate > 0 && Number.isFinite(config.learningRate))) {
    throw new Error(`train config: learningRate must be a positive number, got ${config.learningRate}`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`train config: seed must be an integer, got ${config.seed}`);
  return config;
}

/**
 * The train config fields a resumed run may change: they steer the training still to come (how long, how fast,
 * how it is evaluated). The others (batch size, limit, seed) define which examples each step sees, so changing
 * them would make a different run. (A model's objective options, such as a PixelVAE's KL schedule, are the
 * model spec's `resumable` options.)
 */
export const RESUMABLE_TRAIN_FIELDS = ['epochs', 'learningRate', 'evaluateEvery', 'testLimit'] as const;

/** A field's old and new value; null stands for unset (undefined does not survive JSON). */
export interface ConfigChange { from: number | null; to: number | null }

/** The fields of `after` that differ from `before`, by field name. */
export function configChanges(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, ConfigChange> {
  const changes: Record<string, ConfigChange> = {};
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const field of fields) {
    const from = (before[field] ?? null) as number | null, to = (after[field] ?? null) as number | null;
    if (from !== to) changes[field] = { from, to };
  }
  return changes;
}
