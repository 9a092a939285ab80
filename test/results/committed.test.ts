/**
 * The committed results/: every exported run's weights file reproduces the bits/dim its result.json records on the
 * first test images (recomputed here, within 1e-5 bits/dim: float32 summation order is the only difference), and
 * results/README.md and README.md's results block have one row per run of lib/results/runs.ts, in order, each a
 * finished result or marked pending.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { readmeBlock } from '../../lib/results/readme-block';
import { readResult, RESULT_FILE } from '../../lib/results/result';
import { RUNS } from '../../lib/results/runs';
import { verifyResult } from '../../lib/results/verify';
import { setUpBackend } from '../helpers';

const results = path.resolve(__dirname, '..', '..', 'results');
const exported = RUNS.filter((run) => fs.existsSync(path.join(results, run.name, RESULT_FILE)));

before(async () => { await setUpBackend(); });

test('results/README.md has a row per run, finished (with its recorded figure) or pending', () => {
  const table = fs.readFileSync(path.join(results, 'README.md'), 'utf8');
  const rows = table.split('\n').filter((line) => line.startsWith('| `'));
  assert.deepEqual(rows.map((row) => row.split('`')[1]), RUNS.map((run) => run.name));
  rows.forEach((row, i) => {
    const name = RUNS[i].name;
    if (exported.includes(RUNS[i])) assert.ok(row.includes(readResult(path.join(results, name)).test.bitsPerDim.toFixed(4)), `${name}: ${row}`);
    else assert.match(row, /\| pending: /, `${name} has no result.json, so its row must say pending`);
  });
});

test('README.md\'s results block: the same runs, figures and pending rows, and grids that exist', () => {
  const readme = fs.readFileSync(path.join(results, '..', 'README.md'), 'utf8');
  const block = readmeBlock(readme);
  assert.ok(block, 'README.md has no results block (lib/results/readme-block.ts markers)');
  const rows = block.split('\n').filter((line) => line.startsWith('| `'));
  assert.deepEqual(rows.map((row) => row.split('`')[1]), RUNS.map((run) => run.name));
  rows.forEach((row, i) => {
    const name = RUNS[i].name;
    if (exported.includes(RUNS[i])) assert.ok(row.includes(`**${readResult(path.join(results, name)).test.bitsPerDim.toFixed(4)}**`), `${name}: ${row}`);
    else assert.match(row, /\| pending \|/, `${name} has no result.json, so its row must say pending`);
  });
  const images = [...block.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(images.length, Math.min(3, exported.length));
  for (const image of images) assert.ok(fs.existsSync(path.join(results, '..', image)), `${image} does not exist`);
});

for (const run of exported) {
  test(`${run.name}: the committed weights reproduce the recorded bits/dim`, async () => {
    const check = await verifyResult(path.join(results, run.name));
    assert.ok(check.difference <= 1e-5, `recorded ${check.recorded.bitsPerDim}, recomputed ${check.recomputed.bitsPerDim} on ${check.images} test images`);
    // A PixelVAE's use of z: 1e-5 bits/dim of float32 summation over 784 dimensions is under 0.01 bits per image.
    if (check.recorded.latent) assert.ok(Math.abs(check.recomputed.latent!.bitsPerImage - check.recorded.latent.bitsPerImage) <= 1e-2, JSON.stringify(check));
  });
}
