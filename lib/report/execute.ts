/**
 * Executes one notebook headlessly with `jupyter nbconvert --execute --to html` and writes its report.
 *
 * nbconvert runs with lib/report/nbconvert_config.py (hooks: the failing cell's outputs to a file, numbered
 * prompts, an "abort" reply counted as a failure, the running cell's index to a file) and
 * lib/report/report.html.j2 (the lab template without external scripts). A failed notebook yields the
 * failing cell's own error text (tslab puts it in the cell's stderr; nbconvert's log only says "<Error>:").
 *
 * Node only.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../io/atomic-file';
import { projectRoot } from '../project-root';
import { checkJupyterSetup, jupyterCommand, jupyterEnv } from './jupyter';

export interface CellInfo {
  /** Index among all cells. */
  index: number;
  /** 1-based number among code cells (what the report's prompt shows). */
  codeCell: number;
  codeCells: number;
  /** First line of its source. */
  firstLine: string;
}

export interface ReportProgress {
  name: string;
  elapsedSeconds: number;
  /** The cell being executed, when known. */
  cell?: CellInfo;
  /** The notebook's own status line (the live training display's), when it writes one. */
  status?: string;
}

export interface NotebookFailure {
  /** Where it failed, when a cell failed (not e.g. a missing kernel). */
  cell?: CellInfo;
  source?: string;
  /** The error as the cell showed it (its stderr and error outputs), or the tail of nbconvert's log. */
  message: string;
  /** nbconvert's whole log (stdout and stderr). */
  log: string;
}

export interface NotebookReport {
  name: string;
  notebook: string;
  ok: boolean;
  seconds: number;
  /** The written report (when ok). */
  html?: string;
  bytes?: number;
  failure?: NotebookFailure;
}

export interface ExecuteOptions {
  /** Folder for NAME.html (created). */
  outDir: string;
  /** Seconds one cell may run (default 3600). */
  timeoutSeconds?: number;
  /** Set PIXEL_SMOKE=1 for the kernel. */
  smoke?: boolean;
  env?: NodeJS.ProcessEnv;
  root?: string;
  onProgress?: (progress: ReportProgress) => void;
  /** How often onProgress is called (default 1000 ms). */
  progressIntervalMs?: number;
}

interface NotebookJson {
  cells: { cell_type: string; source: string | string[] }[];
}

function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

