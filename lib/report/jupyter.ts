/**
 * Running Debian's Jupyter for this project: the `jupyter` executable, and an environment in which it finds
 * the project's tslab kernel (jupyter/kernels/tslab, which starts in the project root) without any global
 * kernel installation.
 *
 * Node only.
 */
import * as fs from 'fs';
import * as path from 'path';

import { projectRoot } from '../project-root';

/**
 * The `jupyter` to run: $PIXEL_JUPYTER, else Debian's /usr/bin/jupyter (the `python3` on PATH may be another
 * Python without Jupyter), else `jupyter` from PATH.
 */
export function jupyterCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIXEL_JUPYTER) return env.PIXEL_JUPYTER;
  return fs.existsSync('/usr/bin/jupyter') ? '/usr/bin/jupyter' : 'jupyter';
}

/** The project's Jupyter data folder (kernels/tslab/kernel.json). */
export function jupyterDataDir(root = projectRoot()): string {
  return path.join(root, 'jupyter');
}

/** `env` plus JUPYTER_PATH (the project's jupyter/ first) and a runtime folder inside the project. */
export function jupyterEnv(env: NodeJS.ProcessEnv = process.env, root = projectRoot()): NodeJS.ProcessEnv {
  const data = jupyterDataDir(root);
  const runtime = path.join(data, 'runtime');
  fs.mkdirSync(runtime, { recursive: true });
  const existing = (env.JUPYTER_PATH ?? '').split(path.delimiter).filter((p) => p && path.resolve(p) !== data);
  return {
    ...env,
    JUPYTER_PATH: [data, ...existing].join(path.delimiter),
    JUPYTER_RUNTIME_DIR: runtime,
    // Debian's Python 3.11 debugger warning on every Jupyter start; irrelevant here.
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
  };
}

/** Throws a message naming the fix when Jupyter or the kernel's tslab is missing. */
export function checkJupyterSetup(root = projectRoot(), env: NodeJS.ProcessEnv = process.env): void {
  const jupyter = jupyterCommand(env);
  if (path.isAbsolute(jupyter) && !fs.existsSync(jupyter)) {
    throw new Error(`${jupyter} does not exist: install Debian's Jupyter with \`npm run setup:system\` ` +
      '(apt-get install jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook)');
  }
  if (!fs.existsSync(path.join(root, 'node_modules', '.bin', 'tslab'))) {
    throw new Error('node_modules/.bin/tslab is missing: run `npm ci`');
  }
  if (!fs.existsSync(path.join(jupyterDataDir(root), 'kernels', 'tslab', 'kernel.json'))) {
    throw new Error(`${path.join(jupyterDataDir(root), 'kernels', 'tslab', 'kernel.json')} is missing`);
  }
}
