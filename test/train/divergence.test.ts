/**
 * Divergence without NaN: the watcher on exact loss sequences, and the trainer on real (downsampled) MNIST digits
 * stopping a run whose learning rate throws the loss to millions of bits/dim; the NaN message's step numbers.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { DivergenceError, DivergenceVerdict, DivergenceWarning, DivergenceWatcher } from '../../lib/train/divergence';
import { mulberry32 } from '../../lib/data/random';
import { disposeRun, startRun } from '../../lib/train/run';
import { BatchInfo, NonFiniteLossError } from '../../lib/train/trainer';
import { setUpBackend } from '../helpers';
import { tinyMnist } from './tiny';

before(async () => { await setUpBackend(); });

/** Feeds `bits(step)` for steps 1..steps; returns each step's verdict. */
function watch(steps: number, bits: (step: number) => number, watcher = new DivergenceWatcher()): DivergenceVerdict[] {
  const verdicts: DivergenceVerdict[] = [];
  for (let step = 1; step <= steps; step++) verdicts.push(watcher.observe(step, bits(step)));
  return verdicts;
}

/** Steps whose verdict is not 'ok', as "step:status[:new]:symptom:since". */
function events(verdicts: DivergenceVerdict[]): string[] {
  return verdicts.flatMap((v, i) => v.status === 'ok' ? [] : [`${i + 1}:${v.status}${v.status === 'warning' && v.isNew ? ':new' : ''}:${v.warning.symptom}:${v.warning.since}`]);
}

/**
 * A healthy curve: from 8 down towards 1 bit/dim, with batch-to-batch noise uniform in +-0.3 (standard deviation
 * 0.17; real MNIST batches of 16 at 1.3 bits/dim scatter with 0.085).
 */
const noise = Array.from({ length: 3001 }, mulberry32(7));
const healthy = (step: number) => 1 + 7 * 0.97 ** step + 0.6 * (noise[step] - 0.5);

