/**
 * Shared set-up for the tests that drive the real classic notebook page (live-ui.test.ts, test/e2e/): start
 * `npm run notebook` on a free port, open a scratch copy of a notebook in headless Chromium (playwright-core,
 * Debian's /usr/bin/chromium: no browser is ever downloaded), run cells, read the page, and stop the server and
 * its kernels again, also when a test fails.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';

export const root = path.resolve(__dirname, '..', '..');
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
let playwright: typeof import('playwright-core') | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  playwright = require('playwright-core') as typeof import('playwright-core');
} catch {
  playwright = undefined;
}

/** Why these tests cannot run here, or false. */
export const skipReason: string | false = !CHROMIUM ? 'chromium is not installed' : !playwright ? 'playwright-core is not installed' : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface NotebookServer {
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
  output(): { stdout: string; stderr: string };
  /** Ctrl-C to the wrapper (it stops Jupyter and the kernels); then SIGKILL to Jupyter's process group and kernels if needed. */
  stop(): Promise<void>;
}

/** Every process as [pid, parent pid, command line]. */
function processes(): [number, number, string][] {
  const list: [number, number, string][] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      list.push([Number(entry), ppid, fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')]);
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/** The pid of a direct child of `parent` whose command line mentions `needle`. */
function childWith(parent: number, needle: string): number | undefined {
  return processes().find(([, ppid, cmdline]) => ppid === parent && cmdline.includes(needle))?.[0];
}

/** The children of `pid`, their children, and so on (kernels run in sessions of their own). */
function descendants(pid: number): number[] {
  const all = processes();
  const found: number[] = [];
  for (let frontier = [pid]; frontier.length > 0;) {
    frontier = all.filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    found.push(...frontier);
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `scripts/notebook.ts` (what `npm run notebook` runs) with `env` added, searching for a free port from
 * `port`; resolves once the URL is printed. The server is stopped again if it never gets that far.
 */
export async function startNotebookServer(port: number, env: NodeJS.ProcessEnv = {}): Promise<NotebookServer> {
  // Run records go to a scratch folder unless the test names one: a test's runs must not join a user's runs/.
  const records = env.PIXEL_RUNS_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'notebook-runs-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/notebook.ts'), '--port', String(port)], {
    cwd: root, env: { ...process.env, ...env, PIXEL_RUNS_DIR: records }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // Jupyter runs detached (its own process group): remember it, so that it can be killed even if the wrapper is.
  let jupyter: number | undefined;
  const stop = async () => {
    jupyter ??= child.pid === undefined ? undefined : childWith(child.pid, 'notebook');
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      // (a timer that does not hold the test process open for 20 s once the wrapper has exited)
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 20_000); })]);
      clearTimeout(timer);
    }
    if (jupyter !== undefined && alive(jupyter)) {
      for (const pid of [...descendants(jupyter), -jupyter]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + 60_000;
  while (!/token=/.test(stdout) && Date.now() < deadline && child.exitCode === null) await sleep(200);
  const url = /(http:\/\/127\.0\.0\.1:\d+)\/tree\/notebooks\?token=([0-9a-f]+)/.exec(stdout);
  if (!url) {
    await stop();
    throw new Error(`npm run notebook printed no URL; stdout: ${stdout}\nstderr: ${stderr}`);
  }
  jupyter = childWith(child.pid!, 'notebook');
  return { base: url[1], token: url[2], output: () => ({ stdout, stderr }), stop };
}

/** Headless Chromium (Debian's). */
export function launchChromium(): Promise<Browser> {
  return playwright!.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

/**
 * Copies notebooks/<name>.ipynb to runs/<folder>/ (ignored by git), so that running and editing it leaves the
 * committed notebook alone; returns the copy's path relative to the project root.
 */
export function scratchCopy(name: string, folder: string): string {
  const dir = path.join(root, 'runs', folder);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, 'notebooks', `${name}.ipynb`), path.join(dir, `${name}.ipynb`));
  return path.relative(root, path.join(dir, `${name}.ipynb`));
}

type JupyterWindow = {
  Jupyter: {
    notebook: {
      kernel?: { is_connected?: () => boolean; name?: string };
      metadata: { kernelspec?: { name?: string; display_name?: string } };
      set_autosave_interval(ms: number): void;
      execute_all_cells(): void;
      select(index: number): void;
      command_mode(): void;
      get_cell_elements(): ArrayLike<HTMLElement>;
    };
  };
};

