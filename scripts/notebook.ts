/**
 * `npm run notebook`: Debian's classic `jupyter notebook` for interactive use, on 127.0.0.1, with the
 * project's tslab kernel (jupyter/kernels/tslab, found through JUPYTER_PATH: nothing is installed globally).
 * Prints the URL (with a fresh token) once the server answers; Ctrl-C stops the server and its kernels.
 *
 *   npm run notebook [-- --port 8890]
 *
 * The server runs in its own process group, so the terminal's Ctrl-C reaches only this script, which then
 * asks Jupyter to shut down (SIGTERM: kernels are stopped, no "Shutdown this notebook server?" prompt).
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { projectRoot } from '../lib/project-root';
import { checkJupyterSetup, jupyterCommand, jupyterEnv } from '../lib/report/jupyter';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** The first port from `start` on 127.0.0.1 that can be bound. */
export async function freePort(start: number, tries = 50): Promise<number> {
  for (let port = start; port < start + tries; port++) {
    const ok = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${start}..${start + tries - 1} on 127.0.0.1`);
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
    request.setTimeout(2000, () => {
      request.destroy();
      resolve(0);
    });
  });
}

async function main(): Promise<number> {
  const root = projectRoot();
  try {
    checkJupyterSetup(root);
  } catch (error) {
    process.stderr.write(`notebook: ${(error as Error).message}\n`);
    return 1;
  }
  const port = await freePort(Number(flag('port') ?? 8888));
  const token = randomBytes(16).toString('hex');
  const args = [
    'notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, '--port-retries=0',
    `--NotebookApp.token=${token}`, `--notebook-dir=${root}`,
  ];
  // Jupyter refuses to run as root without this (containers, CI machines).
  if (process.getuid?.() === 0) args.push('--allow-root');
  const child = spawn(jupyterCommand(), args, {
    cwd: root, env: jupyterEnv(process.env, root), detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  let ready = false;
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    // Before the URL is printed, keep Jupyter's start-up chatter for errors; afterwards pass it through.
    if (ready) process.stderr.write(text);
    else log.push(text);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited: number | null | undefined;
  const exit = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = code;
      resolve(code ?? (signal === 'SIGTERM' ? 0 : 1));
    });
  });
  child.on('error', (error) => process.stderr.write(`notebook: cannot start ${jupyterCommand()}: ${error.message}\n`));

  let stopping = false;
  const stop = (why: string) => {
    if (stopping || exited !== undefined) return;
    stopping = true;
    process.stderr.write(`\nnotebook: ${why}: stopping the server and its kernels…\n`);
    try {
      process.kill(child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    // If Jupyter hangs, end its whole process group after 15 s.
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 15000).unref();
  };
  process.on('SIGINT', () => stop('Ctrl-C'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));

  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (!ready && exited === undefined && !stopping && Date.now() - started < 60000) {
    if ((await get(`${base}/api/status?token=${token}`)) === 200) ready = true;
    else await new Promise((r) => setTimeout(r, 300));
  }
  if (!ready) {
    if (exited === undefined && !stopping) stop('the server did not answer within 60 s');
    const code = await exit;
    if (!stopping || exited !== 0) process.stderr.write(log.join(''));
    return stopping ? code : 1;
  }
  const url = `${base}/tree/notebooks?token=${token}`;
  process.stdout.write(`\nJupyter is running (kernel "TypeScript (pixel-notebooks, tslab)" from ${path.join(root, 'jupyter')}):\n\n    ${url}\n\n` +
    'Open a notebook in notebooks/ and run its cells. Ctrl-C here stops the server.\n\n');
  const code = await exit;
  process.stderr.write(`notebook: server stopped${code === 0 ? '' : ` (exit ${code})`}\n`);
  return code;
}

main().then((code) => {
  process.exitCode = code;
}, (error: Error) => {
  process.stderr.write(`notebook: ${error.message}\n`);
  process.exitCode = 1;
});
