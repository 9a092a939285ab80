/**
 * `npm run report [-- NAME|PATH ...]`: executes notebooks headlessly and writes reports/NAME.html for each.
 *
 *   npm run report                      every notebooks/*.ipynb
 *   npm run report -- 02-gated          one notebook by name (or a unique prefix: 02)
 *   npm run report -- path/to/x.ipynb   any notebook file
 *   PIXEL_SMOKE=1 npm run report        (or --smoke) tiny settings: the whole set in a few minutes
 *
 * Shows which notebook runs, its cell, the notebook's own progress line and the elapsed time. Exits 1 when any
 * notebook failed (after printing the failing cell's error), 2 on a usage error.
 *
 * Node only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError } from 'commander';
import { executeNotebook, NotebookReport, ReportProgress } from './execute';
import { projectRoot } from '../project-root';
import { formatDuration } from '../duration';

export interface NotebookTarget {
  name: string;
  file: string;
}

/** All notebooks of the project, in name order. */
export function listNotebooks(root = projectRoot()): NotebookTarget[] {
  const dir = path.join(root, 'notebooks');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort()
    .map((f) => ({ name: f.replace(/\.ipynb$/, ''), file: path.join(dir, f) }));
}

/** A name (02-gated), a unique prefix (02) or a path to an .ipynb file. */
export function resolveTarget(arg: string, root = projectRoot()): NotebookTarget {
  if (arg.endsWith('.ipynb') || arg.includes('/')) {
    const file = path.resolve(arg);
    if (!fs.existsSync(file)) throw new Error(`${arg}: no such notebook file`);
    return { name: path.basename(file).replace(/\.ipynb$/, ''), file };
  }
  const all = listNotebooks(root);
  const exact = all.find((n) => n.name === arg);
  if (exact) return exact;
  const prefixed = all.filter((n) => n.name.startsWith(arg));
  if (prefixed.length === 1) return prefixed[0];
  const names = all.map((n) => n.name).join(', ') || '(none)';
  throw new Error(prefixed.length > 1
    ? `"${arg}" matches several notebooks: ${prefixed.map((n) => n.name).join(', ')}`
    : `no notebook named "${arg}" in notebooks/ (have: ${names}); pass a path to run another file`);
}

function indent(text: string, by = '    '): string {
  return text.split('\n').map((l) => by + l).join('\n');
}

/** The failure as printed on the terminal. */
export function formatFailure(report: NotebookReport): string {
  const f = report.failure;
  if (!f) return '';
  const where = f.cell ? ` in code cell ${f.cell.codeCell} of ${f.cell.codeCells} (notebook cell ${f.cell.index + 1})` : '';
  let text = `FAILED: ${report.name} after ${formatDuration(report.seconds)}${where}\n`;
  if (f.source) text += `  cell:\n${indent(f.source.trimEnd())}\n`;
  text += `  error:\n${indent(f.message.trimEnd())}\n`;
  return text;
}

function progressLine(index: number, count: number, p: ReportProgress): string {
  let line = `[${index}/${count}] ${p.name} ${formatDuration(p.elapsedSeconds)}`;
  if (p.cell) line += ` · cell ${p.cell.codeCell}/${p.cell.codeCells}: ${p.cell.firstLine}`;
  else line += ' · starting the kernel';
  if (p.status && p.cell && /train/.test(p.cell.firstLine)) line += ` · ${p.status}`;
  return line;
}

export interface ReportCommandOptions {
  out: string;
  smoke: boolean;
  timeout: number;
}

export async function runReports(targets: NotebookTarget[], options: ReportCommandOptions, stream: NodeJS.WriteStream = process.stderr): Promise<NotebookReport[]> {
  const tty = Boolean(stream.isTTY);
  const reports: NotebookReport[] = [];
  const smoke = options.smoke || /^(1|true|yes)$/i.test((process.env.PIXEL_SMOKE ?? '').trim());
  stream.write(`report: ${targets.length} notebook${targets.length === 1 ? '' : 's'} -> ${options.out}/` +
    `${smoke ? ' (PIXEL_SMOKE=1: tiny settings)' : ''}\n`);
  for (const [i, target] of targets.entries()) {
    const n = i + 1;
    stream.write(`[${n}/${targets.length}] ${target.name}: executing ${path.relative(process.cwd(), target.file) || target.file}\n`);
    let lastPrinted = 0;
    let lastCell = -1;
    let lastStatus = '';
    const report = await executeNotebook(target.file, target.name, {
      outDir: options.out, smoke: options.smoke, timeoutSeconds: options.timeout,
      onProgress: (p) => {
        const line = progressLine(n, targets.length, p);
        if (tty) {
          const width = (stream.columns || 120) - 1;
          stream.write(`\r\x1b[K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
        } else {
          // Logs: a line when the cell or (every 30 s at most) the status changes, and every 60 s regardless.
          const cell = p.cell?.index ?? -1;
          const changed = cell !== lastCell || (p.status !== undefined && p.status !== lastStatus && p.elapsedSeconds - lastPrinted >= 30);
          if (changed || p.elapsedSeconds - lastPrinted >= 60) {
            stream.write(`${line}\n`);
            lastPrinted = p.elapsedSeconds;
            lastCell = cell;
            lastStatus = p.status ?? '';
          }
        }
      },
    });
    if (tty) stream.write('\r\x1b[K');
    if (report.ok) {
      stream.write(`[${n}/${targets.length}] ${target.name}: done in ${formatDuration(report.seconds)} -> ` +
        `${path.relative(process.cwd(), report.html!) || report.html} (${(report.bytes! / 1e6).toFixed(1)} MB)\n`);
    } else {
      stream.write(formatFailure(report));
    }
    reports.push(report);
  }
  const failed = reports.filter((r) => !r.ok);
  if (targets.length > 1 || failed.length > 0) {
    stream.write(`report: ${reports.length - failed.length} of ${reports.length} succeeded` +
      `${failed.length ? `; failed: ${failed.map((r) => r.name).join(', ')}` : ''} ` +
      `(${formatDuration(reports.reduce((s, r) => s + r.seconds, 0))} in all)\n`);
  }
  return reports;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('report')
    .description('Execute notebooks headlessly (jupyter nbconvert --execute) and write one self-contained HTML report each')
    .argument('[notebooks...]', 'names in notebooks/ (02-gated, or a unique prefix such as 02) or .ipynb paths; default: all')
    .option('-o, --out <dir>', 'folder for NAME.html', path.join(projectRoot(), 'reports'))
    .option('--smoke', 'tiny settings (sets PIXEL_SMOKE=1 for the kernel)', false)
    .option('--timeout <seconds>', 'longest a single cell may run', positiveInteger, 3600)
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const options = program.opts<ReportCommandOptions>();
  let targets: NotebookTarget[];
  try {
    targets = program.args.length > 0 ? program.args.map((a) => resolveTarget(a)) : listNotebooks();
  } catch (error) {
    process.stderr.write(`report: ${(error as Error).message}\n`);
    return 2;
  }
  if (targets.length === 0) {
    process.stderr.write('report: no notebooks found in notebooks/\n');
    return 2;
  }
  const reports = await runReports(targets, { ...options, out: path.resolve(options.out) });
  return reports.every((r) => r.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error: Error) => {
    process.stderr.write(`report: ${error.message}\n`);
    process.exitCode = 1;
  });
}
