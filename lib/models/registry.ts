/**
 * The model kinds: one line each. A kind is one module under lib/models exporting its ModelSpec (spec.ts);
 * configs, their defaults and checks, the command line's flags and checkpoint decoding all come from here.
 */
import { conditionalSpec } from './conditional';
import { gatedSpec } from './gated';
import { gatedBlindspotSpec } from './gated-blindspot';
import type { PixelModel } from './model';
import { simpleSpec } from './simple';
import { DataShape, ModelOption, ModelSpec, SharedConfig } from './spec';
import { vaeStraightSpec, vaeUpSpec } from './vae-kinds';

export const MODEL_SPECS = [simpleSpec, gatedSpec, gatedBlindspotSpec, conditionalSpec, vaeUpSpec, vaeStraightSpec] as const;

type ConfigOf<S> = S extends ModelSpec<infer C> ? C : never;
/** A model's config: plain data, one member per kind (discriminated by `kind`). */
export type ModelConfig = ConfigOf<(typeof MODEL_SPECS)[number]>;
export type ModelKind = ModelConfig['kind'];
/** What a caller may give: any of a kind's fields (the rest are its defaults); no kind means 'gated'. */
export type ModelInput = Partial<ModelConfig>;

export const MODEL_KINDS: readonly ModelKind[] = MODEL_SPECS.map((spec) => spec.kind);
export const DEFAULT_KIND: ModelKind = 'gated';

const SHARED_DEFAULTS: Omit<SharedConfig, 'kind'> = { height: 28, width: 28, colours: 1, seed: 0 };

export function isModelKind(kind: unknown): kind is ModelKind {
  return typeof kind === 'string' && (MODEL_KINDS as readonly string[]).includes(kind);
}

export function modelSpec(kind: string): ModelSpec<ModelConfig> {
  const spec = MODEL_SPECS.find((s) => s.kind === kind);
  if (!spec) throw new Error(`model config: kind must be one of ${MODEL_KINDS.join(', ')}, got ${String(kind)}`);
  return spec as unknown as ModelSpec<ModelConfig>;
}

/** Every kind's own flags, once each (kinds share some: both PixelVAEs have --zsize), with the kinds that have them. */
export function modelOptions(): { option: ModelOption; kinds: ModelKind[] }[] {
  const options = new Map<string, { option: ModelOption; kinds: ModelKind[] }>();
  for (const spec of MODEL_SPECS) {
    for (const option of spec.options) {
      const entry = options.get(option.field) ?? { option, kinds: [] };
      entry.kinds.push(spec.kind);
      options.set(option.field, entry);
    }
  }
  return [...options.values()];
}

/**
 * A complete, checked config: the kind's defaults, then the image shape of `data` (and what follows from it:
 * a class-conditional model's classes), then `input`. A field the kind does not have is refused by name,
 * unless it is one the kind retired at its only value (older checkpoints stored every kind's fields).
 */
export function modelConfig(input: ModelInput = {}, data?: DataShape): ModelConfig {
  return completeConfig(input, data, false);
}

/** `legacy`: the input is a checkpoint's stored config, which may hold retired fields at any value they could have had. */
function completeConfig(input: ModelInput, data: DataShape | undefined, legacy: boolean): ModelConfig {
  const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Record<string, unknown>;
  const spec = modelSpec(String(given.kind ?? DEFAULT_KIND));
  const own = new Set(['kind', ...Object.keys(SHARED_DEFAULTS), ...Object.keys(spec.defaults)]);
  const retired: Readonly<Record<string, unknown>> = spec.retired ?? {};
  for (const [field, value] of Object.entries(given)) {
    if (own.has(field)) continue;
    if (field in retired && ((legacy && retired[field] === undefined) || retired[field] === value)) {
      delete given[field];
      continue;
    }
    throw new Error(`model config: a ${spec.kind} model has no ${field} ` +
      `(got ${JSON.stringify(value)}); its fields are ${[...own].join(', ')}`);
  }
  const shape = data ? { height: data.height, width: data.width, colours: data.channels } : {};
  let config = { ...SHARED_DEFAULTS, ...spec.defaults, ...shape, ...given, kind: spec.kind } as ModelConfig;
  for (const field of ['height', 'width', 'colours'] as const) {
    if (!Number.isInteger(config[field]) || config[field] < 1) throw new Error(`model config: ${field} must be a positive integer, got ${String(config[field])}`);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`model config: seed must be an integer, got ${String(config.seed)}`);
  if (data && spec.fit) config = spec.fit(config, data);
  spec.validate(config);
  return config;
}

/**
 * A config read from a checkpoint (`source` names the file): completed with the defaults of fields added since
 * it was written, and checked like a new one. `trainConfig` is the checkpoint's train config: older versions
 * kept some of a kind's fields there (a PixelVAE's KL options); those move into the model config and are
 * returned as `moved`, for the caller to drop from the train config.
 */
export function decodeModelConfig(stored: unknown, source: string, trainConfig: Record<string, unknown> = {}): { config: ModelConfig; moved: string[] } {
  if (typeof stored !== 'object' || stored === null || !isModelKind((stored as { kind?: unknown }).kind)) {
    throw new Error(`${source}: the checkpoint's model config has no known kind (expected one of ${MODEL_KINDS.join(', ')}), got ${JSON.stringify((stored as { kind?: unknown } | null)?.kind)}`);
  }
  const input = { ...stored } as Record<string, unknown>;
  const fields = Object.keys(modelSpec(String(input.kind)).defaults);
  const moved = fields.filter((field) => input[field] === undefined && trainConfig[field] !== undefined);
  for (const field of moved) input[field] = trainConfig[field];
  try {
    return { config: completeConfig(input as ModelInput, undefined, true), moved };
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
}

export function buildModel(config: ModelConfig): PixelModel {
  const spec = modelSpec(config.kind);
  spec.validate(config);
  return spec.build(config);
}

/** 'gated: 5 layers, kernel 5, 30 channels' and the like, for notebooks and reports. */
export function describeModel(config: ModelConfig): string {
  return modelSpec(config.kind).describe(config);
}
