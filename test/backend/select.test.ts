/**
 * Backend selection (lib/backend/index.ts). Selection happens once per process, so each case runs in a child
 * process with its own PIXEL_BACKEND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { loadNativeAddon } from '../../lib/backend/native';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURE = path.join('test', 'backend', 'fixtures', 'print-backend.ts');
const CPU_BANNER = /looks like you are running TensorFlow\.js in Node\.js/;

interface Selection {
  status: number | null;
  stderr: string;
  json?: { info: { name: string; description: string }; tfBackend: string; sum: number[] };
}

/** Runs the fixture in a child process with PIXEL_BACKEND = env (unset when undefined). */
function select(env: string | undefined, arg?: string): Promise<Selection> {
  const childEnv = { ...process.env };
  delete childEnv.PIXEL_BACKEND;
  if (env !== undefined) childEnv.PIXEL_BACKEND = env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...(arg ? [arg] : [])], {
      cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      let json;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        json = undefined;
      }
      resolve({ status, stderr, json });
    });
  });
}

// Start every child at once (each spends ~1 s loading TensorFlow.js); the tests below await their results.
const runs = {
  default: select(undefined),
  cpu: select('cpu'),
  bogus: select('bogus'),
  tensorflow: select('tensorflow'),
  forcedOverEnv: select('wasm', 'cpu'),
  forcedUnknown: select(undefined, 'gpu'),
};

test('default picks native where its addon is built, else wasm (tfjs-node is not installed) with our kernels', async () => {
  const r = await runs.default;
  assert.equal(r.status, 0, r.stderr);
  if (loadNativeAddon().available) {
    // (test/backend/native-fallback.test.ts covers the wasm fallback when the addon is missing)
    assert.equal(r.json?.info.name, 'native');
    assert.match(r.json!.info.description, /^native \(oneDNN /);
    assert.deepEqual(r.json?.sum, [2, 2, 2]);
    return;
  }
  assert.equal(r.json?.info.name, 'wasm');
  assert.equal(r.json?.tfBackend, 'wasm');
  assert.match(r.json!.info.description, /Conv2DBackpropFilter/);
  assert.match(r.json!.info.description, /XNNPACK failures throw/);
  assert.deepEqual(r.json?.sum, [2, 2, 2]);
  assert.doesNotMatch(r.stderr, CPU_BANNER);
});

test('PIXEL_BACKEND=cpu picks cpu, without the cpu banner', async () => {
  const r = await runs.cpu;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.info.name, 'cpu');
  assert.equal(r.json?.tfBackend, 'cpu');
  assert.deepEqual(r.json?.sum, [2, 2, 2]);
  assert.doesNotMatch(r.stderr, CPU_BANNER);
});

test('PIXEL_BACKEND=bogus fails, naming the value', async () => {
  const r = await runs.bogus;
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PIXEL_BACKEND="bogus" is not a known backend; expected one of webgpu, native, tensorflow, wasm, cpu/);
});

test('PIXEL_BACKEND=tensorflow fails clearly when tfjs-node is not installed', async (t) => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    t.skip('@tensorflow/tfjs-node is installed here');
    return;
  } catch {
    // expected on this machine
  }
  const r = await runs.tensorflow;
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /PIXEL_BACKEND=tensorflow, but neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node loads/);
});

test('initBackend(name) overrides PIXEL_BACKEND; an unknown name is refused', async () => {
  const r = await runs.forcedOverEnv;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.json?.info.name, 'cpu');
  const bad = await runs.forcedUnknown;
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /initBackend\("gpu"\): not a known backend/);
});
