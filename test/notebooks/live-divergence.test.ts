/** The notebook's live progress line shows a divergence warning at once, and drops it when the loss recovers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveTraining } from '../../lib/notebook/live';
import { htmlToText, recordingOutputs } from '../../lib/notebook/output';
import { DivergenceWatcher } from '../../lib/train/divergence';
import type { History } from '../../lib/train/trainer';

test('a divergence warning leads the progress line from its first step, between the throttled updates', () => {
  const outputs = recordingOutputs();
  let now = 0;
  const live = new LiveTraining(outputs, { epochs: 1, batchesPerEpoch: 100, batchSize: 8, progressEverySeconds: 1, chartEverySeconds: 1e6, now: () => now });
  const watcher = new DivergenceWatcher();
  const history: History = { steps: [], epochs: [] };
  const shown = new Map<number, string>();
  for (let step = 1; step <= 60; step++) {
    now += 90; // once a second: steps 1, 13, 25; then the warning (31) and the recovery (50) at once, each restarting the second
    const bitsPerDim = step > 20 && step <= 40 ? 50 : 8;
    history.steps.push({ step, bitsPerDim });
    const verdict = watcher.observe(step, bitsPerDim);
    const before = outputs.records.length;
    live.onBatch({ epoch: 0, batch: step - 1, batchesPerEpoch: 100, step, bitsPerDim, ...(verdict.status === 'warning' ? { divergence: verdict.warning } : {}) }, history);
    const progress = outputs.records.slice(before).filter((r) => r.area === 0);
    if (progress.length) shown.set(step, htmlToText(progress.at(-1)!.value as string));
  }
  assert.deepEqual([...shown.keys()], [1, 13, 25, 31, 43, 50]);
  assert.match(shown.get(31)!, /^WARNING step 31: training is diverging: the median of the last 20 steps is 50\.000 bits\/dim, worse than a uniform guess \(8 bits\/dim\) since step 31; lower the learning rate \(training stops at step 131 if it stays above 9\) · epoch 1\/1 · batch 31\/100 · step 31\/100 /);
  assert.match(shown.get(43)!, /^WARNING step 43: .* since step 31;/);
  assert.match(shown.get(50)!, /^epoch 1\/1 · batch 50\/100/, 'the warning is gone once the loss recovers');
  assert.match(shown.get(25)!, /^epoch 1\/1 · batch 25\/100/);
});