describe('divergence watcher', () => {
  test('a healthy descending curve, noisy, never warns', () => {
    assert.deepEqual(events(watch(2000, healthy)), []);
  });

  test('a single spike, even of 3e12 bits/dim, does not warn; nor do 9 wild steps in 20', () => {
    assert.deepEqual(events(watch(300, (s) => s === 150 ? 3e12 : healthy(s))), []);
    assert.deepEqual(events(watch(300, (s) => s >= 150 && s < 159 ? 1e6 : healthy(s))), []);
    assert.deepEqual(events(watch(300, (s) => s % 20 < 9 ? 1e6 : healthy(s))), []);
  });

  test('a loss that stays worse than uniform warns when it fills half the window, then is fatal 100 steps later', () => {
    // 8 bits/dim for 30 steps, then 50: at step 41 the last 20 steps hold 11 at 50 (step 40: 10, not more than half).
    const verdicts = watch(141, (s) => s <= 30 ? 8 : 50);
    const all = events(verdicts);
    assert.equal(all[0], '41:warning:new:worse-than-uniform:41');
    assert.deepEqual(all.slice(1, -1), Array.from({ length: 99 }, (_, i) => `${42 + i}:warning:worse-than-uniform:41`));
    assert.equal(all.at(-1), '141:fatal:worse-than-uniform:41');
    const first = (verdicts[40] as { warning: DivergenceWarning }).warning;
    assert.deepEqual({ ...first, message: '' }, { symptom: 'worse-than-uniform', step: 41, since: 41, bitsPerDim: 50, window: 20, threshold: 9, fatalAt: 141, message: '' });
    assert.equal(first.message, 'step 41: training is diverging: the median of the last 20 steps is 50.000 bits/dim, worse than a uniform ' +
      'guess (8 bits/dim) since step 41; lower the learning rate (training stops at step 141 if it stays above 9)');
    const fatal = (verdicts[140] as { warning: DivergenceWarning }).warning;
    assert.equal(new DivergenceError(fatal, 1e6).message, 'training diverged: at step 141 the median loss of the last 20 steps was 50.000 bits/dim, ' +
      'worse than a uniform guess (above 9) at every step since step 41; the weights are no longer usable: lower the learning rate (now 1000000)');
  });

  test('a loss that recovers before the fatal step only warns, and a later divergence starts a new warning', () => {
    // 50 bits/dim over steps 21..110, healthy before and after, diverging again from step 200.
    const verdicts = watch(311, (s) => (s > 20 && s <= 110) || s > 200 ? 50 : 2);
    const all = events(verdicts);
    assert.equal(all[0], '31:warning:new:worse-than-uniform:31');
    // The last 20 steps at step 119 (100..119) hold 11 at 50, at step 120 only 10: ok again, 11 steps before the fatal one.
    assert.equal(all.filter((e) => e.endsWith(':31')).at(-1), '119:warning:worse-than-uniform:31');
    assert.ok(!all.some((e) => e.startsWith('120:')), 'ok again at step 120');
    assert.equal(all.find((e) => !e.endsWith(':31')), '211:warning:new:worse-than-uniform:211');
    assert.equal(all.at(-1), '311:fatal:worse-than-uniform:211');
  });

  test('a sustained rise warns at the exact step, turns into worse-than-uniform, and a rise alone is never fatal', () => {
    // Flat at 1 bit/dim, then up by 1/16 per step from step 61: the lower median of 20 rising steps is the value 10
    // steps back, above 1 + 0.5 once that step's rise exceeds 8/16, i.e. from step 79.
    const rise = (s: number) => s <= 60 ? 1 : 1 + (s - 60) / 16;
    let all = events(watch(250, rise));
    assert.equal(all[0], '79:warning:new:rising:79');
    assert.deepEqual(all.slice(1, 199 - 79), Array.from({ length: 199 - 80 }, (_, i) => `${80 + i}:warning:rising:79`));
    // The median passes 9 when the value 10 steps back is 1 + 129/16 > 9: at step 199.
    assert.equal(all[199 - 79], '199:warning:new:worse-than-uniform:199');
    const verdicts = watch(3000, (s) => Math.min(rise(s), 5));
    all = events(verdicts);
    assert.equal(all.length, 3000 - 78);
    assert.ok(all.every((e) => e.endsWith(':rising:79')), all.find((e) => !e.endsWith(':rising:79')));
    const last = (verdicts.at(-1) as { warning: DivergenceWarning }).warning;
    assert.equal(last.message, 'step 3000: the training loss is rising: the median of the last 20 steps is 5.000 bits/dim, up from 1.000 at ' +
      'step 20 (above 1.500 since step 79); if it keeps rising, lower the learning rate');
  });

  test('a rise is measured relative to the best loss: 25% above it, at least 0.5 bits/dim', () => {
    // Best 4: the limit is 5 (25%); best 0.25: the limit is 0.75 (0.5 bits/dim).
    assert.deepEqual(events(watch(100, (s) => s <= 50 ? 4 : 5)), []);
    assert.equal(events(watch(100, (s) => s <= 50 ? 4 : 5.01))[0], '61:warning:new:rising:61');
    assert.deepEqual(events(watch(100, (s) => s <= 50 ? 0.25 : 0.75)), []);
    assert.equal(events(watch(100, (s) => s <= 50 ? 0.25 : 0.76))[0], '61:warning:new:rising:61');
  });

  test('invalid options and inputs name the field', () => {
    assert.throws(() => new DivergenceWatcher({ window: 0 }), /divergence options: window must be a positive integer, got 0/);
    assert.throws(() => new DivergenceWatcher({ uniformMargin: -1 }), /divergence options: uniformMargin must be a finite number >= 0, got -1/);
    const watcher = new DivergenceWatcher();
    watcher.observe(5, 8);
    assert.throws(() => watcher.observe(5, 8), /steps must increase, got step 5 after step 5/);
    assert.throws(() => watcher.observe(6, NaN), /step 6 has a non-finite loss \(NaN\)/);
  });
});

