/** Odd model options are rejected with errors that name the field and what was expected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, modelConfig, parameterCount } from '../../lib/models';
import { setUpBackend } from '../helpers';

test('bad model options name the field', () => {
  assert.throws(() => modelConfig({ kernelSize: 4 }), /kernelSize \(-k\) must be odd.*got 4/);
  assert.throws(() => modelConfig({ colours: 3, channels: 31 }), /channels \(-c\) must be divisible by colours \(3\).*got 31/);
  assert.throws(() => modelConfig({ layers: 0 }), /layers must be a positive integer, got 0/);
  assert.throws(() => modelConfig({ kind: 'pixelrnn' as never }), /kind must be one of simple, gated, gated-blindspot, conditional/);
  assert.throws(() => modelConfig({ kind: 'conditional' }), /conditional model needs conditionSize/);
  assert.throws(() => buildModel(modelConfig({ kind: 'gated-blindspot', kernelSize: 1 })), /at least 3 for gated-blindspot/);
});

test('parameter counts match the architecture, counted by hand', async () => {
  await setUpBackend();
  // simple, 1 colour, k=3, c=6, 2 layers: 3*3*1*6+6, 3*3*6*6+6, output 1x1 6*256+256
  const simple = buildModel(modelConfig({ kind: 'simple', kernelSize: 3, channels: 6, layers: 2 }));
  assert.equal(parameterCount(simple), (9 * 6 + 6) + (9 * 36 + 6) + (6 * 256 + 256));
  // gated, 1 colour, k=3 (p=1), c=4, 2 layers. Layer 0: vertical 2x3x1x8+8, horizontal 1x2x1x8+8, link 8x8+8,
  // output 4x4+4. Layer 1: vertical 2x3x4x8+8, horizontal 1x2x4x8+8, link 8x8+8, output 4x4+4. Head 4*256+256.
  const gated = buildModel(modelConfig({ kind: 'gated', kernelSize: 3, channels: 4, layers: 2 }));
  const layer0 = (6 * 8 + 8) + (2 * 8 + 8) + (64 + 8) + (16 + 4);
  const layer1 = (24 * 8 + 8) + (8 * 8 + 8) + (64 + 8) + (16 + 4);
  assert.equal(parameterCount(gated), layer0 + layer1 + 4 * 256 + 256);
  // conditional with 10 classes adds 10x8 per projection: vertical (not in the last layer) and horizontal.
  const conditional = buildModel(modelConfig({ kind: 'conditional', kernelSize: 3, channels: 4, layers: 2, conditionSize: 10 }));
  assert.equal(parameterCount(conditional), parameterCount(gated) + 3 * 80);
  for (const m of [simple, gated, conditional]) m.params.dispose();
});
