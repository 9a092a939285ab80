/**
 * Checkpoints as bytes: model config, train config, weights, Adam's state, trainer state (history and
 * data position). Browser-safe (no file access): reports embed these bytes; `checkpoint-file.ts`
 * writes them to disk atomically.
 *
 * Layout: the 8-byte magic "PIXCKPT1", a uint32 (little-endian) header length, a UTF-8 JSON header,
 * zero padding to a multiple of 4, then the float32 tensor data the header indexes.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeModelConfig, ModelConfig } from '../models/registry';
import { ParamStore } from '../models/params';
import { TrainConfig } from './config';
import { TrainerState } from './trainer';

const MAGIC = 'PIXCKPT1';

interface TensorEntry { name: string; shape: number[]; offset: number; length: number }

interface Header {
  modelConfig: ModelConfig;
  trainConfig?: TrainConfig;
  trainerState?: TrainerState;
  optimizerIterations?: number;
  tensors: TensorEntry[];
  /** Free-form extra data (e.g. dataset name) for tools. */
  meta?: Record<string, unknown>;
}

export interface Checkpoint {
  modelConfig: ModelConfig;
  trainConfig?: TrainConfig;
  trainerState?: TrainerState;
  /** Parameter values by parameter name. */
  weights: Map<string, { shape: number[]; values: Float32Array }>;
  /** Adam moments by parameter name, and the iteration count. */
  optimizer?: { iterations: number; moments: Map<string, { m: Float32Array; v: Float32Array }> };
  meta?: Record<string, unknown>;
}

/** Reads weights and (optionally) Adam's state out of live objects. */
export async function captureCheckpoint(
  modelConfig: ModelConfig, params: ParamStore, extra: { trainConfig?: TrainConfig; trainerState?: TrainerState; optimizer?: tf.AdamOptimizer; meta?: Record<string, unknown> } = {},
): Promise<Checkpoint> {
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, variable] of params.variables) weights.set(name, { shape: variable.shape, values: (await variable.data()) as Float32Array });
  let optimizer: Checkpoint['optimizer'];
  if (extra.optimizer) {
    const named = await extra.optimizer.getWeights();
    const byTfName = new Map(named.map((w) => [w.name, w.tensor]));
    const iterations = (await named[0].tensor.data())[0];
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const [name, variable] of params.variables) {
      const m = byTfName.get(`${variable.name}/m`);
      const v = byTfName.get(`${variable.name}/v`);
      if (m && v) moments.set(name, { m: (await m.data()) as Float32Array, v: (await v.data()) as Float32Array });
    }
    optimizer = { iterations, moments };
  }
  return { modelConfig, trainConfig: extra.trainConfig, trainerState: extra.trainerState, weights, optimizer, meta: extra.meta };
}

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], values: Float32Array) => {
    tensors.push({ name, shape, offset, length: values.length });
    arrays.push(values);
    offset += values.length;
  };
  for (const [name, { shape, values }] of checkpoint.weights) add(`weight:${name}`, shape, values);
  for (const [name, { m, v }] of checkpoint.optimizer?.moments ?? []) {
    const shape = checkpoint.weights.get(name)?.shape ?? [m.length];
    add(`adam-m:${name}`, shape, m);
    add(`adam-v:${name}`, shape, v);
  }
  const header: Header = {
    modelConfig: checkpoint.modelConfig, trainConfig: checkpoint.trainConfig, trainerState: checkpoint.trainerState,
    optimizerIterations: checkpoint.optimizer?.iterations, tensors, meta: checkpoint.meta,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = Math.ceil((12 + json.length) / 4) * 4;
  const bytes = new Uint8Array(dataStart + offset * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, json.length, true);
  bytes.set(json, 12);
  const data = new Float32Array(bytes.buffer, dataStart, offset);
  arrays.forEach((values, i) => data.set(values, tensors[i].offset));
  return bytes;
}

const TENSOR_KINDS = ['weight', 'adam-m', 'adam-v'];

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/**
 * Checks one header entry before any tensor is made from it: tfjs's own error for a length that does not match
 * the shape names neither the file nor the tensor.
 */
