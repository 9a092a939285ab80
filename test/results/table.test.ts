/**
 * results/README.md's rows and README.md's results block from result.json records (exact text), the run list and its checks, and bad input:
 * a missing or corrupt result.json, a bad runs file or bad flags name the file and the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../lib/cli/reproduce';
import { parseRunArgv } from '../../lib/results/argv';
import { backendThreads } from '../../lib/results/export';
import { readResult, writeResult } from '../../lib/results/result';
import { resultRecord as record } from './result-record';
import { readRunList, ReproduceRun, RUNS, selectRuns } from '../../lib/results/runs';
import { BLOCK_BEGIN, BLOCK_END, readmeBlock, renderReadmeBlock, replaceReadmeBlock } from '../../lib/results/readme-block';
import { renderRow, renderTable, rowFor } from '../../lib/results/table';
import { verifyResult } from '../../lib/results/verify';
import { formatSpan } from '../../lib/duration';
import { describeProgress } from '../../lib/results/work';

const gated: ReproduceRun = RUNS.find((run) => run.name === 'gated-5x30')!;
const vae: ReproduceRun = RUNS.find((run) => run.name === 'vae-up')!;


describe('results table', () => {
  test('a measured row: flags, parameters, epochs, test bits/dim with its image count, wall time, backend, date', () => {
    assert.equal(renderRow({ run: gated, status: { state: 'done', result: record() } }),
      '| `gated-5x30` | `-m gated -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001` | 162,166 | 15 | 1.0235 (10,000 images) | 2.0 h | native, 2 threads | 2026-11-30 |');
  });

  test('a PixelVAE row gives the negative ELBO as its parts; helper workers and a threadless backend are named', () => {
    const result = record({
      name: 'vae-up', argv: [...vae.argv], test: { images: 10000, bitsPerDim: 1.1, parts: { reconstruction: 1.05, kl: 0.05 } },
      wallSeconds: 95, backend: { name: 'wasm', description: 'wasm (SIMD, 1 thread; ...)', threads: 1, workers: 1 },
    });
    assert.equal(renderRow({ run: vae, status: { state: 'done', result } }),
      '| `vae-up` | `-m vae-up -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001 --posterior-logvar-init -4 --free-bits 0.5` | 162,166 | 15 | 1.1000 = reconstruction 1.0500 + kl 0.0500 (10,000 images) | 95 s | wasm, 1 thread + 1 helper worker | 2026-11-30 |');
    const latent = { images: 1000, ownBitsPerDim: 1.04, otherBitsPerDim: 1.0401, bitsPerImage: 0.0784 };
    assert.match(renderRow({ run: vae, status: { state: 'done', result: { ...result, subset: { ...result.subset, latent } } } }),
      /\| 1\.1000 = reconstruction 1\.0500 \+ kl 0\.0500 \(10,000 images; on the first 1,000, its own z saves 0\.1 bits per image: z ignored\) \|/);
    const used = { ...latent, otherBitsPerDim: 1.05, bitsPerImage: 7.84 };
    assert.match(renderRow({ run: vae, status: { state: 'done', result: { ...result, subset: { ...result.subset, latent: used } } } }), /its own z saves 7\.8 bits per image\) \|/);
    const gpu = record({ backend: { name: 'webgpu', description: 'webgpu (Dawn; ...)', threads: null, workers: 0 } });
    assert.match(renderRow({ run: gated, status: { state: 'done', result: gpu } }), / \| webgpu \| 2026-11-30 \|$/);
  });

  test('pending rows: progress with the estimate, or the reason', () => {
    assert.equal(renderRow({ run: gated, status: { state: 'pending', reason: 'not started' } }),
      '| `gated-5x30` | `-m gated -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001` | — | — | pending: not started | — | — | — |');
    const progress = describeProgress({ dir: 'w', checkpointFile: 'w/c', checkpoint: {} as never, epochsDone: 3, epochs: 15, finished: false, firstEpochSeconds: 600 });
    assert.equal(progress, "3 of 15 epochs trained; at the first epoch's 10.0 min, about 2.5 h in all, 2.0 h left");
    assert.equal(renderRow({ run: gated, status: { state: 'pending', reason: progress, parameters: 162166, epochsDone: 3, epochs: 15 } }),
      `| \`gated-5x30\` | \`-m gated -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001\` | 162,166 | 3 of 15 | pending: ${progress} | — | — | — |`);
    assert.deepEqual([42, 150, 7380].map(formatSpan), ['42 s', '2.5 min', '2.0 h']);
  });

  test('the full table: every run of the list in its order, CIFAR-10 pending with its reason and command', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'table-'));
    try {
      const rows = RUNS.map((run) => rowFor(run, path.join(empty, 'results'), path.join(empty, 'work')));
      const text = renderTable(rows);
      const tableLines = text.split('\n').filter((line) => line.startsWith('| `'));
      assert.deepEqual(tableLines.map((line) => line.split(' | ')[0].slice(2)), RUNS.map((run) => `\`${run.name}\``));
      const cifar = tableLines.find((line) => line.startsWith('| `cifar-gated-12x30`'))!;
      if (!fs.existsSync(path.join(__dirname, '..', '..', 'datasets', 'cache', 'cifar-10-binary.tar.gz'))) {
        assert.match(cifar, /pending: CIFAR-10 is not on this machine \(no datasets\/cache\/cifar-10-binary\.tar\.gz\); `npm run reproduce -- cifar-gated-12x30` downloads it/);
      }
      assert.match(text, /- `gated-9x63`: .* Reproduce: `npm run reproduce -- gated-9x63`\./);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test("README's results block: exact rows and grids; rewritten between its markers only; missing markers named", () => {
    const rows = [
      { run: gated, status: { state: 'done' as const, result: record() } },
      { run: vae, status: { state: 'pending' as const, reason: 'x', parameters: 1, epochsDone: 3, epochs: 15 } },
    ];
    const block = renderReadmeBlock(rows, 'results');
    assert.equal(block, [
      BLOCK_BEGIN,
      '| run | flags | test bits/dim | epochs | wall time |',
      '|---|---|---|---|---|',
      '| `gated-5x30` | `-m gated -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001` | **1.0235** | 15 | 2.0 h |',
      '| `vae-up` | `-m vae-up -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001 --posterior-logvar-init -4 --free-bits 0.5` | pending | 3 of 15 | — |',
      '',
      '`gated-5x30` after the full run (top half sampled from scratch, bottom half completing the top half of test images):',
      '',
      '<img src="results/gated-5x30/grid.png" alt="gated-5x30: 12x12 grid" width="880">',
      BLOCK_END,
    ].join('\n'));
    const readme = `# Title\n\ntext\n${BLOCK_BEGIN}\nold\n${BLOCK_END}\n\n## After\n`;
    assert.equal(replaceReadmeBlock(readme, block, 'R.md'), `# Title\n\ntext\n${block}\n\n## After\n`);
    assert.equal(readmeBlock(replaceReadmeBlock(readme, block, 'R.md')), block);
    assert.throws(() => replaceReadmeBlock('# no markers\n', block, '/p/README.md'), /\/p\/README\.md: expected the marker lines/);
  });

  test('backend threads are read from the description', () => {
    assert.equal(backendThreads('native (oneDNN 2.6.3, 2 threads, ISA AVX-512)'), 2);
    assert.equal(backendThreads('wasm (SIMD, 1 thread; our kernels: ...)'), 1);
    assert.equal(backendThreads('webgpu (Dawn; adapter: nvidia)'), null);
  });
});

describe('run list', () => {
  test("every run's flags parse with the training CLI's parser, on the run's task", () => {
    for (const run of RUNS) {
      const { options, given } = parseRunArgv(run);
      assert.equal(options.task, run.task, run.name);
      assert.ok(given.has('epochs') && given.has('model') && given.has('learningRate'), run.name);
      assert.ok(!given.has('out') && !given.has('resume'), run.name);
    }
    assert.deepEqual(selectRuns(RUNS, []).map((run) => run.name), RUNS.map((run) => run.name));
    assert.throws(() => selectRuns(RUNS, ['gated-5x30', 'nope']), /unknown run nope; expected one of simple-5x30, /);
  });

  test('bad flags name the run and the flag', () => {
    assert.throws(() => parseRunArgv({ ...gated, argv: ['-m', 'gated', '-x', 'five'] }), /run gated-5x30: its flags "-m gated -x five" are not valid for npm run train: option '-x, --layers <n>' argument 'five' is invalid/);
    assert.throws(() => parseRunArgv({ ...gated, task: 'cifar10' }), /run gated-5x30: field "task" is cifar10 but its flags train on mnist/);
  });
});

describe('bad input', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'results-bad-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a missing result.json is named', async () => {
    const file = path.join(dir, 'none', 'result.json');
    assert.throws(() => readResult(path.join(dir, 'none')), new RegExp(`^Error: ${file} does not exist`));
    await assert.rejects(verifyResult(path.join(dir, 'none')), new RegExp(`${file} does not exist`));
  });

  test('a corrupt result.json names the file and the field', () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const file = path.join(run, 'result.json');
    writeResult(run, record());
    assert.deepEqual(readResult(run), record());
    fs.writeFileSync(file, '{"name": "gated-5x30",');
    assert.throws(() => readResult(run), new RegExp(`^Error: ${file}: not valid JSON`));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ test: { images: 10000, bitsPerDim: 'low' } }, /field "test\.bitsPerDim" is "low"; expected a finite number/],
      [{ subset: undefined }, /field "subset" is missing; expected an object holding "subset\.images"/],
      [{ parameters: -1 }, /field "parameters" is -1; expected a whole number >= 0/],
      [{ argv: '-m gated' }, /field "argv" is "-m gated"; expected a list of strings/],
      [{ test: { images: 10, bitsPerDim: 1, parts: { kl: null } } }, /field "test\.parts" is \{"kl":null\}; expected absent or an object of finite numbers/],
      [{ date: 'yesterday' }, /field "date" is "yesterday"; expected an ISO 8601 date/],
    ];
    for (const [change, message] of cases) {
      fs.writeFileSync(file, JSON.stringify({ ...record(), ...change }));
      assert.throws(() => readResult(run), (error: Error) => error.message.startsWith(`${file}: `) && message.test(error.message), JSON.stringify(change));
    }
    const { commit: _commit, ...withoutCommit } = record();
    fs.writeFileSync(file, JSON.stringify(withoutCommit));
    assert.throws(() => readResult(run), new RegExp(`${file}: field "commit" is missing; expected a string or null`));
  });

  test('a bad runs file names the file, the run and the field', async () => {
    const file = path.join(dir, 'runs.json');
    const cases: [unknown, RegExp][] = [
      [{}, /runs\.json: expected a JSON list of runs, got object/],
      [[{ ...gated, argv: '-m gated' }], /runs\.json: run 0: field "argv" is "-m gated"; expected a list of strings/],
      [[{ ...gated, task: 'svhn' }], /runs\.json: run 0: field "task" is "svhn"; expected a task name/],
      [[{ ...gated, name: 'Gated 5x30' }], /runs\.json: run 0: field "name" is "Gated 5x30"; expected lower-case letters/],
      [[gated, { ...gated, argv: [...gated.argv, '--out', 'x'] }], /runs\.json: run 1: field "argv" has --out; reproduce sets the run folder itself/],
      [[gated, gated], /runs\.json: two runs are named gated-5x30/],
    ];
    for (const [content, message] of cases) {
      fs.writeFileSync(file, JSON.stringify(content));
      assert.throws(() => readRunList(file), message);
    }
    fs.writeFileSync(file, JSON.stringify([{ ...gated, argv: ['-x', '0'] }]));
    await assert.rejects(main(['--runs-file', file, '--results', path.join(dir, 'r'), '--work', path.join(dir, 'w')]), /run gated-5x30: its flags "-x 0" are not valid for npm run train: .*expected an integer >= 1/);
    assert.equal(fs.existsSync(path.join(dir, 'w')), false, 'nothing trained');
  });
});
