/** `npm run bench` as a real child process on tiny settings (~10 s): it runs, and its JSON keeps its keys. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

/** Runs `npm run bench -- --quick --backend wasm --batch 2 --no-torch --no-sampling ARGS --json FILE`; returns stdout and the JSON. */
function quickBench(...args: string[]): { stdout: string; report: Record<string, any> } {
  const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'bench.json');
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench/index.ts'),
    '--quick', '--backend', 'wasm', '--batch', '2', '--no-torch', '--no-sampling', ...args, '--json', json],
  { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  return { stdout: run.stdout, report: JSON.parse(fs.readFileSync(json, 'utf8')) };
}

describe('npm run bench', () => {
  test('--quick --json on tiny settings writes the stable keys, and the counted conv FLOPs match the profiled kernels', () => {
    const { stdout, report } = quickBench('--configs', 'simple_mnist,gated_mnist', '--workers', '0');
    assert.match(stdout, /\| ours: images\/s \(wasm, batch 2\) \|/);
    assert.match(stdout, /load average: start/);
    for (const key of ['date', 'machine', 'load_average', 'backend', 'threads', 'train_images_per_s', 'torch_images_per_s',
      'train_ratio_vs_torch', 'sampling_seconds', 'sampling_speedup', 'conv_gflop_per_step', 'achieved_conv_gflops', 'peak_gflops', 'memory']) {
      assert.ok(key in report, `missing key ${key}`);
    }
    assert.deepEqual(Object.keys(report.train_images_per_s).sort(), ['gated_cifar', 'gated_mnist', 'simple_mnist']);
    assert.deepEqual(Object.keys(report.sampling_seconds).sort(), ['fast', 'naive']);
    assert.equal(report.backend, 'wasm');
    assert.equal(report.threads, 1);
    assert.equal(report.workers, 0);
    assert.ok(report.machine.cores >= 1 && typeof report.machine.cpu_model === 'string');
    assert.equal(report.train_images_per_s.gated_cifar, null);
    assert.equal(report.train_failures.gated_cifar, 'not run');
    assert.match(report.torch_note, /skipped/);
    for (const name of ['simple_mnist', 'gated_mnist']) {
      assert.ok(report.train_images_per_s[name] > 0, name);
      const result = report.details.train[name].result;
      assert.ok(Math.abs(result.profile.convGflop - result.convGflopPerStep) < 1e-9,
        `${name}: counted ${result.convGflopPerStep} GFLOP, profiled ${result.profile.convGflop}`);
      assert.ok(report.memory.train_wasm_heap_bytes[name] > 0);
    }
  });

  test('--workers 1 shares the steps with a helper thread and counts it in the threads', () => {
    const { stdout, report } = quickBench('--configs', 'simple_mnist', '--workers', '1');
    assert.match(stdout, /training on this thread \+ 1 helper worker thread/);
    assert.equal(report.workers, 1);
    assert.equal(report.threads, 2);
    assert.equal(report.details.train.simple_mnist.result.workers, 1);
    assert.ok(report.train_images_per_s.simple_mnist > 0);
  });
});
