/**
 * The training command's flags that belong to model kinds rather than to every run: read from the model specs
 * (`modelOptions()`, lib/models/registry.ts), so a kind that adds a config field with a flag gets it on the
 * command line, in --help, in the model input and in the --resume rules without an edit here.
 */
import { Option } from 'commander';
import { ModelInput, ModelKind, ModelOption, modelOptions, modelSpec } from '../models';
import type { TrainOptions } from './options';

export interface ModelFlag {
  option: ModelOption;
  /** The kinds whose config has the field. */
  kinds: ModelKind[];
  /** commander's attribute name, the flag's key in TrainOptions and in `given` ('--kl-warmup' -> 'klWarmup'). */
  key: string;
  /** How the user writes it: '--kl-warmup'. */
  name: string;
}

export const MODEL_FLAGS: readonly ModelFlag[] = modelOptions().map(({ option, kinds }) => {
  const parsed = new Option(option.flag);
  return { option, kinds, key: parsed.attributeName(), name: parsed.long ?? parsed.flags };
});

/** The flags a resumed run may change (they steer training, such as a PixelVAE's KL schedule); the others define the model. */
export const RESUMABLE_MODEL_FLAGS = MODEL_FLAGS.filter((flag) => flag.option.resumable);

/** What the kinds' names share once each drops its kind ('PixelVAE' for 'vae-up PixelVAE' and 'vae-straight PixelVAE'). */
function family(kinds: readonly ModelKind[]): string | undefined {
  const rests = new Set(kinds.map((kind) => {
    const { name } = modelSpec(kind);
    return name.startsWith(`${kind} `) ? name.slice(kind.length + 1) : name;
  }));
  return rests.size === 1 ? [...rests][0] : undefined;
}

/** The kinds as help texts name them: 'PixelVAE (vae-up, vae-straight)'. */
export function kindsLabel(kinds: readonly ModelKind[]): string {
  const shared = family(kinds);
  return shared ? `${shared} (${kinds.join(', ')})` : kinds.join(', ');
}

function and(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/**
 * Refuses the model flags typed (`given`) that `kind` has no field for, naming each flag, its field and the kinds
 * that have it; `whose` says where the kind comes from ('-m gated', "the checkpoint's model, gated,").
 */
export function refuseForeignFlags(kind: ModelKind, given: ReadonlySet<string>, whose: string): void {
  const foreign = MODEL_FLAGS.filter((flag) => given.has(flag.key) && !flag.kinds.includes(kind));
  if (foreign.length === 0) return;
  // Flags of the same kinds are named together: '--kl-warmup and --free-bits set a PixelVAE's ...'.
  const groups = new Map<string, ModelFlag[]>();
  for (const flag of foreign) groups.set(flag.kinds.join(), [...(groups.get(flag.kinds.join()) ?? []), flag]);
  const sentences = [...groups.values()].map((flags) => {
    const { kinds } = flags[0];
    const shared = family(kinds);
    return `${and(flags.map((flag) => flag.name))} ${flags.length === 1 ? 'sets' : 'set'} ${shared ? `a ${shared}'s` : 'the'} ` +
      `${and(flags.map((flag) => flag.option.field))} (${kinds.map((k) => `-m ${k}`).join(' or ')})`;
  });
  throw new Error(`${sentences.join('; ')}; ${whose} has none`);
}

/**
 * A new run's model input: the shared fields, and each of the kind's own fields whose flag was given or has a
 * default (the others are left to the kind's defaults).
 */
export function modelInput(options: TrainOptions): ModelInput {
  const own = MODEL_FLAGS.filter((flag) => flag.kinds.includes(options.model));
  const fields = own.map(({ key, option }) => [option.field, options[key]] as const).filter(([, value]) => value !== undefined);
  return {
    kind: options.model, layers: options.layers, kernelSize: options.kernelSize, channels: options.channels, seed: options.seed,
    ...Object.fromEntries(fields),
  } as ModelInput;
}

/** A config's fields by name: what a flag's `option.field` reads. */
export function fieldsOf(config: object): Readonly<Record<string, unknown>> {
  return config as Readonly<Record<string, unknown>>;
}