/** Opens `notebookPath` (relative to the root) and waits for its kernel; autosave is switched off. */
export async function openNotebook(browser: Browser, server: NotebookServer, notebookPath: string,
  viewport = { width: 1200, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${server.base}/notebooks/${notebookPath}?token=${server.token}`);
  await page.waitForFunction(() => {
    const nb = (window as unknown as Partial<JupyterWindow>).Jupyter?.notebook;
    return Boolean(nb?.kernel?.is_connected?.());
  }, null, { timeout: 90_000 });
  await page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.set_autosave_interval(0));
  return page;
}

/** What the pixel displays show on the page right now. */
export interface PageState {
  plotly: string;
  chartSvgs: number;
  progress: string;
  /** naturalWidth of every PNG output */
  grids: number[];
  results: boolean;
  stderr: string;
  /** the "parameters" row of the prepare cell's summary table, as a number (NaN if absent) */
  parameters: number;
}

export function pageState(page: Page): Promise<PageState> {
  return page.evaluate((): PageState => {
    const row = Array.from(document.querySelectorAll('.pixel-summary tr')).find((tr) => tr.querySelector('th')?.textContent === 'parameters');
    return {
      plotly: typeof (window as unknown as { Plotly?: unknown }).Plotly,
      chartSvgs: document.querySelectorAll('.pixel-chart .main-svg').length,
      progress: document.querySelector('.pixel-progress')?.textContent ?? '',
      grids: Array.from(document.querySelectorAll('.output_png img')).map((i) => (i as HTMLImageElement).naturalWidth),
      results: Boolean(document.querySelector('.pixel-results')),
      stderr: Array.from(document.querySelectorAll('.output_stderr')).map((e) => e.textContent ?? '').join('\n'),
      parameters: Number((row?.querySelector('td')?.textContent ?? '').replace(/,/g, '') || NaN),
    };
  });
}

/**
 * Polls the page every 250 ms, handing each state to `watch`, until `done` says so or `timeoutMs` passes;
 * returns the last state.
 */
export async function pollPage(page: Page, done: (state: PageState) => boolean | Promise<boolean>, timeoutMs: number,
  watch: (state: PageState) => void = () => {}): Promise<PageState> {
  const end = Date.now() + timeoutMs;
  let state = await pageState(page);
  for (;;) {
    watch(state);
    if (await done(state)) return state;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms; last page state ${JSON.stringify(state)}`);
    await sleep(250);
    state = await pageState(page);
  }
}

/** Runs every cell (*Cell → Run All*). */
export function runAllCells(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.execute_all_cells());
}

/** Selects cell `index` and presses Shift+Enter, as a user does (markdown cells render). */
export async function pressShiftEnterOn(page: Page, index: number): Promise<void> {
  await page.evaluate((i) => {
    const nb = (window as unknown as JupyterWindow).Jupyter.notebook;
    nb.select(i);
    nb.command_mode();
  }, index);
  await page.keyboard.press('Shift+Enter');
}

/**
 * Whether cell `index` is still running (or queued): the classic page marks it with the `running` class, and
 * until the kernel reports idle (on the same channel as, and after, the cell's outputs) the header icon is busy.
 */
export function cellRunning(page: Page, index: number): Promise<boolean> {
  return page.evaluate((i) => (window as unknown as JupyterWindow).Jupyter.notebook.get_cell_elements()[i].classList.contains('running') ||
    Boolean(document.querySelector('#kernel_indicator_icon.kernel_busy_icon')), index);
}

/** Shift+Enter on cell `index`, then waits until it has finished; fails on anything written to stderr. */
export async function runCell(page: Page, index: number, timeoutMs = 180_000): Promise<PageState> {
  await pressShiftEnterOn(page, index);
  const state = await pollPage(page, async (s) => s.stderr !== '' || !(await cellRunning(page, index)), timeoutMs);
  assert.equal(state.stderr, '', `cell ${index} wrote to stderr`);
  return state;
}

/**
 * Runs `code` in the page's kernel outside any cell (as the notebook's own tooltips and completions do) and
 * returns what it printed once the kernel is idle again: tslab prints the value of a last expression.
 */
