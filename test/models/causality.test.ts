/**
 * Autoregressive order, checked with gradients: the logits of subpixel (i, j, c) must have exactly zero
 * gradient with respect to that subpixel and every later one, and (where the architecture promises it)
 * non-zero gradient at every earlier subpixel of the receptive field. The expected receptive fields are
 * derived here independently of the model code (Minkowski sums of kernel footprints, or closed forms).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel, modelConfig, ModelKind, PixelModel } from '../../lib/models';
import { setUpBackend } from '../helpers';

const SIZE = 9;
const INPUTS = 4;

before(async () => { await setUpBackend(); });

/**
 * max over a few random inputs of |d logits(i,j,c,:) . r / d x|, as a [H, W, C] array. Several inputs,
 * because a ReLU that happens to be off for one input hides a connection that exists.
 */
async function gradientMap(model: PixelModel, i: number, j: number, c: number): Promise<Float32Array> {
  const { colours } = model.config;
  const conditionSize = model.conditionShape.vector;
  const x = tf.randomUniform([INPUTS, SIZE, SIZE, colours], 0, 255, 'float32', 7);
  const projection = tf.randomNormal([256], 0, 1, 'float32', 11);
  const condition = conditionSize > 0 ? { vector: tf.oneHot(tf.tensor1d(Array(INPUTS).fill(1), 'int32'), conditionSize).toFloat() as tf.Tensor2D } : undefined;
  const grad = tf.grad((input: tf.Tensor) => {
    const logits = model.logits(input as tf.Tensor4D, condition);
    const one = tf.slice(logits, [0, i, j, c, 0], [INPUTS, 1, 1, 1, 256]).reshape([INPUTS, 256]);
    return tf.sum(tf.mul(one, projection));
  })(x);
  const magnitude = tf.max(tf.abs(grad), 0);
  const data = (await magnitude.data()) as Float32Array;
  tf.dispose([x, projection, grad, magnitude, condition?.vector]);
  return data;
}

type Offsets = Set<string>;
const key = (dr: number, dc: number) => `${dr},${dc}`;

/** Receptive field of stacked masked k x k convolutions (the simple model): offsets relative to the output. */
function maskedStackField(layers: number, k: number): Offsets {
  const p = Math.floor(k / 2);
  const footprint: [number, number][] = [];
  for (let dr = -p; dr <= 0; dr++) for (let dc = -p; dc <= p; dc++) if (dr < 0 || dc <= 0) footprint.push([dr, dc]);
  let field = new Set([key(0, 0)]);
  for (let l = 0; l < layers; l++) {
    const next: Offsets = new Set();
    for (const f of field) {
      const [r, c] = f.split(',').map(Number);
      for (const [dr, dc] of footprint) next.add(key(r + dr, c + dc));
    }
    field = next;
  }
  field.delete(key(0, 0)); // the current pixel is handled by the colour rule
  return field;
}

/** The paper's gated PixelCNN: every pixel within L*p columns in the L*p+1 rows above, and L*p to the left. */
function gatedField(layers: number, k: number): Offsets {
  const reach = layers * Math.floor(k / 2);
  const field: Offsets = new Set();
  for (let dr = -reach - 1; dr <= -1; dr++) for (let dc = -reach; dc <= reach; dc++) field.add(key(dr, dc));
  for (let dc = -reach; dc <= -1; dc++) field.add(key(0, dc));
  return field;
}

interface Check { zero: number; missing: string[]; leaks: string[]; blind: number }

