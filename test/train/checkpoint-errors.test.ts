/**
 * Damaged checkpoints give errors naming the file, the tensor and the expected and found sizes, before tfjs
 * sees a tensor (its own error, "the tensor should have 72 values but has 70", names neither). The
 * checkpoints are real ones of a small model, written to real files and edited the way a damaged or
 * hand-edited file would be.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig } from '../../lib/models';
import { captureCheckpoint, Checkpoint, decodeCheckpoint, encodeCheckpoint, loadOptimizer, loadWeights } from '../../lib/train/checkpoint';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

const config = modelConfig({ kind: 'simple', height: 6, width: 6, colours: 1, layers: 2, kernelSize: 3, channels: 4 });

/** A checkpoint of a fresh small model with Adam's moments (zeros here: only their sizes matter). */
async function checkpoint(): Promise<Checkpoint> {
  const model = buildModel(config);
  const saved = await captureCheckpoint(config, model.params);
  model.params.dispose();
  const moments = new Map([...saved.weights].map(([name, { values }]) => [name, { m: new Float32Array(values.length), v: new Float32Array(values.length) }]));
  return { ...saved, optimizer: { iterations: 3, moments } };
}

/** The checkpoint's bytes with the JSON header edited by `edit` (tensor data unchanged, realigned). */
function withHeader(bytes: Uint8Array, edit: (header: { tensors: { name: string; shape: number[]; offset: number; length: number }[] }) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  const data = bytes.subarray(Math.ceil((12 + length) / 4) * 4);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const out = new Uint8Array(start + data.length);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(data, start);
  return out;
}

function tempFile(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checkpoint-errors-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Reads a checkpoint file and loads it into a fresh model and optimizer, as resuming does. */
async function load(file: string): Promise<void> {
  const bytes = fs.readFileSync(file);
  const decoded = decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  const model = buildModel(decoded.modelConfig);
  const optimizer = tf.train.adam(0.001);
  try {
    loadWeights(model.params, decoded, file);
    await loadOptimizer(optimizer, model.params, decoded, file);
  } finally {
    model.params.dispose();
    optimizer.dispose();
  }
}

/** Asserts that `promise` rejects with a message matching `pattern` (matched against the message alone, not "Error: ..."). */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('an intact checkpoint file loads (the edits below are what breaks it)', async () => {
  await load(tempFile('intact.ckpt', encodeCheckpoint(await checkpoint())));
  await load(tempFile('unchanged.ckpt', withHeader(encodeCheckpoint(await checkpoint()), () => {})));
});

test('a tensor whose stored length does not match its shape names the file, the tensor and both sizes', async () => {
  const bytes = encodeCheckpoint(await checkpoint());
  let target = '';
  // The first tensor: the data still ends where the last tensor's does, so only the entry itself is wrong.
  const file = tempFile('short.ckpt', withHeader(bytes, (header) => {
    const entry = header.tensors[0];
    target = entry.name;
    assert.ok(entry.length > 2 && header.tensors.length > 1);
    entry.length -= 2;
  }));
  const size = (await checkpoint()).weights.get(target.slice('weight:'.length))!.values.length;
  await assert.rejects(load(file), (e: Error) => {
    assert.equal(e.message, `${file}: tensor ${target} has shape ${config.kernelSize}x${config.kernelSize}x1x${config.channels} (${size} values) ` +
      `but ${size - 2} values stored; expected ${size} (corrupt or edited file)`);
    return true;
  });
  // A shape edited instead of the length: the same check.
  const reshaped = tempFile('reshaped.ckpt', withHeader(bytes, (header) => { header.tensors[0].shape = [size + 1]; }));
  await rejectsWith(load(reshaped), new RegExp(`^${escape(reshaped)}: tensor ${target} has shape ${size + 1} \\(${size + 1} values\\) but ${size} values stored; expected ${size + 1}`));
  // A moment of Adam's, too.
  const moment = tempFile('moment.ckpt', withHeader(bytes, (header) => { header.tensors.find((t) => t.name.startsWith('adam-v:'))!.length -= 1; }));
  await rejectsWith(load(moment), new RegExp(`^${escape(moment)}: tensor adam-v:\\S+ has shape \\S+ \\(\\d+ values\\) but \\d+ values stored`));
});

test('a malformed tensor entry names the file and what was expected', async () => {
  const bytes = encodeCheckpoint(await checkpoint());
  const cases: [(header: { tensors: Record<string, unknown>[] }) => void, RegExp][] = [
    [(h) => { h.tensors[1].name = 'bias'; }, /: tensor 1 has name "bias"; expected "<weight\|adam-m\|adam-v>:<parameter>"$/],
    [(h) => { h.tensors[1].shape = [3, -1]; }, /: tensor weight:\S+ has shape \[3,-1\]; expected a list of sizes$/],
    [(h) => { h.tensors[1].offset = 1.5; }, /: tensor weight:\S+ has offset 1\.5 and length \d+; expected counts of float32 values$/],
    [(h) => { (h as Record<string, unknown>).tensors = 'none'; }, /: corrupt header: "tensors" is "none", expected a list of tensor entries$/],
  ];
  for (const [edit, message] of cases) {
    const file = tempFile('malformed.ckpt', withHeader(bytes, edit as never));
    await assert.rejects(load(file), (e: Error) => {
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, message);
      return true;
    });
  }
});

