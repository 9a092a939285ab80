/**
 * The fast sampler's incremental evaluators reproduce the model's own logits: on fixed images, walking the
 * pixels the way the sampler does (optionally starting mid-image after a full-forward prime), every
 * subpixel's 256 logits agree with `model.logits` within float tolerance.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { disposeCondition, GatedPixelCNN, PixelModel, SimplePixelCNN } from '../../lib/models';
import { GatedIncremental } from '../../lib/models/gated-incremental';
import { batchCondition, Incremental } from '../../lib/models/incremental';
import { SimpleIncremental } from '../../lib/models/simple-incremental';
import { preparePlan } from '../../lib/sample/plan';
import { setUpBackend } from '../helpers';
import { conditionFor, HEIGHT, smallModel, TEST_KINDS, TestKind, testImages, WIDTH } from './fixtures';

before(async () => { await setUpBackend(); });

const COUNT = 2;

async function maxLogitError(model: PixelModel, colours: number, start: [number, number]): Promise<number> {
  const plan = await preparePlan(model, { count: COUNT, condition: conditionFor(kindOf(model), COUNT) });
  plan.images.set(testImages(COUNT, colours));
  const condition = batchCondition(plan, model.conditionShape);
  const full = tf.tidy(() => model.logits(tf.tensor4d(Float32Array.from(plan.images), [COUNT, HEIGHT, WIDTH, colours]), condition));
  const expected = (await full.data()) as Float32Array;
  full.dispose();
  disposeCondition(condition);
  const engine: Incremental = model.incremental(plan);
  // Each model family offers its own evaluator (the one under test here).
  assert.ok(model instanceof SimplePixelCNN ? engine instanceof SimpleIncremental : model instanceof GatedPixelCNN && engine instanceof GatedIncremental);
  let worst = 0;
  try {
    const [i0, j0] = start;
    if (i0 > 0 || j0 > 0) await engine.prime(i0, j0);
    for (let i = i0; i < HEIGHT; i++) {
      await engine.beginRow(i);
      if (i === i0) for (let j = 0; j < j0; j++) engine.storeInput(i, j);
      for (let j = i === i0 ? j0 : 0; j < WIDTH; j++) {
        engine.beginPixel(i, j);
        for (let c = 0; c < colours; c++) {
          const logits = await engine.step(i, j, c, true, c === colours - 1);
          assert.ok(logits);
          for (let n = 0; n < COUNT; n++) {
            for (let v = 0; v < 256; v++) {
              const got = logits.data[n * logits.stride + logits.offset + v];
              const want = expected[(((n * HEIGHT + i) * WIDTH + j) * colours + c) * 256 + v];
              worst = Math.max(worst, Math.abs(got - want) / (1 + Math.abs(want)));
            }
          }
        }
        engine.storeInput(i, j);
        engine.endPixel();
      }
    }
  } finally {
    engine.dispose();
  }
  return worst;
}

/** The test kind whose condition the model takes (only the condition matters to `conditionFor`). */
function kindOf(model: PixelModel): TestKind {
  if (model.conditionShape.map > 0) return 'conditional-map';
  return model.conditionShape.vector > 0 ? 'conditional' : 'gated';
}

describe('incremental evaluation = full forward pass', () => {
  for (const kind of TEST_KINDS) {
    for (const colours of [1, 3]) {
      test(`${kind}, ${colours} colour(s): logits agree from the first pixel and after a prime at (2, 3)`, async () => {
        const model = smallModel(kind, colours);
        const before = tf.memory().numTensors;
        for (const start of [[0, 0], [2, 3]] as [number, number][]) {
          const error = await maxLogitError(model, colours, start);
          assert.ok(error < 1e-4, `start ${start}: relative logit error ${error}`);
        }
        assert.equal(tf.memory().numTensors, before);
        model.params.dispose();
      });
    }
  }
});
