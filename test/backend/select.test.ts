/**
 * Backend selection (lib/backend/index.ts). Selection happens once per process, so each case runs in a child
 * process with its own PIXEL_BACKEND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join('test', 'backend', 'fixtures', 'print-backend.ts');
const CPU_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

function select(env: string | undefined, arg?: string): { status: number | null; stdout: string; stderr: string; json?: { info: { name: string; description: string }; tfBackend: string; sum: number[] } } {
  const childEnv = { ...process.env };
  delete childEnv.PIXEL_BACKEND;
  if (env !== undefined) childEnv.PIXEL_BACKEND = env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', FIXTURE, ...(arg ? [arg] : [])], {
    cwd: ROOT, env: childEnv, encoding: 'utf8', timeout: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let json;
  try {
    json = JSON.parse(line);
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

test('default picks wasm here (tfjs-node is not installed) with our kernels', () => {
  const r = select(undefined);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.info.name, 'wasm');
  assert.equal(r.json?.tfBackend, 'wasm');
  assert.match(r.json!.info.description, /Conv2DBackpropFilter/);
  assert.match(r.json!.info.description, /XNNPACK failures throw/);
  assert.deepEqual(r.json?.sum, [2, 2, 2]);
  assert.doesNotMatch(r.stderr, CPU_BANNER);
});

test('PIXEL_BACKEND=cpu picks cpu, without the cpu banner', () => {
  const r = select('cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.info.name, 'cpu');
  assert.equal(r.json?.tfBackend, 'cpu');
  assert.deepEqual(r.json?.sum, [2, 2, 2]);
  assert.doesNotMatch(r.stderr, CPU_BANNER);
});

test('PIXEL_BACKEND=bogus fails, naming the value', () => {
  const r = select('bogus');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PIXEL_BACKEND="bogus" is not a known backend; expected one of tensorflow, wasm, cpu/);
});

test('PIXEL_BACKEND=tensorflow fails clearly when tfjs-node is not installed', (t) => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    t.skip('@tensorflow/tfjs-node is installed here');
    return;
  } catch {
    // expected on this machine
  }
  const r = select('tensorflow');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PIXEL_BACKEND=tensorflow, but neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node loads/);
});

test('initBackend(name) overrides PIXEL_BACKEND; an unknown name is refused', () => {
  const r = select('wasm', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.info.name, 'cpu');
  const bad = select(undefined, 'gpu');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /initBackend\("gpu"\): not a known backend/);
});
