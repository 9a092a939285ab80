/**
 * Stopping a training run by its AbortSignal: at a step boundary, with a state that resumes exactly; a SIGINT
 * listener gets to run while training (the loop gives the event loop turns); evaluation stops between batches.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint-file';
import { checkpointRun, disposeRun, resumeRun, startRun } from '../../lib/train/run';
import { StoppedError } from '../../lib/train/trainer';
import { setUpBackend } from '../helpers';
import { tinyMnist } from './tiny';

before(async () => { await setUpBackend(); });

const model = { kind: 'gated' as const, layers: 2, kernelSize: 3, channels: 8, seed: 9 };
const train = { batchSize: 8, epochs: 2, limit: 40, seed: 5 }; // 5 steps per epoch

test('a stopped run ends at a step boundary, mid-epoch or before the evaluation, and its checkpoint resumes exactly', async () => {
  const data = await tinyMnist(48, 16);
  const straight = startRun(data, model, train);
  const reference = await straight.trainer.run();
  assert.ok(straight.trainer.finished);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-'));
  // Step 7: epoch 1, batch 2 of 5. Step 5: the last batch of epoch 0, stopped before its evaluation.
  for (const stopAfter of [7, 5]) {
    const first = startRun(data, model, train);
    const controller = new AbortController();
    const history = await first.trainer.run({ onBatch: (info) => { if (info.step === stopAfter) controller.abort(); } }, { signal: controller.signal });
    assert.equal(first.trainer.finished, false, 'not finished');
    assert.equal(first.trainer.state.step, stopAfter, 'no step after the abort');
    assert.equal(history.steps.length, stopAfter);
    assert.deepEqual(first.trainer.state.position, { epoch: Math.floor((stopAfter - 1) / 5), batchIndex: (stopAfter - 1) % 5 + 1 });
    assert.equal(history.epochs.length, stopAfter === 5 ? 0 : 1, 'an epoch stopped before its evaluation is not closed');

    // Stopping again at once does nothing; the checkpoint of the stopped state resumes as if never stopped.
    await first.trainer.run({}, { signal: controller.signal });
    assert.equal(first.trainer.state.step, stopAfter);
    const file = path.join(dir, `stopped-${stopAfter}.ckpt`);
    saveCheckpoint(file, await checkpointRun(first));
    const resumed = await resumeRun(readCheckpoint(file), data);
    assert.equal(resumed.trainer.state.step, stopAfter);
    const rest = await resumed.trainer.run();
    assert.ok(resumed.trainer.finished);
    assert.equal(rest.steps.length, reference.steps.length);
    rest.steps.forEach((s, i) => assert.ok(Math.abs(s.bitsPerDim - reference.steps[i].bitsPerDim) < 1e-6, `step ${s.step}`));
    rest.epochs.forEach((e, i) => {
      assert.ok(Math.abs(e.trainBitsPerDim - reference.epochs[i].trainBitsPerDim) < 1e-6, `epoch ${i} train`);
      assert.ok(Math.abs(e.testBitsPerDim! - reference.epochs[i].testBitsPerDim!) < 1e-6, `epoch ${i} test`);
    });
    disposeRun(first);
    disposeRun(resumed);
  }
  disposeRun(straight);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a SIGINT listener runs while the trainer works and stops it within a step', async () => {
  // One long epoch: the loop's only other yield is at the end of an epoch.
  const data = await tinyMnist(400, 8);
  const run = startRun(data, model, { batchSize: 4, epochs: 1 });
  const controller = new AbortController();
  let stepAtSignal = -1;
  const listener = () => {
    stepAtSignal = run.trainer.state.step;
    controller.abort();
  };
  process.once('SIGINT', listener);
  // A real signal, sent once a few steps are done: its listener only runs if the training loop yields.
  const sender = setInterval(() => { if (run.trainer.state.step >= 3) process.kill(process.pid, 'SIGINT'); }, 5);
  try {
    await run.trainer.run({}, { signal: controller.signal });
  } finally {
    clearInterval(sender);
    process.removeListener('SIGINT', listener);
  }
  assert.ok(stepAtSignal >= 3, `the listener ran during training (at step ${stepAtSignal})`);
  assert.ok(run.trainer.state.step <= stepAtSignal + 1, `stopped at step ${run.trainer.state.step}, the signal came after step ${stepAtSignal}`);
  assert.equal(run.trainer.finished, false);
  disposeRun(run);
});

test('evaluation stops between batches once its signal is aborted', async () => {
  const data = await tinyMnist(8, 64);
  const run = startRun(data, model, { batchSize: 8 });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(run.trainer.evaluate(data.test, undefined, { signal: controller.signal }), (e: Error) => e instanceof StoppedError && /evaluation stopped/.test(e.message));
  const full = await run.trainer.evaluate(data.test);
  assert.ok(full.bitsPerDim > 7 && full.bitsPerDim < 8.5, `${full.bitsPerDim}`);
  disposeRun(run);
});
