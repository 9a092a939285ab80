/**
 * A machine that cannot build the native addon still installs, and selection says why native is missing:
 * scripts/build-native.js run (into a temporary build directory) with a oneDNN library path that does not exist,
 * and with a oneDNN header that does not compile, exits 0 printing one line with the reason and records it in
 * status.json; selection pointed at that directory (PIXEL_NATIVE_DIR) falls back to wasm naming the reason, and
 * PIXEL_BACKEND=native fails with it. Needs no oneDNN itself.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { realGpuPossible } from '../../lib/backend/webgpu';

const ROOT = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-native-fallback-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function build(buildDir: string, env: NodeJS.ProcessEnv) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.PIXEL_REQUIRE_NATIVE; // that makes the script fail on purpose (CI); here it must not
  return spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-native.js'), '--build-dir', buildDir], { encoding: 'utf8', env: childEnv, cwd: ROOT });
}

function select(buildDir: string, backend: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PIXEL_NATIVE_DIR: buildDir, PIXEL_BACKEND: backend };
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'backend', 'fixtures', 'print-backend.ts')], { encoding: 'utf8', env, cwd: ROOT });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, stderr: r.stderr, json: line.startsWith('{') ? JSON.parse(line) as { info: { name: string; description: string; nativeUnavailable?: string } } : undefined };
}

test('a oneDNN library path that does not exist: install goes on, selection falls back to wasm and says why', () => {
  const dir = path.join(tmp, 'no-lib');
  const r = build(dir, { PIXEL_DNNL_LIB: '/nonexistent/onednn/lib' });
  assert.equal(r.status, 0, r.stderr);
  const reason = 'PIXEL_DNNL_LIB=/nonexistent/onednn/lib does not exist';
  assert.equal(r.stdout, `pixel-notebooks: native backend not built: ${reason}; training uses the wasm backend instead\n`);
  const status = JSON.parse(fs.readFileSync(path.join(dir, 'status.json'), 'utf8')) as { ok: boolean; reason: string };
  assert.deepEqual([status.ok, status.reason], [false, reason]);
  assert.equal(fs.existsSync(path.join(dir, 'Release', 'pixel_native.node')), false);

  const forced = select(dir, 'native');
  assert.equal(forced.status, 3);
  assert.match(forced.stderr, new RegExp(`PIXEL_BACKEND=native, but the native backend is unavailable: the addon was not built: ${reason}`));

  const gpu = realGpuPossible();
  if (gpu.possible) return; // webgpu would come first; the fallback below is about CPU-only machines
  const unforced = select(dir, '');
  assert.equal(unforced.status, 0, unforced.stderr);
  assert.equal(unforced.json?.info.name, 'wasm');
  assert.equal(unforced.json?.info.nativeUnavailable, `the addon was not built: ${reason}`);
  assert.match(unforced.json!.info.description, new RegExp(`; native backend unavailable: the addon was not built: ${reason}$`));
});

test('a oneDNN header that does not compile: the compiler\'s error is the reason', (t) => {
  if (spawnSync(process.env.CXX || 'c++', ['--version']).status !== 0) {
    t.skip('no C++ compiler here');
    return;
  }
  const include = path.join(tmp, 'bad-include');
  fs.mkdirSync(include, { recursive: true });
  fs.writeFileSync(path.join(include, 'dnnl.hpp'), '#error this oneDNN header is broken on purpose\n');
  const dir = path.join(tmp, 'bad-header');
  const r = build(dir, { PIXEL_DNNL_INCLUDE: include });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pixel-notebooks: native backend not built: cannot compile against oneDNN \(.*dnnl\.hpp:1:2: error: #error this oneDNN header is broken on purpose; Debian: npm run setup:system installs libdnnl-dev\); training uses the wasm backend instead\n$/);
  const forced = select(dir, 'native');
  assert.equal(forced.status, 3);
  assert.match(forced.stderr, /the native backend is unavailable: the addon was not built: cannot compile against oneDNN/);
});

test('PIXEL_REQUIRE_NATIVE=1 (CI) makes a failed build fail the install', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-native.js'), '--build-dir', path.join(tmp, 'required')],
    { encoding: 'utf8', env: { ...process.env, PIXEL_DNNL_LIB: '/nonexistent', PIXEL_REQUIRE_NATIVE: '1' }, cwd: ROOT });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /native backend not built: PIXEL_DNNL_LIB=\/nonexistent does not exist/);
});
