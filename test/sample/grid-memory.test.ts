/**
 * Memory over many sample grids (issue 16 item 5): a training run draws a grid after every evaluation, and
 * its RSS grew by the grid image's size every time (367 -> 549 MB over 40 evaluations).
 *
 * The CLI's loop then awaited only promises that resolve at once (the wasm backend's reads), so Node never got
 * to run its process.nextTick queue during a run; whatever a library defers there, and whatever that keeps
 * alive, piled up. (The trainer and samplers now give the event loop a turn every 50 ms, for interrupts.) This
 * test encodes the PNGs in such a loop (it checks that the nextTick queue really did not run) and measures
 * memory after full garbage collections.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { composeGrid, gridPng } from '../../lib/render/grid';
import { sampleGrid } from '../../lib/sample';
import { setUpBackend } from '../helpers';
import { smallModel, testImages } from './fixtures';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

before(async () => { await setUpBackend(); });

/** The wasm heap (it only ever grows) of the wasm or native backend (a wasm backend underneath), or 0 on others. */
function wasmHeapBytes(): number {
  const wasm = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

function measure() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss, wasm: wasmHeapBytes(), tensors: tf.memory().numTensors };
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

test('20 grids sampled, then 20 PNGs without an event-loop turn: array buffers, external memory and the wasm heap stay flat', async (t) => {
  const model = smallModel('gated', 1);
  const tests = testImages(12, 1);
  // Scale 12 makes the 12 x 12 grid of 6x7 images as large as a CLI MNIST grid (~4 MB of RGBA), so that
  // keeping one image per grid shows clearly, while sampling the tiny images stays cheap.
  const scale = 12;
  const sample = await sampleGrid(model, tests, { seed: 0 });
  const rgbaBytes = composeGrid(sample, { ...sample.layout, scale }).data.byteLength;
  assert.ok(rgbaBytes > 3.5 * 2 ** 20, `one grid image is ${rgbaBytes} bytes; the test needs > 3.5 MB for a clear signal`);
  for (let seed = 0; seed < 2; seed++) gridPng(await sampleGrid(model, tests, { seed }), { ...sample.layout, scale }); // warm-up
  const grids = 20;

  // Sampling: the samplers give the event loop a turn now and then (so an interrupt can stop them); what they
  // allocate must not pile up either.
  const start = measure();
  const sampled = [];
  for (let seed = 0; seed < grids; seed++) sampled.push(await sampleGrid(model, tests, { seed }));
  const afterSampling = measure();

  // Encoding, as the CLI loop did between two samplings: no event-loop turn, so the nextTick queue never runs.
  let tickRan = false;
  process.nextTick(() => { tickRan = true; });
  for (const grid of sampled) gridPng(grid, { ...grid.layout, scale });
  const ranDuringLoop = tickRan;
  sampled.length = 0;
  const end = measure();

  assert.equal(ranDuringLoop, false, 'the encoding loop gave Node a turn to run its nextTick queue: this test then no longer reproduces a loop in which it never runs');
  const report = `after ${grids} grids of ${MB(rgbaBytes)} RGBA each: arrayBuffers ${MB(start.arrayBuffers)} -> ${MB(afterSampling.arrayBuffers)} (sampled) -> ${MB(end.arrayBuffers)} (encoded), ` +
    `external ${MB(start.external)} -> ${MB(end.external)}, rss ${MB(start.rss)} -> ${MB(end.rss)}, wasm heap ${MB(start.wasm)} -> ${MB(end.wasm)}`;
  t.diagnostic(report);
  // Tolerance: less than one grid image in all (20 images kept alive would be ~80 MB).
  assert.ok(end.arrayBuffers - start.arrayBuffers < rgbaBytes, `process.memoryUsage().arrayBuffers grew: ${report}`);
  assert.ok(end.external - start.external < rgbaBytes, `process.memoryUsage().external grew: ${report}`);
  assert.equal(end.wasm, start.wasm, `the wasm heap grew: ${report}`);
  assert.equal(afterSampling.tensors, start.tensors, `sampling leaked tensors: ${report}`);
  assert.equal(end.tensors, start.tensors, `tensors leaked: ${report}`);
  model.params.dispose();
});
