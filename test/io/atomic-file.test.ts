/**
 * Files are written completely or not at all (lib/io/atomic-file.ts): on a nearly full disk (a real small
 * tmpfs where this runs as root and may mount), under a real kernel short write (a child process with a
 * file-size limit, `ulimit -f`, which needs no privileges), and with injected short writes. Each keeps the
 * old file byte for byte, leaves no temp file and names the file and the free space.
 */
import { after, describe, test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { cleanStaleTempFiles, FileWriteError, writeFileAtomic } from '../../lib/io/atomic-file';
import { readCheckpoint } from '../../lib/train/checkpoint-file';
import { downloadFile } from '../../lib/data/download';
import { readRecord, RECORD_FILE } from '../../lib/runs/record';

const root = path.resolve(__dirname, '..', '..');
const TEMP = /\.tmp$/;

const scratchDirs: string[] = [];
after(() => {
  for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

function tempFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => TEMP.test(n));
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function thrown(fn: () => void): FileWriteError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FileWriteError, `expected a FileWriteError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the write to throw');
}

/** A tmpfs of `bytes` mounted on a fresh folder (unmounted after the test), or why there can be none. */
function mountTmpfs(t: TestContext, bytes: number): string | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'tmpfs needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-tmpfs-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    fs.rmdirSync(dir);
    return { skip: `mount -t tmpfs failed (no privilege in this container?): ${(mount.stderr || mount.error?.message || '').trim()}` };
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    fs.rmdirSync(dir);
  });
  return dir;
}

function available(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills the file system of `dir` with a filler file until exactly `free` bytes are left. */
function fillTo(dir: string, free: number): string {
  const filler = path.join(dir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(available(dir) - free));
  assert.equal(available(dir), free, 'the filler left the intended free space');
  return filler;
}

/** Runs a TypeScript snippet in a child Node whose file-size limit is `kib` KiB: writes past it are cut short by the kernel. */
function withFileSizeLimit(kib: number, code: string) {
  const result = spawnSync('bash', ['-c', `ulimit -f ${kib} && exec "$0" --import tsx -e "$1"`, process.execPath, code], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('writeFileAtomic with injected short writes', () => {
  test('a write call that lands fewer bytes than asked is called again until every byte landed', () => {
    const dir = scratch('atomic-loop-');
    const file = path.join(dir, 'data.bin');
    const data = crypto.randomBytes(100_003);
    const calls: number[] = [];
    writeFileAtomic(file, data, {
      writeSync: (fd, buffer, offset, length, position) => {
        calls.push(offset);
        return fs.writeSync(fd, buffer, offset, Math.min(length, 1000), position);
      },
    });
    assert.equal(calls.length, 101);
    assert.deepEqual(calls.slice(0, 3), [0, 1000, 2000]);
    assert.ok(fs.readFileSync(file).equals(data), 'the file holds every byte, in order');
    assert.deepEqual(tempFiles(dir), []);
  });

  test('a write call that says it wrote everything but did not: the size on disk catches it, the old file stays', () => {
    const dir = scratch('atomic-lie-');
    const file = path.join(dir, 'checkpoint.ckpt');
    const old = crypto.randomBytes(5000);
    fs.writeFileSync(file, old);
    const error = thrown(() => writeFileAtomic(file, crypto.randomBytes(10_000), {
      writeSync: (fd, buffer, offset, length, position) => {
        fs.writeSync(fd, buffer, offset, Math.min(length, 4096), position);
        return length;
      },
    }));
    assert.equal(error.code, 'ESHORTWRITE');
    assert.equal(error.file, file);
    assert.equal(error.bytesNeeded, 10_000);
    assert.equal(error.freeBytes, available(dir));
    assert.equal(error.message,
      `cannot write ${file}: short write (the file has 4096 bytes on disk) after 4,096 bytes of 10,000 bytes; ` +
      `${error.freeBytes!.toLocaleString('en-US')} bytes free in ${dir}. checkpoint.ckpt was left as it was; ` +
      'free some space (or raise the limit) and try again.');
    assert.ok(fs.readFileSync(file).equals(old));
    assert.deepEqual(fs.readdirSync(dir), ['checkpoint.ckpt'], 'no temp file left');
  });

  test('a write call that writes nothing is an error, not an endless loop; a new file is then not created', () => {
    const dir = scratch('atomic-zero-');
    const file = path.join(dir, 'history.json');
    const error = thrown(() => writeFileAtomic(file, '[1,2,3]', { writeSync: () => 0 }));
    assert.equal(error.code, 'ESHORTWRITE');
    assert.match(error.message, /^cannot write .*history\.json: short write \(the write call wrote 0 bytes\) after 0 bytes of 7 bytes; [\d,]+ bytes free in .*\. no history\.json was written;/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('ENOSPC half-way: the error names the file, the bytes and the free space; temp removed, old file kept', () => {
    const dir = scratch('atomic-enospc-');
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, 'old report');
    let calls = 0;
    const error = thrown(() => writeFileAtomic(file, 'x'.repeat(9000), {
      writeSync: (fd, buffer, offset, length, position) => {
        if (calls++ === 0) return fs.writeSync(fd, buffer, offset, 4096, position);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    }));
    assert.equal(error.code, 'ENOSPC');
    assert.match(error.message, new RegExp(`^cannot write ${file.replace(/[.]/g, '\\.')}: no space left on device \\(ENOSPC\\) after 4,096 bytes of 9,000 bytes; [\\d,]+ bytes free in `));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old report');
    assert.deepEqual(fs.readdirSync(dir), ['report.html']);
  });
});

describe('stale temp files', () => {
  test('temp files of dead processes, or over a day old, are removed on the next write into the folder; others are kept', () => {
    const dir = scratch('atomic-stale-');
    const dead = deadPid();
    const live = process.ppid;
    const names = {
      deadCheckpoint: `.checkpoint.ckpt.${dead}.1767000000000.tmp`, // the old scheme: ms time instead of hex
      deadHistory: `.history.json.${dead}.0a1b2c3d.tmp`,
      deadDownload: `cifar-10-binary.tar.gz.${dead}.deadbeef.tmp`, // download.ts used no leading dot
      liveFresh: `.checkpoint.ckpt.${live}.00112233.tmp`,
      liveOld: `.samples-epoch-0.png.${live}.44556677.tmp`,
      ours: `.history.json.${process.pid}.8899aabb.tmp`,
      unrelated: '.notes.tmp',
      unrelatedDotted: 'data.12.tmp',
    };
    for (const name of Object.values(names)) fs.writeFileSync(path.join(dir, name), 'partial');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    fs.utimesSync(path.join(dir, names.liveOld), twoDaysAgo, twoDaysAgo);

    writeFileAtomic(path.join(dir, 'history.json'), '[]');
    assert.deepEqual(fs.readdirSync(dir).sort(),
      [names.liveFresh, names.ours, names.unrelated, 'data.12.tmp', 'history.json'].sort());
    assert.deepEqual(cleanStaleTempFiles(dir), [], 'nothing else is stale');
  });
});

const noUlimit = process.platform === 'win32' ? 'needs bash and ulimit -f' : false;

describe('a real short write from the kernel: a child process with a 24 KiB file-size limit (ulimit -f)', { skip: noUlimit }, () => {
  test('writeFileAtomic, saveCheckpoint and writePng fail naming the file; the old files stay byte-identical and no temp file is left', () => {
    const dir = scratch('atomic-ulimit-');
    const ckpt = path.join(dir, 'checkpoint.ckpt');
    const png = path.join(dir, 'samples-epoch-0.png');
    const old = crypto.randomBytes(20_000);
    fs.writeFileSync(ckpt, old);
    fs.writeFileSync(png, old);
    const script = (call: string) => `
      const { writeFileAtomic } = require('./lib/io/atomic-file');
      const { writePng } = require('./lib/render/grid');
      const bytes = new Uint8Array(55704).fill(7);
      try { ${call}; } catch (e) { process.stderr.write(e.message); process.exit(3); }`;
    for (const [file, call] of [[ckpt, `writeFileAtomic(${JSON.stringify(ckpt)}, bytes)`], [png, `writePng(${JSON.stringify(png)}, bytes)`]]) {
      const child = withFileSizeLimit(24, script(call));
      assert.equal(child.code, 3, child.stderr);
      assert.match(child.stderr, new RegExp(`^cannot write ${file.replace(/[.]/g, '\\.')}: file too large for this process's file-size limit \\(EFBIG, see ulimit -f\\) after 24,576 bytes of 55,704 bytes; [\\d,]+ bytes free in `));
      assert.match(child.stderr, new RegExp(`${path.basename(file).replace(/[.]/g, '\\.')} was left as it was`));
      assert.ok(fs.readFileSync(file).equals(old), `${file} is unchanged`);
    }
    assert.deepEqual(tempFiles(dir), []);
    // Within the limit the same call succeeds: the failure was the limit, not the call.
    const ok = withFileSizeLimit(64, script(`writeFileAtomic(${JSON.stringify(ckpt)}, bytes)`));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(fs.statSync(ckpt).size, 55_704);
  });
});