function checkTensorEntry(entry: TensorEntry, index: number, source: string): void {
  const where = `${source}: tensor ${index}`;
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where} is ${JSON.stringify(entry)}; expected { name, shape, offset, length }`);
  const { name, shape, offset, length } = entry;
  const kind = typeof name === 'string' ? name.slice(0, name.indexOf(':')) : undefined;
  if (typeof name !== 'string' || !TENSOR_KINDS.includes(kind!)) {
    throw new Error(`${where} has name ${JSON.stringify(name)}; expected "<${TENSOR_KINDS.join('|')}>:<parameter>"`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new Error(`${source}: tensor ${name} has shape ${JSON.stringify(shape)}; expected a list of sizes`);
  if (!isCount(offset) || !isCount(length)) {
    throw new Error(`${source}: tensor ${name} has offset ${JSON.stringify(offset)} and length ${JSON.stringify(length)}; expected counts of float32 values`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (length !== size) {
    throw new Error(`${source}: tensor ${name} has shape ${shape.join('x')} (${size} values) but ${length} values stored; expected ${size} (corrupt or edited file)`);
  }
}

/** Parses checkpoint bytes; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error(`${source}: not a pixel-notebooks checkpoint (expected magic "${MAGIC}" at the start)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw new Error(`${source}: truncated header (${headerLength} bytes announced, ${bytes.length - 12} present)`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch (error) {
    throw new Error(`${source}: corrupt header JSON (${(error as Error).message})`);
  }
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const floats = (bytes.length - dataStart) / 4;
  if (!Array.isArray(header.tensors)) throw new Error(`${source}: corrupt header: "tensors" is ${JSON.stringify(header.tensors)}, expected a list of tensor entries`);
  header.tensors.forEach((t, i) => checkTensorEntry(t, i, source));
  const needed = header.tensors.reduce((n, t) => Math.max(n, t.offset + t.length), 0);
  if (!Number.isInteger(floats) || floats !== needed) {
    throw new Error(`${source}: tensor data has ${bytes.length - dataStart} bytes, expected ${needed * 4} (truncated or corrupt file)`);
  }
  const aligned = new Uint8Array(bytes.subarray(dataStart)); // copy: guarantees 4-byte alignment
  const data = new Float32Array(aligned.buffer, 0, floats);
  const weights: Checkpoint['weights'] = new Map();
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const t of header.tensors) {
    const values = data.subarray(t.offset, t.offset + t.length);
    const [role, name] = [t.name.slice(0, t.name.indexOf(':')), t.name.slice(t.name.indexOf(':') + 1)];
    if (role === 'weight') weights.set(name, { shape: t.shape, values });
    else {
      const entry = moments.get(name) ?? { m: new Float32Array(0), v: new Float32Array(0) };
      if (role === 'adam-m') entry.m = values; else entry.v = values;
      moments.set(name, entry);
    }
  }
  const { config: modelConfig, moved } = decodeModelConfig(header.modelConfig, source, header.trainConfig as unknown as Record<string, unknown> | undefined);
  const trainConfig = header.trainConfig && { ...header.trainConfig };
  for (const field of moved) delete (trainConfig as Record<string, unknown> | undefined)?.[field];
  return {
    modelConfig, trainConfig, trainerState: header.trainerState, weights,
    optimizer: header.optimizerIterations !== undefined ? { iterations: header.optimizerIterations, moments } : undefined,
    meta: header.meta,
  };
}

/** Copies checkpoint weights into a model's parameters; every parameter must be present with its shape. */
export function loadWeights(params: ParamStore, checkpoint: Checkpoint, source = 'checkpoint'): void {
  // Every check before the first assignment, so that an error never leaves a half-loaded model.
  for (const [name, variable] of params.variables) {
    const saved = checkpoint.weights.get(name);
    if (!saved) throw new Error(`${source}: no weights for parameter ${name}; was it saved from a different model config?`);
    if (saved.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(`${source}: parameter ${name} has shape ${saved.shape.join('x')}, the model expects ${variable.shape.join('x')}`);
    }
    if (saved.values.length !== variable.size) {
      throw new Error(`${source}: parameter ${name} has ${saved.values.length} values, its shape ${variable.shape.join('x')} needs ${variable.size}`);
    }
  }
  const extra = [...checkpoint.weights.keys()].filter((name) => !params.variables.has(name));
  if (extra.length > 0) throw new Error(`${source}: unexpected parameters ${extra.join(', ')} for this model config`);
  for (const [name, variable] of params.variables) tf.tidy(() => variable.assign(tf.tensor(checkpoint.weights.get(name)!.values, variable.shape)));
}

/** Restores Adam's moments and iteration count into a fresh optimizer for these parameters. */
export async function loadOptimizer(optimizer: tf.AdamOptimizer, params: ParamStore, checkpoint: Checkpoint, source = 'checkpoint'): Promise<void> {
  if (!checkpoint.optimizer) throw new Error(`${source}: has no optimizer state to resume from`);
  const { iterations, moments } = checkpoint.optimizer;
  // Every check before the first tensor is made, so that an error leaks none.
  for (const [name, variable] of params.variables) {
    const saved = moments.get(name);
    if (!saved) throw new Error(`${source}: no optimizer moments for parameter ${name}`);
    for (const [moment, values] of [['first (adam-m)', saved.m], ['second (adam-v)', saved.v]] as const) {
      if (values.length !== variable.size) {
        throw new Error(`${source}: Adam's ${moment} moment of parameter ${name} has ${values.length} values, its shape ${variable.shape.join('x')} needs ${variable.size}`);
      }
    }
  }
  const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(iterations, 'int32') }];
  const ms: { name: string; tensor: tf.Tensor }[] = [];
  const vs: { name: string; tensor: tf.Tensor }[] = [];
  for (const [name, variable] of params.variables) {
    const saved = moments.get(name)!;
    ms.push({ name: `${variable.name}/m`, tensor: tf.tensor(saved.m, variable.shape) });
    vs.push({ name: `${variable.name}/v`, tensor: tf.tensor(saved.v, variable.shape) });
  }
  await optimizer.setWeights([...named, ...ms, ...vs]);
  tf.dispose([...named, ...ms, ...vs].map((n) => n.tensor));
}