test('a checkpoint object with values of the wrong length (not from a file) is an error naming the source', async () => {
  const model = buildModel(config);
  const optimizer = tf.train.adam(0.001);
  try {
    const good = await checkpoint();
    const [name, weight] = [...good.weights][1];
    const weights = new Map(good.weights).set(name, { shape: weight.shape, values: weight.values.subarray(1) });
    const before = await model.params.list()[0].data();
    assert.throws(() => loadWeights(model.params, { ...good, weights }, 'report.html'), (e: Error) => {
      assert.equal(e.message, `report.html: parameter ${name} has ${weight.values.length - 1} values, its shape ${weight.shape.join('x')} needs ${weight.values.length}`);
      return true;
    });
    // Nothing was loaded: the first parameter, which was fine, still holds its own values.
    assert.deepEqual(await model.params.list()[0].data(), before);
    const moments = new Map(good.optimizer!.moments).set(name, { m: new Float32Array(weight.values.length), v: new Float32Array(0) });
    await assert.rejects(loadOptimizer(optimizer, model.params, { ...good, optimizer: { iterations: 3, moments } }, 'report.html'), (e: Error) => {
      assert.equal(e.message, `report.html: Adam's second (adam-v) moment of parameter ${name} has 0 values, its shape ${weight.shape.join('x')} needs ${weight.values.length}`);
      return true;
    });
  } finally {
    model.params.dispose();
    optimizer.dispose();
  }
});

test('a checkpoint of the flat-config format loads: other kinds\' fields dropped, a PixelVAE\'s KL options moved from the train config', async () => {
  const flat = { conditionSize: 0, conditionMapChannels: 0, latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0, leak: false };
  const file = tempFile('flat.ckpt', withHeader(encodeCheckpoint(await checkpoint()), (header) => {
    const h = header as unknown as { modelConfig: Record<string, unknown> };
    h.modelConfig = { ...flat, ...h.modelConfig };
  }));
  await load(file);
  const bytes = new Uint8Array(fs.readFileSync(file));
  assert.deepEqual(decodeCheckpoint(bytes, file).modelConfig, config);

  const vae = modelConfig({ kind: 'vae-straight', height: 6, width: 6, layers: 1, kernelSize: 3, channels: 2, latentSize: 2, vaeChannels: 8 });
  const model = buildModel(vae);
  const saved = encodeCheckpoint(await captureCheckpoint(vae, model.params, { trainConfig: { epochs: 2, batchSize: 4, learningRate: 0.001, evaluateEvery: 1, seed: 0 } }));
  model.params.dispose();
  const old = decodeCheckpoint(withHeader(saved, (header) => {
    const h = header as unknown as { modelConfig: Record<string, unknown>; trainConfig: Record<string, unknown> };
    const { klWarmupSteps: _k, freeBits: _f, posteriorLogVarInit: _p, ...before } = h.modelConfig;
    h.modelConfig = { ...flat, ...before, conditionSize: 2 };
    h.trainConfig = { ...h.trainConfig, klWarmupSteps: 300, freeBits: 0.5 };
  }), 'vae.ckpt');
  assert.deepEqual(old.modelConfig, { ...vae, klWarmupSteps: 300, freeBits: 0.5 });
  assert.deepEqual(old.trainConfig, { epochs: 2, batchSize: 4, learningRate: 0.001, evaluateEvery: 1, seed: 0 });
});
