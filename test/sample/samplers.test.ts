/**
 * The fast sampler against the reference sampler (one full forward pass per subpixel): identical samples for
 * the same seed, for every model kind, 1 and 3 colours, with and without given pixels and conditions; given
 * pixels kept; no tensors leaked. The models' weights are scaled up (fixtures.ts) so that the draws depend
 * on the logits and not just on the uniforms; one test checks that this makes a wrong model detectable.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { PixelModel } from '../../lib/models';
import { sampleFast, sampleReference, SampleOptions, SampleResult, streamSeeds } from '../../lib/sample';
import { setUpBackend } from '../helpers';
import { conditionFor, HEIGHT, smallModel, TEST_KINDS, testImages, WIDTH } from './fixtures';

before(async () => { await setUpBackend(); });

const COUNT = 3;

type GivenCase = 'none' | 'rows' | 'mask';

function givenFor(which: GivenCase, colours: number): SampleOptions['given'] {
  if (which === 'none') return undefined;
  const images = testImages(COUNT, colours);
  if (which === 'rows') return { images, rows: 2 };
  // A per-sample, per-subpixel mask: scattered subpixels plus the first pixels of sample 1 (so that no
  // prefix is given for everybody, and some pixels are given for some samples only).
  const size = HEIGHT * WIDTH * colours;
  const mask = new Uint8Array(COUNT * size);
  for (let k = 0; k < mask.length; k++) mask[k] = (k * 7) % 5 === 0 || (k >= size && k < size + 4 * colours) ? 1 : 0;
  return { images, mask };
}

function givenFlags(given: SampleOptions['given'], colours: number): boolean[] {
  const size = HEIGHT * WIDTH * colours;
  const flags: boolean[] = [];
  for (let k = 0; k < COUNT * size; k++) {
    if (!given) flags.push(false);
    else if (given.rows !== undefined) flags.push(k % size < given.rows * WIDTH * colours);
    else flags.push(Boolean(given.mask![k]));
  }
  return flags;
}

async function both(model: PixelModel, options: SampleOptions): Promise<[SampleResult, SampleResult]> {
  const before = tf.memory().numTensors;
  const reference = await sampleReference(model, options);
  assert.equal(tf.memory().numTensors, before, 'the reference sampler leaks tensors');
  const fast = await sampleFast(model, options);
  assert.equal(tf.memory().numTensors, before, 'the fast sampler leaks tensors');
  return [reference, fast];
}

function firstDifference(a: Uint8Array, b: Uint8Array, colours: number): string {
  const size = HEIGHT * WIDTH * colours;
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) {
      const s = k % size;
      return `sample ${Math.floor(k / size)}, pixel (${Math.floor(s / colours / WIDTH)}, ${Math.floor(s / colours) % WIDTH}), colour ${s % colours}: reference ${a[k]}, fast ${b[k]}`;
    }
  }
  return 'none';
}

for (const kind of TEST_KINDS) {
  describe(`fast sampler = reference sampler: ${kind}`, () => {
    for (const colours of [1, 3]) {
      test(`${colours} colour(s): identical samples without given pixels, with given rows, with a given mask`, async () => {
        const model = smallModel(kind, colours);
        for (const which of ['none', 'rows', 'mask'] as GivenCase[]) {
          const given = givenFor(which, colours);
          const options: SampleOptions = { count: COUNT, seed: 11, condition: conditionFor(kind, COUNT), given };
          const [reference, fast] = await both(model, options);
          assert.equal(fast.images.length, COUNT * HEIGHT * WIDTH * colours);
          assert.ok(fast.images instanceof Uint8Array, 'samples are bytes, so integers 0..255');
          assert.deepEqual(fast.images, reference.images, `given ${which}: first difference at ${firstDifference(reference.images, fast.images, colours)}`);
          const flags = givenFlags(given, colours);
          let drawn = 0;
          for (let k = 0; k < flags.length; k++) {
            if (flags[k]) assert.equal(fast.images[k], given!.images[k], `given subpixel ${k} changed`);
            else drawn++;
          }
          assert.ok(new Set(fast.images).size > Math.min(20, drawn / 4), `given ${which}: suspiciously few distinct values`);
        }
        model.params.dispose();
      });
    }
  });
}

describe('fast sampler: other settings', () => {
  test('kernel size 5 and three layers (wider windows than the image edge), both model families', async () => {
    for (const kind of ['simple', 'gated', 'gated-blindspot'] as const) {
      const model = smallModel(kind, 1, { kernelSize: 5, layers: 3 });
      const [reference, fast] = await both(model, { count: 2, seed: 4, given: { images: testImages(2, 1), rows: 3 } });
      assert.deepEqual(fast.images, reference.images, `${kind}: ${firstDifference(reference.images, fast.images, 1)}`);
      model.params.dispose();
    }
  });

  test('the diagnostics\' leaking model (first layer sees the current subpixel): still identical', async () => {
    for (const kind of ['simple', 'gated'] as const) {
      for (const colours of [1, 3]) {
        const model = smallModel(kind, colours, { leak: true });
        const [reference, fast] = await both(model, { count: 2, seed: 6, given: { images: testImages(2, colours), mask: Uint8Array.from({ length: HEIGHT * WIDTH }, (_, k) => (k % 4 === 1 ? 1 : 0)) } });
        assert.deepEqual(fast.images, reference.images, `${kind}, ${colours} colour(s): ${firstDifference(reference.images, fast.images, colours)}`);
        model.params.dispose();
      }
    }
  });

  test('temperature 0.5 and 0 (argmax): still identical', async () => {
    const model = smallModel('gated', 3);
    for (const temperature of [0.5, 0]) {
      const [reference, fast] = await both(model, { count: 2, seed: 2, temperature });
      assert.deepEqual(fast.images, reference.images, `temperature ${temperature}`);
    }
    model.params.dispose();
  });

  test('the comparison can fail: a slightly different model or another seed gives different samples', async () => {
    const model = smallModel('gated', 1);
    const options: SampleOptions = { count: COUNT, seed: 11 };
    const original = await sampleFast(model, options);
    const otherSeed = await sampleFast(model, { ...options, seed: 12 });
    const bias = model.params.get('layer1.output.bias');
    tf.tidy(() => bias.assign(tf.add(bias, 0.05)));
    const perturbed = await sampleFast(model, options);
    const differing = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, k) => n + (v !== b[k] ? 1 : 0), 0);
    assert.ok(differing(original.images, perturbed.images) > original.images.length / 4, 'a perturbed model should sample differently');
    assert.ok(differing(original.images, otherSeed.images) > original.images.length / 2);
    model.params.dispose();
  });

  test('a model that puts all mass on one value samples that value (and keeps given pixels)', async () => {
    for (const kind of ['simple', 'gated'] as const) {
      for (const colours of [1, 3]) {
        const model = smallModel(kind, colours);
        const bias = model.params.get('output.bias');
        const hot = new Float32Array(colours * 256);
        for (let c = 0; c < colours; c++) hot[c * 256 + 137] = 1e4;
        bias.assign(tf.tensor1d(hot));
        const given = { images: testImages(2, colours), rows: 1 };
        for (const sampler of [sampleFast, sampleReference]) {
          const result = await sampler(model, { count: 2, seed: 3, given });
          const rowSize = WIDTH * colours;
          const size = HEIGHT * rowSize;
          for (let k = 0; k < result.images.length; k++) {
            assert.equal(result.images[k], k % size < rowSize ? given.images[k] : 137, `${kind}, ${colours} colour(s), subpixel ${k}`);
          }
        }
        model.params.dispose();
      }
    }
  });

  test('a batch split in two with sampleSeeds gives the same samples as one batch', async () => {
    const model = smallModel('conditional', 1);
    const condition = conditionFor('conditional', 4)!;
    const whole = await sampleFast(model, { count: 4, seed: 8, condition });
    const seeds = streamSeeds(8, 4);
    const first = await sampleFast(model, { count: 2, sampleSeeds: seeds.slice(0, 2), condition: { labels: condition.labels!.slice(0, 2) } });
    const second = await sampleFast(model, { count: 2, sampleSeeds: seeds.slice(2), condition: { labels: condition.labels!.slice(2) } });
    assert.deepEqual(whole.images, new Uint8Array([...first.images, ...second.images]));
    model.params.dispose();
  });

  test('progress reports count drawn subpixels up to the total', async () => {
    const model = smallModel('gated', 3);
    for (const sampler of [sampleFast, sampleReference]) {
      const reports: { done: number; total: number; fraction: number }[] = [];
      await sampler(model, { count: 2, given: { images: testImages(2, 3), rows: 2 }, onProgress: (p) => reports.push(p) });
      const total = 2 * (HEIGHT - 2) * WIDTH * 3;
      assert.ok(reports.length > 0);
      assert.ok(reports.every((r) => r.total === total));
      for (let k = 1; k < reports.length; k++) assert.ok(reports[k].done > reports[k - 1].done);
      assert.equal(reports[reports.length - 1].done, total);
      assert.equal(reports[reports.length - 1].fraction, 1);
    }
    model.params.dispose();
  });

  test('an abort signal stops sampling without leaking tensors', async () => {
    const model = smallModel('gated', 1);
    const before = tf.memory().numTensors;
    for (const sampler of [sampleFast, sampleReference]) {
      const controller = new AbortController();
      let calls = 0;
      await assert.rejects(
        sampler(model, { count: 2, signal: controller.signal, onProgress: () => { if (++calls === 5) controller.abort(new Error('stop here')); } }),
        /stop here/,
      );
      assert.equal(calls, 5);
      assert.equal(tf.memory().numTensors, before);
    }
    model.params.dispose();
  });

  test('option errors name the problem', async () => {
    const conditional = smallModel('conditional', 1);
    await assert.rejects(sampleFast(conditional, { count: 2 }), /condition.labels or condition.vector/);
    await assert.rejects(sampleFast(conditional, { count: 2, condition: { labels: [0, 3] } }), /class index 0..2/);
    const gated = smallModel('gated', 1);
    await assert.rejects(sampleFast(gated, { given: { images: testImages(1, 1), rows: 99 } }), /given.rows/);
    await assert.rejects(sampleFast(gated, { count: 2, given: { images: testImages(1, 1), rows: 1 } }), /given.images is for 1 samples but count is 2/);
    await assert.rejects(sampleFast(gated, { temperature: -1 }), /temperature/);
    conditional.params.dispose();
    gated.params.dispose();
  });
});
