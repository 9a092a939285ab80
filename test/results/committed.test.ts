/**
 * The committed results/: every exported run's weights file reproduces the bits/dim its result.json records on the
 * first test images (recomputed here, within 1e-5 bits/dim: float32 summation order is the only difference), and
 * results/README.md has one row per run of lib/results/runs.ts, in order, each a finished result or marked pending.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
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

for (const run of exported) {
  test(`${run.name}: the committed weights reproduce the recorded bits/dim`, async () => {
    const check = await verifyResult(path.join(results, run.name));
    assert.ok(check.difference <= 1e-5, `recorded ${check.recorded.bitsPerDim}, recomputed ${check.recomputed.bitsPerDim} on ${check.images} test images`);
  });
}
