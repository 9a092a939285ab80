/** The blind-spot studies of notebook 05 and their pictures: counts by hand, colours of known pixels, HTML. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { colourFields, currentPixelClasses, fieldsByDepth } from '../../lib/diagnostics/blind-spot';
import { LikelihoodCheck } from '../../lib/diagnostics/likelihood';
import {
  colourStudyHtml, FIELD_PALETTE, fieldColours, fieldLegendHtml, fieldPng, fieldStudyHtml, likelihoodTableHtml,
} from '../../lib/diagnostics/plots';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

test('depth study: blind spot p*L*(L-1)/2 for simple and the original gated variant, none for the paper\'s', async () => {
  const before = tf.memory().numTensors;
  let calls = 0;
  const study = await fieldsByDepth({ depths: [1, 2, 4], onField: () => calls++ });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(calls, 9);
  assert.deepEqual(study.kinds, ['simple', 'gated-blindspot', 'gated']);
  assert.equal(study.size, 2 * 4 + 3);
  assert.equal(study.row, 5);
  const blind = study.fields.map((row) => row.map((f) => f.counts.blind));
  assert.deepEqual(blind, [[0, 1, 6], [0, 1, 6], [0, 0, 0]]);
  for (const row of study.fields) for (const f of row) assert.equal(f.counts.leaking, 0);
  // Paper's gated model, L layers, p = 1: L+1 rows of 2L+1 above and L to the left.
  assert.deepEqual(study.fields[2].map((f) => f.counts.seen), [1, 2, 4].map((L) => (L + 1) * (2 * L + 1) + L));
});

test('colour study: R sees nothing of its own pixel, G sees R, B sees R and G', async () => {
  const study = await colourFields();
  assert.deepEqual(study.fields.map(currentPixelClasses), [
    ['future', 'future', 'future'], ['seen', 'future', 'future'], ['seen', 'seen', 'future'],
  ]);
  const html = colourStudyHtml(study);
  assert.match(html, /own pixel: R: seen, G: seen, B: future/);
  assert.equal((html.match(/<img /g) ?? []).length, 9);
});

test('field pictures: class colours at known pixels, the PNG size, the HTML table with counts', async () => {
  const study = await fieldsByDepth({ kinds: ['simple'], depths: [3] });
  const field = study.fields[0][0]; // 9x9, output (4, 4), p = 1: row -m is seen up to column +m, the span reaches +3
  const colours = fieldColours(field);
  const at = (r: number, q: number) => colours[r * study.size + q];
  assert.deepEqual(at(4, 4), FIELD_PALETTE.output);
  assert.deepEqual(at(3, 7), FIELD_PALETTE.blind); // one row up, three right: beyond the one-per-row reach
  assert.deepEqual(at(5, 0), FIELD_PALETTE.future);
  assert.deepEqual(at(0, 0), FIELD_PALETTE.unreachable);
  const seen = at(3, 4);
  assert.ok(seen.every((v, k) => v <= FIELD_PALETTE.seenWeak[k] && v >= FIELD_PALETTE.seen[k]), `${seen}`);
  const png = PNG.sync.read(Buffer.from(fieldPng(field, { scale: 5, line: 1 })));
  assert.deepEqual([png.width, png.height], [9 * 6 + 1, 9 * 6 + 1]);
  const o = ((4 * 6 + 3) * png.width + (4 * 6 + 3)) * 4; // inside the output pixel's square
  assert.deepEqual(Array.from(png.data.subarray(o, o + 3)), FIELD_PALETTE.output);
  const html = fieldStudyHtml(study);
  assert.match(html, /3 layers/);
  assert.match(html, /blind 3</);
  assert.match(html, /data:image\/png;base64,/);
  assert.match(fieldLegendHtml(), /leaking/);
  assert.throws(() => fieldColours(field, 1), /inputColour must be 0..0/);
});

test('likelihood table: agreement and a leak', () => {
  const check = (onePass: number, pixelByPixel: number): LikelihoodCheck => ({
    count: 4, onePassBitsPerDim: onePass, pixelByPixelBitsPerDim: pixelByPixel, difference: pixelByPixel - onePass,
    agrees: Math.abs(pixelByPixel - onePass) <= 1e-4, tolerance: 1e-4, perImage: { onePass: [], pixelByPixel: [] },
    seconds: 1.5, onePassSeconds: 0.1, method: 'fast',
  });
  const html = likelihoodTableHtml([{ label: 'correct <gated>', check: check(1, 1) }, { label: 'leaking', check: check(0.01, 3) }]);
  assert.match(html, /correct &lt;gated&gt;/);
  assert.match(html, />agree</);
  assert.match(html, /differ: the model sees what it predicts/);
  assert.match(html, /1\.5 s \(fast\)/);
});