describe('a nearly full disk (a 2 MB tmpfs)', () => {
  test('replacing a checkpoint with 24 KB free: ENOSPC names the file and the free space; the old checkpoint is kept byte for byte', (t) => {
    const dir = mountTmpfs(t, 2 * 1024 * 1024);
    if (typeof dir !== 'string') return t.skip(dir.skip);
    const file = path.join(dir, 'checkpoint.ckpt');
    const old = crypto.randomBytes(55_704);
    fs.writeFileSync(file, old);
    const filler = fillTo(dir, 24_576);
    const error = thrown(() => writeFileAtomic(file, crypto.randomBytes(55_704)));
    assert.equal(error.code, 'ENOSPC');
    assert.equal(error.freeBytes, 24_576);
    assert.equal(error.message,
      `cannot write ${file}: no space left on device (ENOSPC) after 24,576 bytes of 55,704 bytes; 24,576 bytes free in ${dir}. ` +
      'checkpoint.ckpt was left as it was; free some space (or raise the limit) and try again.');
    assert.ok(fs.readFileSync(file).equals(old));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoint.ckpt', 'filler']);

    // A first write with 40 KB free: no file at all.
    fs.truncateSync(filler, fs.statSync(filler).size - (40_960 - 24_576));
    assert.equal(available(dir), 40_960);
    const fresh = path.join(dir, 'history.json');
    assert.match(thrown(() => writeFileAtomic(fresh, 'x'.repeat(60_000))).message,
      /ENOSPC\) after 40,960 bytes of 60,000 bytes; 40,960 bytes free in .*\. no history\.json was written;/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoint.ckpt', 'filler']);

    // Once there is room the write goes through (nothing left behind was in the way).
    fs.rmSync(filler);
    const data = crypto.randomBytes(55_704);
    writeFileAtomic(file, data);
    assert.ok(fs.readFileSync(file).equals(data));
  });

  test('a download onto a nearly full disk: the error names the destination and the free space; the old file stays, no temp file', async (t) => {
    const dir = mountTmpfs(t, 2 * 1024 * 1024);
    if (typeof dir !== 'string') return t.skip(dir.skip);
    const body = crypto.randomBytes(100_000);
    const url = await serve(t, body);
    const destination = path.join(dir, 'data.bin');
    fs.writeFileSync(destination, 'old');
    fillTo(dir, 24_576);
    await assert.rejects(downloadFile(url, destination), (error: Error) => {
      assert.equal(error.message,
        `download of ${url} failed: cannot write ${destination}: no space left on device (ENOSPC) after 24,576 bytes of 100,000 bytes; ` +
        `24,576 bytes free in ${dir}. data.bin was left as it was; free some space (or raise the limit) and try again.`);
      return true;
    });
    assert.equal(fs.readFileSync(destination, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['data.bin', 'filler']);
  });

  test('the training CLI: --resume on a disk with 24 KB free exits non-zero naming the checkpoint, and the epoch-1 checkpoint still loads; a fresh run with 40 KB free writes nothing', (t) => {
    const dir = mountTmpfs(t, 2 * 1024 * 1024);
    if (typeof dir !== 'string') return t.skip(dir.skip);
    const out = path.join(dir, 'run');
    const first = trainCli([...TINY, '-e', '1', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    const before = fs.readFileSync(path.join(out, 'checkpoint.ckpt'));
    const filler = fillTo(dir, 24_576);
    const resumed = trainCli(['--resume', out, '-e', '2', '--no-samples', '--workers', '0']);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`error: cannot write ${out}/checkpoint\\.ckpt: no space left on device \\(ENOSPC\\) after 24,576 bytes of [\\d,]+ bytes; 24,576 bytes free in ${out}\\. checkpoint\\.ckpt was left as it was`));
    assert.ok(fs.readFileSync(path.join(out, 'checkpoint.ckpt')).equals(before));
    assert.equal(readCheckpoint(path.join(out, 'checkpoint.ckpt')).trainerState?.history.epochs.length, 1);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'history.json'), 'utf8')).length, 1, 'history.json still says one epoch');
    assert.deepEqual(tempFiles(out), []);

    fs.rmSync(out, { recursive: true });
    fs.rmSync(filler);
    fillTo(dir, 40_960);
    const fresh = trainCli([...TINY, '-e', '1', '--out', out]);
    assert.equal(fresh.code, 1, fresh.stderr);
    assert.match(fresh.stderr, /error: cannot write .*checkpoint\.ckpt: no space left on device \(ENOSPC\) after \d{2},\d{3} bytes of [\d,]+ bytes; [\d,]+ bytes free in .*\. no checkpoint\.ckpt was written/);
    // Only the run record, which says how the run ended.
    assert.deepEqual(fs.readdirSync(out), [RECORD_FILE]);
    assert.equal(readRecord(out).status, 'failed');
  });
});