/** Compares a gradient map at output (i, j, c) with the expected off-centre field and the colour rule. */
function compare(grad: Float32Array, colours: number, i: number, j: number, c: number, field: Offsets): Check {
  const result: Check = { zero: 0, missing: [], leaks: [], blind: 0 };
  for (let r = 0; r < SIZE; r++) for (let q = 0; q < SIZE; q++) for (let ch = 0; ch < colours; ch++) {
    const g = grad[(r * SIZE + q) * colours + ch];
    const earlier = r < i || (r === i && q < j) || (r === i && q === j && ch < c);
    const expected = r === i && q === j ? ch < c : field.has(key(r - i, q - j));
    if (!earlier && g !== 0) result.leaks.push(`(${r},${q},${ch})=${g}`);
    if (expected && g === 0) result.missing.push(`(${r},${q},${ch})`);
    if (earlier && g === 0) result.blind++;
    if (!expected && earlier && g !== 0) result.leaks.push(`outside field (${r},${q},${ch})=${g}`);
  }
  return result;
}

const outputs: [number, number][] = [[4, 4], [0, 0], [0, 5], [5, 0], [8, 8], [2, 7]];

for (const kind of ['simple', 'gated', 'conditional'] as ModelKind[]) {
  describe(`causality: ${kind}`, () => {
    for (const colours of [1, 3]) for (const k of [3, 5]) for (const layers of [1, 2, 3]) {
      test(`${colours} colour(s), k=${k}, ${layers} layer(s): gradients match the expected receptive field exactly`, async () => {
        const model = buildModel(modelConfig({
          kind, colours, kernelSize: k, layers, channels: 4 * colours, height: SIZE, width: SIZE, seed: 3,
          ...(kind === 'conditional' ? { conditionSize: 3 } : {}),
        }));
        const field = kind === 'simple' ? maskedStackField(layers, k) : gatedField(layers, k);
        for (const [i, j] of outputs) for (let c = 0; c < colours; c++) {
          const check = compare(await gradientMap(model, i, j, c), colours, i, j, c, field);
          assert.deepEqual(check.leaks, [], `output (${i},${j},${c}) sees the present or future`);
          assert.deepEqual(check.missing, [], `output (${i},${j},${c}) misses earlier subpixels inside its receptive field`);
        }
        model.params.dispose();
      });
    }
  });
}

describe('causality: gated-blindspot (the original project\'s layer)', () => {
  for (const colours of [1, 3]) for (const k of [3, 5]) {
    test(`${colours} colour(s), k=${k}: causal, but with a blind spot the paper's layer does not have`, async () => {
      const layers = 3;
      const model = buildModel(modelConfig({ kind: 'gated-blindspot', colours, kernelSize: k, layers, channels: 4 * colours, height: SIZE, width: SIZE, seed: 3 }));
      const paper = buildModel(modelConfig({ kind: 'gated', colours, kernelSize: k, layers, channels: 4 * colours, height: SIZE, width: SIZE, seed: 3 }));
      const [i, j] = [8, 4];
      const field = gatedField(layers, k);
      const blind = compare(await gradientMap(model, i, j, 0), colours, i, j, 0, field);
      const full = compare(await gradientMap(paper, i, j, 0), colours, i, j, 0, field);
      assert.deepEqual(blind.leaks, []);
      assert.ok(blind.missing.length > 0, 'the original variant should miss pixels above-right');
      // The pixel just above-right, beyond one kernel's reach, is the classic blind spot.
      assert.ok(blind.missing.includes(`(${i - 1},${j + Math.floor(k / 2) + 1},0)`), `missing: ${blind.missing.join(' ')}`);
      assert.deepEqual(full.missing, []);
      model.params.dispose();
      paper.params.dispose();
    });
  }
});

describe('causality: the deliberately leaking model', () => {
  test('sees the subpixel it predicts', async () => {
    const model = buildModel(modelConfig({ kind: 'simple', colours: 1, kernelSize: 3, layers: 2, channels: 4, height: SIZE, width: SIZE, leak: true, seed: 3 }));
    const check = compare(await gradientMap(model, 4, 4, 0), 1, 4, 4, 0, maskedStackField(2, 3));
    assert.ok(check.leaks.some((l) => l.startsWith('(4,4,0)')), `expected a leak at the centre, got ${check.leaks.join(' ')}`);
    model.params.dispose();
  });
});