describe('the trainer and divergence', () => {
  const small = { kind: 'simple' as const, layers: 2, kernelSize: 3, channels: 8 };

  test('a huge learning rate (1e6) stops training with a DivergenceError 100 steps after the warning, every loss finite', async () => {
    const data = await tinyMnist(64, 8);
    // 8 steps per epoch, 20 epochs: without the watch it would run all 160 steps (to ~1e7 bits/dim) and return.
    const run = startRun(data, small, { batchSize: 8, epochs: 20, learningRate: 1e6, evaluateEvery: 100 });
    const warnings: DivergenceWarning[] = [];
    const flagged: number[] = [];
    const error = await run.trainer.run({
      onWarning: (w) => { warnings.push(w); },
      onBatch: (info: BatchInfo) => { if (info.divergence) flagged.push(info.step); },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof DivergenceError, `expected a DivergenceError, got ${String(error)}`);
    const steps = run.trainer.state.history.steps;
    assert.ok(steps.every((s) => Number.isFinite(s.bitsPerDim)), 'divergence without NaN');
    assert.ok(steps[0].bitsPerDim < 8.3 && steps[1].bitsPerDim > 1e6, `${steps[0].bitsPerDim}, then ${steps[1].bitsPerDim}`);
    // Step 1 is the untrained model's ~8; the window's lower median is wild from step 20, its first full window.
    assert.deepEqual(warnings.map((w) => [w.symptom, w.step, w.since]), [['worse-than-uniform', 20, 20]]);
    assert.deepEqual(flagged, Array.from({ length: 100 }, (_, i) => 20 + i), 'BatchInfo.divergence on every warned step');
    assert.equal(error.warning.step, 120);
    assert.equal(run.trainer.state.step, 120, 'stopped at the fatal step, 40 steps before the end');
    assert.match(error.message, /^training diverged: at step 120 the median loss of the last 20 steps was \d\.\d\de\+\d bits\/dim, worse than a uniform guess \(above 9\) at every step since step 20; the weights are no longer usable: lower the learning rate \(now 1000000\)$/);
    disposeRun(run);
  });

  test('a healthy run (lr 0.001, 100 steps) gets no warning', async () => {
    const data = await tinyMnist(400, 8);
    const run = startRun(data, { kind: 'gated', layers: 2, kernelSize: 3, channels: 8 }, { batchSize: 8, epochs: 2, learningRate: 0.001, evaluateEvery: 100 });
    const warnings: DivergenceWarning[] = [];
    await run.trainer.run({ onWarning: (w) => { warnings.push(w); } });
    const steps = run.trainer.state.history.steps;
    assert.equal(steps.length, 100);
    assert.deepEqual(warnings, []);
    assert.ok(steps.at(-1)!.bitsPerDim < 4, `learned: ${steps.at(-1)!.bitsPerDim} bits/dim`);
    disposeRun(run);
  });

  test('a resumed run continues the watch from its history and announces a warning in force at its first step', async () => {
    const data = await tinyMnist(32, 8);
    const run = startRun(data, small, { batchSize: 8, epochs: 4, learningRate: 0.001, evaluateEvery: 100 });
    // A history whose last 30 steps were at 50 bits/dim (as a diverging run's checkpoint would hold).
    run.trainer.state.history.steps = Array.from({ length: 30 }, (_, i) => ({ step: i + 1, bitsPerDim: 50 }));
    run.trainer.state.step = 30;
    const warnings: DivergenceWarning[] = [];
    const flagged: number[] = [];
    await run.trainer.run({
      onWarning: (w) => { warnings.push(w); },
      onBatch: (info) => { if (info.divergence) flagged.push(info.step); },
    });
    // The replayed warning began at step 20 (the first full window); at step 40 the last 20 steps hold only 10 at 50.
    assert.deepEqual(warnings.map((w) => [w.step, w.since]), [[31, 20]]);
    assert.deepEqual(flagged, [31, 32, 33, 34, 35, 36, 37, 38, 39]);
    disposeRun(run);
  });
});

describe('the NaN message', () => {
  test('names the failing step and the last finite one (numbered as the history) and no checkpoint', async () => {
    const data = await tinyMnist(24, 8);
    const run = startRun(data, { kind: 'gated', layers: 2, kernelSize: 3, channels: 8 }, { batchSize: 8, epochs: 2, learningRate: 0.001, evaluateEvery: 100 });
    const error = await run.trainer.run({
      // After epoch 0's three steps, the weights go bad: step 4 (epoch 1, batch 0) is the first NaN.
      onEpoch: () => { run.model.params.get('output.bias').assign(tf.fill([256], NaN)); },
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof NonFiniteLossError, String(error));
    const last = run.trainer.state.history.steps.at(-1)!;
    assert.equal(last.step, 3);
    assert.equal(error.message, `training loss became NaN at step 4 (epoch 1, batch 0); the last finite step was step 3 (${last.bitsPerDim.toFixed(4)} bits/dim); ` +
      'the weights are no longer usable: lower the learning rate (now 0.001)');
    disposeRun(run);
  });

  test('at the first step it says no step had completed', async () => {
    const data = await tinyMnist(8, 8);
    const run = startRun(data, { kind: 'gated', layers: 2, kernelSize: 3, channels: 8 }, { batchSize: 8, epochs: 1, learningRate: 0.001 });
    run.model.params.get('output.bias').assign(tf.fill([256], NaN));
    await assert.rejects(run.trainer.run(), (e: Error) => e instanceof NonFiniteLossError &&
      e.message === 'training loss became NaN at step 1 (epoch 0, batch 0); no step had completed; the weights are no longer usable: lower the learning rate (now 0.001)');
    disposeRun(run);
  });
});