const TINY = ['-m', 'gated', '-x', '2', '-k', '3', '-c', '8', '-b', '16', '--limit', '64', '--test-limit', '32', '--no-samples', '--workers', '0'];

function trainCli(args: string[], fileSizeLimitKiB?: number) {
  const node = [process.execPath, '--import', 'tsx', path.join(root, 'lib/cli/train.ts'), ...args];
  const result = fileSizeLimitKiB === undefined
    ? spawnSync(node[0], node.slice(1), { cwd: root, encoding: 'utf8' })
    : spawnSync('bash', ['-c', `ulimit -f ${fileSizeLimitKiB} && exec "$@"`, 'bash', ...node], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Serves `body` on 127.0.0.1 until the test ends; returns its URL. */
async function serve(t: TestContext, body: Buffer): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.bin`;
}

describe('the training CLI under a file-size limit (a real short write, no privileges needed)', { skip: noUlimit }, () => {
  test('--resume whose checkpoint cannot be written in full exits 1 naming the file; the epoch-1 checkpoint and history are intact', () => {
    const out = scratch('atomic-cli-');
    const first = trainCli([...TINY, '-e', '1', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    const before = fs.readFileSync(path.join(out, 'checkpoint.ckpt'));
    const history = fs.readFileSync(path.join(out, 'history.json'));
    const resumed = trainCli(['--resume', out, '-e', '2', '--no-samples', '--workers', '0'], 24);
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`error: cannot write ${out}/checkpoint\\.ckpt: file too large .* after 24,576 bytes of [\\d,]+ bytes; [\\d,]+ bytes free in ${out}\\. checkpoint\\.ckpt was left as it was`));
    assert.ok(fs.readFileSync(path.join(out, 'checkpoint.ckpt')).equals(before));
    assert.ok(fs.readFileSync(path.join(out, 'history.json')).equals(history));
    assert.equal(readCheckpoint(path.join(out, 'checkpoint.ckpt')).trainerState?.history.epochs.length, 1);
    assert.deepEqual(tempFiles(out), []);
  });
});

describe('downloads', { skip: noUlimit }, () => {
  test('a download cut short by the file-size limit fails naming the destination; a killed download\'s temp file is cleaned by the next one', async (t) => {
    const dir = scratch('atomic-download-');
    const body = crypto.randomBytes(100_000);
    const url = await serve(t, body);
    const destination = path.join(dir, 'data.bin');
    const stale = path.join(dir, `.data.bin.${deadPid()}.0badf00d.tmp`);
    fs.writeFileSync(stale, body.subarray(0, 30_000));

    const code = `require('./lib/data/download').downloadFile(${JSON.stringify(url)}, ${JSON.stringify(destination)})` +
      '.then(() => process.exit(0), (e) => { process.stderr.write(e.message); process.exit(3); })';
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // Asynchronous: this process must keep serving while the child downloads.
      const p = spawn('bash', ['-c', 'ulimit -f 24 && exec "$0" --import tsx -e "$1"', process.execPath, code], { cwd: root });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (c) => resolve({ code: c, stderr }));
    });
    assert.equal(child.code, 3, child.stderr);
    assert.match(child.stderr, new RegExp(`^download of ${url.replace(/[.]/g, '\\.')} failed: cannot write ${destination.replace(/[.]/g, '\\.')}: file too large .*EFBIG.* after 24,576 bytes of 100,000 bytes; [\\d,]+ bytes free in `));
    assert.deepEqual(fs.readdirSync(dir), [], 'neither the partial download nor the stale temp file is left');

    fs.writeFileSync(stale, body.subarray(0, 30_000));
    await downloadFile(url, destination);
    assert.ok(fs.readFileSync(destination).equals(body));
    assert.deepEqual(fs.readdirSync(dir), ['data.bin']);
  });
});