function readNotebook(file: string): NotebookJson {
  let parsed: NotebookJson;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as NotebookJson;
  } catch (error) {
    throw new Error(`${file}: not a readable notebook (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed.cells)) throw new Error(`${file}: not a notebook (no "cells" list)`);
  return parsed;
}

/** Describes cell `index` of a notebook. */
export function cellInfo(notebook: NotebookJson, index: number): CellInfo | undefined {
  const cell = notebook.cells[index];
  if (!cell) return undefined;
  const codeIndexes = notebook.cells.map((c, i) => (c.cell_type === 'code' ? i : -1)).filter((i) => i >= 0);
  const source = sourceText(cell.source);
  const firstLine = source.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('//')) ?? source.split('\n')[0] ?? '';
  return { index, codeCell: codeIndexes.indexOf(index) + 1, codeCells: codeIndexes.length, firstLine: firstLine.trim() };
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

interface OutputJson {
  output_type: string;
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** The error text a failed cell showed: its stderr streams and error outputs, in order. */
export function errorTextFromOutputs(outputs: OutputJson[]): string {
  const parts: string[] = [];
  for (const o of outputs) {
    if (o.output_type === 'stream' && o.name === 'stderr') parts.push(sourceText(o.text ?? ''));
    if (o.output_type === 'error') {
      parts.push(o.traceback && o.traceback.length > 0 ? o.traceback.join('\n') : `${o.ename ?? 'Error'}: ${o.evalue ?? ''}`);
    }
  }
  return dropKernelFrames(stripAnsi(parts.join('\n'))).replace(/\n{3,}/g, '\n\n').trim();
}

/** Drops stack frames of tslab's and Node's own machinery (vm, tslab's executor), which say nothing about the cell. */
export function dropKernelFrames(text: string): string {
  return text.split('\n')
    .filter((line) => !/^\s+at .*(node:vm|node:internal|node_modules\/tslab\/|sigintHandlersWrap|processTicksAndRejections)/.test(line))
    .join('\n');
}

/** A readable cause from nbconvert's log when no cell reported an error. */
export function failureFromLog(log: string): string {
  const lines = stripAnsi(log).split('\n').filter((l) => l.trim() !== '');
  const hints: [RegExp, string][] = [
    [/NoSuchKernel|No such kernel/, 'Jupyter found no "tslab" kernel: is JUPYTER_PATH pointing at the project\'s jupyter/ folder?'],
    [/CellTimeoutError|timed out/i, 'A cell ran longer than the timeout (--timeout, seconds per cell).'],
    [/DeadKernelError|Kernel died/, 'The kernel died (out of memory, or a crash in native code): its last messages are above.'],
  ];
  const hint = hints.find(([re]) => re.test(log));
  const tail = lines.slice(-25).join('\n');
  return hint ? `${tail}\n\n${hint[1]}` : tail;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Adds the report header (what was run, when, how long) after <body ...>. */
export function finishHtml(html: string, info: { notebook: string; seconds: number; smoke: boolean; when: Date }): string {
  const minutes = Math.floor(info.seconds / 60);
  const seconds = String(Math.round(info.seconds % 60)).padStart(2, '0');
  const header = '<div class="pixel-report-header" style="font:13px sans-serif;color:#555;padding:8px 16px;border-bottom:1px solid #ddd">' +
    `pixel-notebooks report of <code>${escapeHtml(info.notebook)}</code>, executed ${info.when.toISOString().replace('T', ' ').slice(0, 19)} UTC ` +
    `in ${minutes}:${seconds}${info.smoke ? ' with <b>PIXEL_SMOKE=1</b> (tiny settings; the numbers are meaningless)' : ''}.</div>`;
  const body = /<body\b[^>]*>/i.exec(html);
  if (!body) return header + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + header + html.slice(at);
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Executes `notebookFile` and writes `<outDir>/<name>.html`; never throws for a failing notebook (see `ok`). */
export async function executeNotebook(notebookFile: string, name: string, options: ExecuteOptions): Promise<NotebookReport> {
  const root = options.root ?? projectRoot();
  const env = options.env ?? process.env;
  checkJupyterSetup(root, env);
  const notebook = readNotebook(notebookFile);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `pixel-report-${name}-`));
  const files = {
    error: path.join(work, 'error.json'),
    cell: path.join(work, 'cell.json'),
    status: path.join(work, 'status.txt'),
  };
  const childEnv: NodeJS.ProcessEnv = {
    ...jupyterEnv(env, root),
    PIXEL_REPORT_ERROR_FILE: files.error,
    PIXEL_REPORT_CELL_FILE: files.cell,
    PIXEL_REPORT_STATUS_FILE: files.status,
  };
  if (options.smoke) childEnv.PIXEL_SMOKE = '1';
  const smoke = /^(1|true|yes)$/i.test((childEnv.PIXEL_SMOKE ?? '').trim());
  const args = [
    'nbconvert',
    '--config', path.join(root, 'lib', 'report', 'nbconvert_config.py'),
    '--to', 'html',
    '--template-file', path.join(root, 'lib', 'report', 'report.html.j2'),
    '--execute',
    `--ExecutePreprocessor.timeout=${options.timeoutSeconds ?? 3600}`,
    '--output-dir', work,
    '--output', name,
    path.resolve(notebookFile),
  ];
  const started = Date.now();
  let log = '';
  const progress = () => {
    if (!options.onProgress) return;
    let cell: CellInfo | undefined;
    const cellJson = readIfExists(files.cell);
    if (cellJson) {
      try {
        cell = cellInfo(notebook, (JSON.parse(cellJson) as { cellIndex: number }).cellIndex);
      } catch {
        // being written right now: next tick
      }
    }
    const status = readIfExists(files.status)?.trim() || undefined;
    options.onProgress({ name, elapsedSeconds: (Date.now() - started) / 1000, cell, status });
  };
  const timer = setInterval(progress, options.progressIntervalMs ?? 1000);
  let code: number | null;
  try {
    code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(jupyterCommand(env), args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const collect = (chunk: Buffer) => {
        log += chunk.toString('utf8');
        if (log.length > 1_000_000) log = log.slice(-500_000);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', (exitCode, signal) => resolve(signal ? null : exitCode));
    });
  } finally {
    clearInterval(timer);
  }
  const seconds = (Date.now() - started) / 1000;
  try {
    const produced = path.join(work, `${name}.html`);
    if (code === 0 && fs.existsSync(produced)) {
      const html = finishHtml(fs.readFileSync(produced, 'utf8'), {
        notebook: path.relative(root, path.resolve(notebookFile)) || notebookFile, seconds, smoke, when: new Date(started),
      });
      fs.mkdirSync(options.outDir, { recursive: true });
      const out = path.join(options.outDir, `${name}.html`);
      writeFileAtomic(out, html);
      return { name, notebook: notebookFile, ok: true, seconds, html: out, bytes: Buffer.byteLength(html) };
    }
    const errorJson = readIfExists(files.error);
    if (errorJson) {
      const failure = JSON.parse(errorJson) as { cellIndex: number; reason: string; source: string; outputs: OutputJson[] };
      const text = errorTextFromOutputs(failure.outputs);
      const message = text || (failure.reason === 'aborted'
        ? 'the kernel aborted this cell (an earlier error dropped it)'
        : `the cell failed without error output; nbconvert's log:\n${failureFromLog(log)}`);
      return { name, notebook: notebookFile, ok: false, seconds, failure: { cell: cellInfo(notebook, failure.cellIndex), source: failure.source, message, log } };
    }
    // No cell reported an error (a timeout, a dead kernel, no kernel at all): the running cell, if any, and the log.
    let cell: CellInfo | undefined;
    const cellJson = readIfExists(files.cell);
    if (cellJson) cell = cellInfo(notebook, (JSON.parse(cellJson) as { cellIndex: number }).cellIndex);
    return {
      name, notebook: notebookFile, ok: false, seconds,
      failure: {
        cell, source: cell ? sourceText(notebook.cells[cell.index].source) : undefined, log,
        message: code === null ? `nbconvert was stopped by a signal\n${failureFromLog(log)}` : failureFromLog(log),
      },
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
