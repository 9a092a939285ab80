/**
 * The live sampler's payload codecs (lib/live/payload.ts), the HTML fragment's escaping and the payload's default
 * title (lib/live/index.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { livePayload, liveSamplerHtml } from '../../lib/live/index';
import { base64ToBytes, bytesToBase64, decodeWeights, encodeWeights, fromHalfBits, roundToHalf, toHalfBits } from '../../lib/live/payload';
import { modelConfig } from '../../lib/models/index';

test('float16: exact values round-trip, rounding is to nearest even, specials are kept', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, 1 + 2 ** -10]) assert.equal(fromHalfBits(toHalfBits(v)), v);
  assert.equal(toHalfBits(1 + 2 ** -11), toHalfBits(1), 'a tie rounds to the even mantissa');
  assert.equal(fromHalfBits(toHalfBits(1 + 3 * 2 ** -11)), 1 + 2 * 2 ** -10, 'a tie rounds up to the even mantissa');
  assert.equal(fromHalfBits(toHalfBits(1e6)), Infinity);
  assert.equal(fromHalfBits(toHalfBits(-1e6)), -Infinity);
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  assert.equal(fromHalfBits(toHalfBits(2 ** -26)), 0, 'below half the smallest subnormal: zero');
  assert.equal(toHalfBits(-0), 0x8000);
  const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.3);
  const rounded = roundToHalf(values);
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(values[i]) > 2 ** -14) assert.ok(Math.abs(rounded[i] - values[i]) <= Math.abs(values[i]) * 2 ** -11, `relative error at ${i}`);
  }
});

test('weights encode and decode (float32 exactly, float16 as roundToHalf), base64 round-trips', () => {
  const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 37) % 256);
  assert.deepEqual(base64ToBytes(bytesToBase64(bytes)), bytes);
  const weights = new Map([
    ['a', { shape: [2, 3], values: Float32Array.from([1.1, -2.2, 3.3, 0, 1e-8, 7]) }],
    ['b', { shape: [3], values: Float32Array.from([0.1, 0.2, 0.3]) }],
  ]);
  const f32 = decodeWeights(encodeWeights(weights, 'float32'));
  const f16 = decodeWeights(encodeWeights(weights, 'float16'));
  for (const [name, { shape, values }] of weights) {
    assert.deepEqual(f32.get(name), { shape, values });
    assert.deepEqual(f16.get(name), { shape, values: roundToHalf(values) });
  }
});

test('the widget fragment: payload JSON cannot close its script element; a second widget reuses the loaded bundle', async () => {
  const config = modelConfig({ kind: 'gated', height: 4, width: 4, layers: 1, kernelSize: 3, channels: 2 });
  const html = await liveSamplerHtml({ modelConfig: config, weights: new Map(), classNames: ['</script><b>x'] });
  assert.equal(html.match(/<\/script/gi)?.length, 2, 'only the two real closing tags');
  assert.match(html, /class="pixel-live-data"/);
  assert.match(html, /if\(!window\.PixelLive\)\{/);
  assert.ok(html.length > 500_000 && html.length < 1_500_000, `bundle size ${html.length}`);
});

test('the default title is the kind\'s name from its spec', () => {
  const title = (input: Parameters<typeof modelConfig>[0]) => livePayload({ modelConfig: modelConfig({ height: 4, width: 4, ...input }), weights: new Map() }).title;
  assert.equal(title({ kind: 'gated' }), 'gated PixelCNN');
  assert.equal(title({ kind: 'simple' }), 'simple PixelCNN');
  assert.equal(title({ kind: 'vae-up' }), 'vae-up PixelVAE');
  assert.equal(title({ kind: 'vae-straight' }), 'vae-straight PixelVAE');
  assert.equal(livePayload({ modelConfig: modelConfig({ kind: 'gated', height: 4, width: 4 }), weights: new Map(), title: 'mine' }).title, 'mine');
});
