/** The default gated config (5 layers, k=5, 30 channels) learns real MNIST within a short budget. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disposeRun, startRun } from '../../lib/train/run';
import { setUpBackend } from '../helpers';
import { loadMnist } from './tiny';

test('a few hundred steps of the default gated config lower test bits/dim on MNIST', async () => {
  await setUpBackend();
  const mnist = await loadMnist();
  // 200 steps of 8 images; the test set is limited to 64 images to keep CI short.
  const run = startRun(mnist, { kind: 'gated' }, { batchSize: 8, epochs: 1, limit: 1600, testLimit: 64 });
  assert.deepEqual([run.model.config.layers, run.model.config.kernelSize, run.model.config.channels], [5, 5, 30]);
  const { bitsPerDim: before } = await run.trainer.evaluate(mnist.test, 64);
  const history = await run.trainer.run();
  const after = history.epochs[0].testBitsPerDim!;
  assert.equal(run.trainer.state.step, 200);
  assert.ok(before > 7.9, `untrained: ${before}`);
  assert.ok(after < 2.5, `after 200 steps: ${after} bits/dim (before ${before})`);
  console.log(`default gated MNIST: ${before.toFixed(3)} -> ${after.toFixed(3)} test bits/dim in 200 steps of 8`);
  disposeRun(run);
});
