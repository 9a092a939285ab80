/**
 * The webgpu backend (lib/backend/webgpu.ts) against the pure-JS cpu backend. Each backend runs in its own
 * child process (a process selects its backend once; tensors cannot move off webgpu synchronously):
 * fixtures/webgpu-check.ts trains a small gated (3 colours) and a small class-conditional model a few Adam
 * steps and reports the loss and every gradient at initialisation; on webgpu it also runs the fast and the
 * reference sampler and gives the GPU back and takes it again. The children end on their own (no
 * process.exit), so a GPU object keeping Node alive would show up as a timeout here.
 *
 * Runs on any machine with a Vulkan driver: Mesa 25's CPU driver lavapipe (`npm run setup:system` installs
 * it) is enough. Without any adapter the webgpu tests skip, saying why, unless PIXEL_REQUIRE_WEBGPU=1 (CI
 * sets it), which turns that into a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { realGpuPossible, vulkanDriverFiles } from '../../lib/backend/webgpu';
import { loadNativeAddon } from '../../lib/backend/native';

const ROOT = path.resolve(__dirname, '../..');
const LIMIT_S = 240;

interface Child {
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
  parts: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  seconds: number;
}

/** Runs a fixture with `args`, PIXEL_BACKEND = env (unset when undefined); collects its JSON lines by `part`. */
function child(fixture: string, args: string[], env?: string): Promise<Child> {
  const childEnv = { ...process.env };
  delete childEnv.PIXEL_BACKEND;
  if (env !== undefined) childEnv.PIXEL_BACKEND = env;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'backend', 'fixtures', fixture), ...args], {
      cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '', timedOut = false;
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, LIMIT_S * 1000);
    proc.on('error', reject);
    proc.on('close', (status, signal) => {
      clearTimeout(timer);
      const parts: Record<string, unknown> = {};
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const o = JSON.parse(line);
          parts[o.part ?? 'select'] = o;
        } catch {
          // not ours
        }
      }
      resolve({ status, signal, timedOut, stderr, parts, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

// Start every child at once; the tests below await their results.
const runs = {
  forced: child('print-backend.ts', [], 'webgpu'),
  byDefault: child('print-backend.ts', []),
  webgpu: child('webgpu-check.ts', ['webgpu', 'train', 'sample', 'restart']),
  cpu: child('webgpu-check.ts', ['cpu', 'train']),
};

const NO_ADAPTER = /no WebGPU adapter|do not load here/;

/** Skips (or, under PIXEL_REQUIRE_WEBGPU=1, fails) when no adapter at all can be had here. */
async function requireAdapter(t: { skip(message: string): void }): Promise<boolean> {
  const r = await runs.forced;
  if (r.status !== 0 && NO_ADAPTER.test(r.stderr)) {
    const why = r.stderr.trim().split('\n').filter((l) => NO_ADAPTER.test(l)).pop() ?? r.stderr.trim();
    if (process.env.PIXEL_REQUIRE_WEBGPU === '1') assert.fail(`PIXEL_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${why}`);
    t.skip(`no WebGPU adapter can be had on this machine (${why})`);
    return false;
  }
  return true;
}

function finished(r: Child, what: string): void {
  assert.ok(!r.timedOut, `${what}: still running after ${LIMIT_S} s (does a GPU object keep Node alive?)\n${r.stderr}`);
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}\n${r.stderr}`);
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
}

test('PIXEL_BACKEND=webgpu picks webgpu and reports the adapter (a fallback one such as lavapipe included)', async (t) => {
  if (!(await requireAdapter(t))) return;
  const r = await runs.forced;
  finished(r, 'PIXEL_BACKEND=webgpu');
  const { info, tfBackend, sum } = r.parts.select;
  assert.equal(info.name, 'webgpu');
  assert.equal(tfBackend, 'webgpu');
  assert.deepEqual(sum, [2, 2, 2]);
  const a = info.adapter;
  assert.ok(a && typeof a.vendor === 'string' && typeof a.fallback === 'boolean', JSON.stringify(info));
  assert.match(info.description, new RegExp(`^webgpu \\(Dawn; adapter: vendor ${a.vendor}`));
  assert.match(info.description, a.fallback ? /fallback \(CPU\) adapter/ : /GPU adapter/);
  if (/llvmpipe|lavapipe|swiftshader/i.test(`${a.description} ${a.device}`)) assert.equal(a.fallback, true, 'a CPU driver must count as fallback');
  t.diagnostic(`${info.description}; probe ${r.parts.select.probe.probe.ms.toFixed(0)} ms`);
});

test('default selection takes webgpu only for a real GPU, and loads nothing of it when files rule one out', async (t) => {
  const r = await runs.byDefault;
  finished(r, 'default selection');
  const { info, probe, loaded } = r.parts.select;
  const here = realGpuPossible();
  if (!here.possible) {
    assert.equal(info.name, loadNativeAddon().available ? 'native' : 'wasm', `no GPU possible here (${here.reason}), yet ${info.name} was chosen`);
    assert.equal(probe.check.possible, false);
    assert.equal(probe.probe, undefined, 'Dawn was probed although no GPU can exist');
    assert.deepEqual(loaded, [], 'the webgpu path was loaded for a wasm user');
    assert.ok(probe.check.ms < 50, `the file check took ${probe.check.ms} ms`);
    t.diagnostic(`no GPU possible (${probe.check.reason}); check took ${probe.check.ms.toFixed(2)} ms; ${info.name} chosen`);
  } else if (info.name === 'webgpu') {
    assert.equal(info.adapter.fallback, false, 'a fallback adapter must not be chosen by default');
    t.diagnostic(`real GPU chosen: ${info.description}`);
  } else {
    assert.ok(probe.probe && !probe.probe.adapter, JSON.stringify(probe));
    t.diagnostic(`GPU possible but not usable (${probe.probe.reason}); ${info.name} chosen`);
  }
});

test('realGpuPossible: decided from files alone (driver manifests, device nodes) and overridable', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icd-'));
  try {
    fs.writeFileSync(path.join(dir, 'lvp_icd.x86_64.json'), '{}');
    assert.deepEqual(vulkanDriverFiles({ VK_DRIVER_FILES: dir }), [path.join(dir, 'lvp_icd.x86_64.json')]);
    assert.deepEqual(vulkanDriverFiles({ VK_DRIVER_FILES: path.join(dir, 'missing.json') }), []);
    if (process.platform === 'linux') {
      const cpuOnly = realGpuPossible({ VK_DRIVER_FILES: dir });
      assert.equal(cpuOnly.possible, false);
      assert.match(cpuOnly.reason, /only CPU Vulkan drivers \(lvp_icd\.x86_64\.json\)/);
      assert.match(realGpuPossible({ VK_DRIVER_FILES: path.join(dir, 'missing.json') }).reason, /no Vulkan driver installed/);
      fs.writeFileSync(path.join(dir, 'nvidia_icd.json'), '{}');
      const withGpuDriver = realGpuPossible({ VK_DRIVER_FILES: dir });
      // a GPU driver's manifest alone is not enough: a device node must exist too
      if (!withGpuDriver.possible) assert.match(withGpuDriver.reason, /no GPU device node/);
    }
    assert.equal(realGpuPossible({ PIXEL_WEBGPU_PROBE: '0' }).possible, false);
    assert.equal(realGpuPossible({ PIXEL_WEBGPU_PROBE: '1' }).possible, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** max |a - b| / max |a| over a tensor's values. */
function relativeError(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  let err = 0, scale = 0;
  for (let k = 0; k < a.length; k++) {
    err = Math.max(err, Math.abs(a[k] - b[k]));
    scale = Math.max(scale, Math.abs(a[k]));
  }
  return scale === 0 ? err : err / scale;
}

for (const name of ['gated', 'conditional']) {
  test(`${name} model: loss, every gradient and a few Adam steps on webgpu match the cpu backend`, async (t) => {
    if (!(await requireAdapter(t))) return;
    const [gpu, cpu] = await Promise.all([runs.webgpu, runs.cpu]);
    finished(cpu, 'cpu child');
    finished(gpu, 'webgpu child');
    assert.equal(gpu.parts.info.info.name, 'webgpu');
    assert.equal(cpu.parts.info.info.name, 'cpu');
    const g = gpu.parts.train.result[name], c = cpu.parts.train.result[name];
    assert.ok(Math.abs(g.loss - c.loss) < 1e-5 * c.loss, `loss: webgpu ${g.loss}, cpu ${c.loss}`);
    const names = Object.keys(c.gradients);
    assert.deepEqual(Object.keys(g.gradients), names);
    let worst = 0, worstName = '';
    for (const v of names) {
      assert.ok(c.gradients[v].some((x: number) => x !== 0), `${v}: the cpu gradient is all zero`);
      const e = relativeError(c.gradients[v], g.gradients[v]);
      if (e > worst) [worst, worstName] = [e, v];
    }
    assert.ok(worst < 1e-4, `gradients differ: ${worstName} by ${worst} (relative to its largest entry)`);
    assert.equal(g.steps.length, c.steps.length);
    for (let k = 0; k < c.steps.length; k++) assert.ok(Math.abs(g.steps[k] - c.steps[k]) < 1e-4, `step ${k + 1}: webgpu ${g.steps[k]}, cpu ${c.steps[k]} bits/dim`);
    assert.ok(Math.abs(g.test - c.test) < 1e-4, `test bits/dim after training: webgpu ${g.test}, cpu ${c.test}`);
    t.diagnostic(`${names.length} gradients, worst relative difference ${worst.toExponential(1)}; step ms webgpu ` +
      `${g.stepMs.map((x: number) => x.toFixed(0)).join('/')} (first compiles shaders), cpu ${c.stepMs.map((x: number) => x.toFixed(0)).join('/')}`);
  });
}

test('fast sampler = reference sampler on webgpu (gated 3 colours with given rows, conditional 1 colour)', async (t) => {
  if (!(await requireAdapter(t))) return;
  const gpu = await runs.webgpu;
  finished(gpu, 'webgpu child');
  for (const [key, r] of Object.entries(gpu.parts.sample.result as Record<string, { reference: number[]; fast: number[]; referenceMs: number; fastMs: number }>)) {
    assert.ok(r.reference.length > 0);
    const k = r.reference.findIndex((v, i) => v !== r.fast[i]);
    assert.equal(k, -1, `${key}: first difference at value ${k}: reference ${r.reference[k]}, fast ${r.fast[k]}`);
    t.diagnostic(`${key}: reference ${r.referenceMs.toFixed(0)} ms, fast ${r.fastMs.toFixed(0)} ms`);
  }
});

test('the GPU is given back (shutdownBackend) and taken again; webgpu processes exit on their own, nothing leaked', async (t) => {
  if (!(await requireAdapter(t))) return;
  const gpu = await runs.webgpu;
  finished(gpu, 'webgpu child');
  assert.equal(gpu.parts.restart.info.name, 'webgpu');
  assert.deepEqual(gpu.parts.restart.sum, [3, 3]);
  assert.equal(gpu.parts.done.numTensors, 0);
  t.diagnostic(`webgpu child: ${gpu.seconds.toFixed(1)} s in all`);
});
