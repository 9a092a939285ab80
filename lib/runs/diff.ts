/**
 * What differs between two runs' configurations, as a reader names it: the model and train configs flattened
 * into one list of settings (`layers 7`, `learningRate 0.0003`), with the task. A label for a run relative to a
 * reference run (the current one in a notebook, the first named on the command line) lists its differing
 * settings, or says `same settings`. Browser-safe (plain data).
 */

/** A run's configuration as records and notebooks hold it. */
export interface RunSettings {
  task?: string;
  model: object;
  train: object;
}

export interface SettingDifference {
  /** The setting's name: the config field, prefixed `model.`/`train.` where both configs have the field (seed). */
  name: string;
  /** This run's value and the reference's; undefined where that side does not have the setting. */
  value: unknown;
  reference: unknown;
  /** `layers 7`, or `latentSize absent` where this run has no such setting. */
  text: string;
}

/**
 * The train config's fields in the order people read them (lib/train/config.ts); fields not listed follow,
 * alphabetically. Model fields keep their config's order: modelConfig builds them in its spec's order
 * (shared fields, then the kind's own).
 */
const TRAIN_ORDER = ['epochs', 'batchSize', 'learningRate', 'limit', 'testLimit', 'evaluateEvery', 'seed'];

function defined(entries: object): [string, unknown][] {
  return Object.entries(entries).filter(([, value]) => value !== undefined);
}

/** The settings, flattened and in a stable order: task, kind, the other model fields, the train fields. */
export function flattenSettings(settings: RunSettings): Map<string, unknown> {
  const model = defined(settings.model);
  const train = defined(settings.train);
  const trainRank = (name: string) => (TRAIN_ORDER.includes(name) ? TRAIN_ORDER.indexOf(name) : TRAIN_ORDER.length);
  train.sort(([a], [b]) => trainRank(a) - trainRank(b) || a.localeCompare(b));
  const both = new Set(model.map(([name]) => name).filter((name) => train.some(([other]) => other === name)));
  const flat = new Map<string, unknown>();
  if (settings.task !== undefined) flat.set('task', settings.task);
  const kind = model.find(([name]) => name === 'kind');
  if (kind) flat.set('kind', kind[1]);
  for (const [name, value] of model) if (name !== 'kind') flat.set(both.has(name) ? `model.${name}` : name, value);
  for (const [name, value] of train) flat.set(both.has(name) ? `train.${name}` : name, value);
  return flat;
}

/** A value as a setting shows it: numbers as JavaScript writes them (0.0003, 1e-7), strings bare. */
export function formatSetting(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
}

/**
 * The settings of `settings` that differ from `reference`'s, in the reference's order with this run's extra
 * settings after their neighbours (both in flattenSettings' order).
 */
export function settingDifferences(settings: RunSettings, reference: RunSettings): SettingDifference[] {
  const mine = flattenSettings(settings);
  const theirs = flattenSettings(reference);
  const names = [...theirs.keys()];
  let at = 0;
  for (const name of mine.keys()) {
    const found = names.indexOf(name);
    if (found >= 0) at = found + 1;
    else names.splice(at++, 0, name);
  }
  return names
    .filter((name) => !same(mine.get(name), theirs.get(name)))
    .map((name) => {
      const value = mine.get(name);
      return { name, value, reference: theirs.get(name), text: value === undefined ? `${name} absent` : `${name} ${formatSetting(value)}` };
    });
}

/** `layers 7, learningRate 0.0003`, or `same settings`. */
export function differenceLabel(settings: RunSettings, reference: RunSettings): string {
  const differences = settingDifferences(settings, reference);
  return differences.length === 0 ? 'same settings' : differences.map((d) => d.text).join(', ');
}