export function kernelPrint(page: Page, code: string, timeoutMs = 30_000): Promise<string> {
  // Source text, not a function: tsx would wrap the named callbacks in a __name() helper the page does not have.
  return page.evaluate(`new Promise((resolve, reject) => {
    const [source, ms] = ${JSON.stringify([code, timeoutMs])};
    let printed = '';
    const timer = setTimeout(() => reject(new Error('the kernel did not finish ' + source + ' in ' + ms + ' ms (printed: ' + printed + ')')), ms);
    const iopub = {
      output(msg) {
        if (msg.msg_type === 'stream') printed += msg.content.text;
        if (msg.msg_type === 'error') printed += msg.content.ename + ': ' + msg.content.evalue;
      },
      status(msg) {
        if (msg.content.execution_state !== 'idle') return;
        clearTimeout(timer);
        resolve(printed);
      },
    };
    Jupyter.notebook.kernel.execute(source, { iopub }, { silent: false, store_history: false });
  })`) as Promise<string>;
}

/** *Kernel -> Interrupt* from the page's menu bar, as a user does (Jupyter then sends the kernel SIGINT). */
export async function interruptFromMenu(page: Page): Promise<void> {
  await page.click('#kernellink');
  await page.click('#int_kernel > a');
}

/** The number of cells in the open notebook. */
export function cellCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.get_cell_elements().length);
}

/** The kernel the page runs: its name, the notebook's kernelspec and the name shown in the header. */
export function kernelShown(page: Page): Promise<{ kernel: string; kernelspec: string; indicator: string }> {
  return page.evaluate(() => {
    const nb = (window as unknown as JupyterWindow).Jupyter.notebook;
    return {
      kernel: nb.kernel?.name ?? '',
      kernelspec: nb.metadata.kernelspec?.name ?? '',
      indicator: document.querySelector('#kernel_indicator .kernel_indicator_name')?.textContent ?? '',
    };
  });
}

/**
 * Starts recording, in the page, every text the progress line shows and whether a chart was on the page at the
 * time: a MutationObserver sees each in-place update, however short-lived (polling can miss fast smoke runs).
 */
export function recordProgress(page: Page): Promise<void> {
  return page.evaluate(() => {
    const record = { states: [] as string[], chartWhileTraining: false };
    (window as unknown as { pixelProgressRecord: typeof record }).pixelProgressRecord = record;
    // (an inline callback: tsx would wrap a named function in a __name() helper the page does not have)
    new MutationObserver(() => {
      const text = document.querySelector('.pixel-progress')?.textContent ?? '';
      if (!/^epoch /.test(text)) return;
      if (record.states[record.states.length - 1] !== text) record.states.push(text);
      if (document.querySelector('.pixel-chart .main-svg')) record.chartWhileTraining = true;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** What recordProgress saw so far: the distinct progress lines in order, and whether a chart was drawn meanwhile. */
export function recordedProgress(page: Page): Promise<{ states: string[]; chartWhileTraining: boolean }> {
  return page.evaluate(() => (window as unknown as { pixelProgressRecord: { states: string[]; chartWhileTraining: boolean } }).pixelProgressRecord);
}

/**
 * Edits cell `index` of a scratch copy on disk, before it is opened: each pattern must match and is replaced
 * (e.g. smaller settings in the configuration cell).
 */
export function editNotebookCell(notebookPath: string, index: number, edits: [RegExp, string][]): void {
  const file = path.join(root, notebookPath);
  const notebook = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { source: string | string[] }[] };
  const cell = notebook.cells[index];
  let source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
  for (const [pattern, replacement] of edits) {
    assert.match(source, pattern, `cell ${index} of ${notebookPath} has ${pattern}`);
    source = source.replace(pattern, replacement);
  }
  cell.source = source;
  fs.writeFileSync(file, JSON.stringify(notebook, null, 1));
}

type CodeMirrorElement = { CodeMirror: { getValue(): string; posFromIndex(i: number): unknown; setSelection(a: unknown, b: unknown): void; focus(): void } };

/**
 * Edits cell `index` in the page as a user does: clicks into its editor, selects the first `from` and types `to`
 * over it. Returns the cell's text afterwards.
 */
export async function typeOverInCell(page: Page, index: number, from: string, to: string): Promise<string> {
  const editor = page.locator('.cell').nth(index).locator('.CodeMirror');
  await editor.click();
  const found = await editor.evaluate((element, text) => {
    const cm = (element as unknown as CodeMirrorElement).CodeMirror;
    const at = cm.getValue().indexOf(text);
    if (at < 0) return false;
    cm.setSelection(cm.posFromIndex(at), cm.posFromIndex(at + text.length));
    cm.focus();
    return true;
  }, from);
  assert.ok(found, `cell ${index} has ${from}`);
  await page.keyboard.type(to);
  return editor.evaluate((element) => (element as unknown as CodeMirrorElement).CodeMirror.getValue());
}
