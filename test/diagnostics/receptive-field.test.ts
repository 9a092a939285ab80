/** Blind/seen/leak counts for configurations whose answers are derived by hand. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { receptiveField } from '../../lib/diagnostics/receptive-field';
import { buildModel, modelConfig, ModelKind } from '../../lib/models';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

const SIZE = 19;

function model(kind: ModelKind, layers: number, kernelSize: number, extra = {}) {
  return buildModel(modelConfig({ kind, layers, kernelSize, channels: 8, height: SIZE, width: SIZE, seed: 1, ...extra }));
}

test('simple model: the blind spot is the triangle p*L*(L-1)/2 above-right, counted by hand', async () => {
  // Row -m above the output is seen up to column +m*p (each upward step moves the reach p to the right),
  // while the span reaches +L*p: (L-m)*p blind pixels per row, summed over m = 1..L-1.
  for (const k of [3, 5]) for (const layers of [1, 2, 3, 4]) {
    const p = Math.floor(k / 2);
    const field = await receptiveField(model('simple', layers, k), 10, 9);
    assert.equal(field.counts.blind, (p * layers * (layers - 1)) / 2, `k=${k}, L=${layers}`);
    assert.equal(field.counts.leaking, 0);
    // Seen: the (L*p) rows above, each 2*L*p+1 wide, less the blind triangle, plus L*p to the left.
    assert.equal(field.counts.seen, layers * p * (2 * layers * p + 1) - field.counts.blind + layers * p, `k=${k}, L=${layers}`);
  }
});

test("the paper's gated model has no blind spot; the original variant has one", async () => {
  for (const layers of [2, 3]) {
    const paper = await receptiveField(model('gated', layers, 3), 10, 7);
    assert.equal(paper.counts.blind, 0);
    assert.equal(paper.counts.leaking, 0);
    // L*p+1 rows of 2*L*p+1 pixels above, L*p to the left (p = 1).
    assert.equal(paper.counts.seen, (layers + 1) * (2 * layers + 1) + layers);
    const original = await receptiveField(model('gated-blindspot', layers, 3), 10, 7);
    assert.ok(original.counts.blind > 0, `L=${layers}: ${JSON.stringify(original.counts)}`);
    assert.equal(original.counts.leaking, 0);
  }
});

test('colours: R sees nothing of the current pixel, G sees R, B sees R and G', async () => {
  const rgb = buildModel(modelConfig({ kind: 'gated', layers: 2, kernelSize: 3, channels: 12, colours: 3, height: 7, width: 7, seed: 1 }));
  for (const colour of [0, 1, 2]) {
    const field = await receptiveField(rgb, 3, 3, colour);
    const at = (c: number) => field.classes[(3 * 7 + 3) * 3 + c];
    for (let c = 0; c < 3; c++) assert.equal(at(c), c < colour ? 1 /* seen */ : 0 /* future */, `output colour ${colour}, input colour ${c}`);
    assert.equal(field.counts.leaking, 0);
  }
});

test('the deliberately leaking model leaks', async () => {
  const field = await receptiveField(model('simple', 2, 3, { leak: true }), 7, 7);
  assert.ok(field.counts.leaking >= 1);
  assert.equal(field.classes[7 * SIZE + 7], 4 /* leaking: it sees the value it predicts */);
});

test('an output outside the image is an error naming it', async () => {
  await assert.rejects(receptiveField(model('simple', 1, 3), 20, 0), /output \(20, 0, 0\) is outside the 19x19x1 image/);
});
