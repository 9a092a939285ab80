/** `npm run train -m vae-up|vae-straight`, run as a real child process on real MNIST. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCheckpoint } from '../../lib/train/checkpoint-file';

const root = path.resolve(__dirname, '..', '..');

function train(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib/cli/train.ts'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('-m vae-up trains one tiny epoch, prints JSON lines with the ELBO parts, and resumes', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-vae-'));
  const tiny = ['-x', '2', '-c', '4', '-k', '3', '-b', '16', '--limit', '32', '--test-limit', '16', '--json', '--no-samples', '--out', out];
  const first = train(['-m', 'vae-up', '-e', '1', '--zsize', '4', '--vae-depth', '1', '--vae-channels', '16', ...tiny]);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  const line = lines[0];
  assert.deepEqual(Object.keys(line).sort(), [
    'epoch', 'seconds', 'test_bits_per_dim', 'test_kl_bits_per_dim', 'test_reconstruction_bits_per_dim',
    'test_z_saves_bits_per_image', 'train_bits_per_dim', 'train_kl_bits_per_dim', 'train_reconstruction_bits_per_dim',
  ]);
  assert.ok(Number.isFinite(line.test_z_saves_bits_per_image), `z usage ${line.test_z_saves_bits_per_image}`);
  assert.match(first.stderr, /z: on the first 16 test images, their own z saves -?\d+\.\d bits per image over another image's z/);
  assert.ok(line.test_bits_per_dim > 7 && line.test_bits_per_dim < 9, first.stdout);
  for (const split of ['train', 'test']) {
    const [total, reconstruction, kl] = ['', '_reconstruction', '_kl'].map((p) => line[`${split}${p}_bits_per_dim`]);
    assert.ok(Math.abs(total - reconstruction - kl) < 1e-5, `${split}: ${total} != ${reconstruction} + ${kl}`);
    assert.ok(kl > 0, `${split} KL ${kl}`);
  }
  assert.match(first.stderr, /model: vae-up, \d+ parameters/);
  assert.match(first.stderr, /reconstruction \d\.\d+ \+ kl \d\.\d+/);
  const config = readCheckpoint(path.join(out, 'checkpoint.ckpt')).modelConfig;
  assert.ok(config.kind === 'vae-up', config.kind);
  assert.deepEqual([config.latentSize, config.vaeDepth, config.vaeChannels], [4, 1, 16]);
  const history = JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8'));
  assert.deepEqual(Object.keys(history[0].testParts).sort(), ['kl', 'reconstruction']);

  const resumed = train(['--resume', out, '-e', '2', '--json', '--no-samples']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(resumed.stdout.trim().split('\n').map((l) => JSON.parse(l).epoch), [1]);
});

test('bad VAE options give clear errors', () => {
  for (const [args, pattern] of [
    [['-m', 'vae-straight', '--zsize', '0'], /option '--zsize <n>' argument '0' is invalid/],
    [['-m', 'vae-up', '--vae-depth', '-1'], /option '--vae-depth <n>' argument '-1' is invalid/],
  ] as [string[], RegExp][]) {
    const result = train([...args, '-e', '1', '--limit', '1']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, pattern);
  }
});
