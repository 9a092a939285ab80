/**
 * The project's tslab kernel survives files changing under the project while it runs.
 *
 * tslab 1.0.22 drives TypeScript's watch program with room for one pending timer: a .ts file created in a
 * watched folder, then a change to an imported file, and the next cell fails with "Unexpected pending
 * rebuildTimer" (seen at the end of a 20-minute `npm start` while others edited lib/). The kernelspec preloads
 * jupyter/kernels/tslab/no-file-watch.js, which turns the watchers off. The control run uses the same
 * kernel without the preload and must show the failure, so this test notices when the workaround stops
 * being needed (or stops working). ~30 s.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
// The fixture must be inside the project (the kernel runs there); runs/ is ignored by git.
const fixture = path.join(root, 'runs', `kernel-watch-test-${process.pid}`);
const relative = path.relative(root, fixture);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-kernel-test-'));

after(() => {
  fs.rmSync(fixture, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

function writeFixture(): void {
  fs.rmSync(fixture, { recursive: true, force: true });
  fs.mkdirSync(path.join(fixture, 'sub'), { recursive: true });
  // './sub' is a folder index: the compiler watches the folder for the candidates it did not find (sub.ts, ...).
  fs.writeFileSync(path.join(fixture, 'sub', 'index.ts'), 'export type Z = number;\n');
  fs.writeFileSync(path.join(fixture, 'mod.ts'), "import type { Z } from './sub';\nexport const x: Z = 1;\n");
}

function notebookFile(name: string, kernel: string): string {
  const cells = [
    `import { x } from './${relative}/mod';`,
    [
      "import * as fs from 'fs';",
      'const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));',
      `fs.writeFileSync('${relative}/probe.ts', 'export {};\\n');`,
      'await sleep(2000);',
      `fs.appendFileSync('${relative}/mod.ts', '// edited while the kernel runs\\n');`,
      'await sleep(2000);',
    ].join('\n'),
    "console.log('the kernel still runs cells', x);",
  ];
  const file = path.join(work, `${name}.ipynb`);
  fs.writeFileSync(file, JSON.stringify({
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: kernel, display_name: kernel, language: 'typescript' } },
    cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source })),
  }));
  return file;
}

function report(file: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/report/cli.ts'), '--out', path.join(work, 'out'), file], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000,
  });
}

test('a cell after files changed on disk still runs in the project kernel', () => {
  writeFixture();
  const r = report(notebookFile('watched', 'tslab'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /watched: done in/);
});

test('control: the same kernel without the preload fails that way (tslab bug the preload works around)', () => {
  writeFixture();
  const spec = JSON.parse(fs.readFileSync(path.join(root, 'jupyter/kernels/tslab/kernel.json'), 'utf8')) as { argv: string[] };
  const command = spec.argv[2];
  assert.match(command, /--require "\$0\/no-file-watch\.js"/, 'the project kernel preloads the workaround');
  const kernels = path.join(work, 'jupyter', 'kernels', 'tslab-unpatched');
  fs.mkdirSync(kernels, { recursive: true });
  // The same start-up, from the project's kernel folder, without the preload.
  const unpatched = command.replace(/--require "\$0\/no-file-watch\.js" /, '');
  fs.writeFileSync(path.join(kernels, 'kernel.json'), JSON.stringify({
    argv: ['/bin/sh', '-c', unpatched, path.join(root, 'jupyter/kernels/tslab'), '{connection_file}'],
    display_name: 'tslab without the preload', language: 'typescript',
  }));
  const r = report(notebookFile('unpatched', 'tslab-unpatched'), { JUPYTER_PATH: path.join(work, 'jupyter') });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /FAILED: unpatched .* in code cell 3 of 3/);
  assert.match(r.stderr, /Unexpected pending rebuildTimer/);
});
