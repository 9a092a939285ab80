/**
 * `npm run notebook`: Debian's jupyter notebook on 127.0.0.1 with the project's kernel (found through
 * JUPYTER_PATH), the URL printed, and Ctrl-C (SIGINT) stopping the server and its kernels. ~15 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

async function request(url: string, method = 'GET', body?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { method, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** Pids whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

test('npm run notebook serves the project kernel on 127.0.0.1, prints the URL and stops cleanly on Ctrl-C', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/notebook.ts'), '--port', '18931'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!/token=/.test(stdout) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    const url = /http:\/\/127\.0\.0\.1:(\d+)\/tree\/notebooks\?token=([0-9a-f]+)/.exec(stdout);
    assert.ok(url, `URL printed; stdout: ${stdout}\nstderr: ${stderr}`);
    const base = `http://127.0.0.1:${url[1]}`;
    const token = url[2];
    const specs = await request(`${base}/api/kernelspecs?token=${token}`);
    const tslab = (specs.json as { kernelspecs: Record<string, { resources: Record<string, string>; spec: { argv: string[] } }> }).kernelspecs.tslab;
    assert.ok(tslab, 'the tslab kernel is registered');
    assert.match(tslab.spec.argv.join(' '), /--require "\$0\/no-file-watch\.js" node_modules\/tslab\/bin\/tslab kernel/);
    assert.equal((await request(`${base}/api/contents/notebooks?token=${token}`)).status, 200, 'notebooks/ is served');
    const kernel = await request(`${base}/api/kernels?token=${token}`, 'POST', JSON.stringify({ name: 'tslab' }));
    const id = (kernel.json as { id: string }).id;
    assert.ok(id, 'a kernel starts');
    const kernelDeadline = Date.now() + 30_000;
    while (processesWith(id).length === 0 && Date.now() < kernelDeadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(processesWith(id).length > 0, 'the kernel process runs');

    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000))]);
    assert.equal(code, 0, `exit after Ctrl-C; stderr: ${stderr}`);
    assert.match(stderr, /Ctrl-C: stopping the server/);
    assert.match(stderr, /server stopped/);
    assert.deepEqual(processesWith(id), [], 'no kernel left behind');
    await assert.rejects(fetch(`${base}/api/status?token=${token}`), 'the port is closed');
  } finally {
    // Ctrl-C first: a killed wrapper would leave the (detached) Jupyter server running.
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
