/**
 * results/README.md, generated: one row per run of the list, in its order, with the figures of the run's
 * result.json, or "pending" with how far its work folder has come (and the time the rest will take at its first
 * epoch's pace) or why it cannot run here. No figure is typed: each comes from a file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ignoresZ } from '../diagnostics/latent-usage';
import { writeFileAtomic } from '../io/atomic-file';
import { compareWithReference, REFERENCE_FILE, ReferenceComparison } from './reference';
import { readHistory, RESULT_FILE, readResult, ResultRecord } from './result';
import { ReproduceRun } from './runs';
import { SUBSET_IMAGES } from './verify';
import { progressOf } from './partial';
import { formatSpan } from '../duration';
import { missingData } from './work';
import { describePending } from './timing';
import { writeReadmeBlock } from './readme-block';

export type RowStatus =
  | { state: 'done'; result: ResultRecord; reference?: ReferenceComparison }
  | { state: 'pending'; reason: string; parameters?: number; epochsDone?: number; epochs?: number };

export interface TableRow {
  run: ReproduceRun;
  status: RowStatus;
}

const count = (n: number) => n.toLocaleString('en-US');
const bits = (n: number) => n.toFixed(4);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `1.2345` or, with parts, `1.2345 = reconstruction 1.2000 + kl 0.0345`; then the number of test images, what a
 * PixelVAE's own z saves, and the PyTorch reference's figure after as many epochs (ours then too, where the
 * reference is not finished).
 */
function bitsCell(result: ResultRecord, reference?: ReferenceComparison): string {
  const { bitsPerDim, parts, images } = result.test;
  const sum = parts ? ` = ${Object.entries(parts).map(([name, value]) => `${name} ${bits(value)}`).join(' + ')}` : '';
  const usage = result.subset.latent;
  const latent = usage ? `; on the first ${count(usage.images)}, its own z saves ${usage.bitsPerImage.toFixed(1)} bits per image${ignoresZ(usage) ? ': z ignored' : ''}` : '';
  const beside = !reference ? ''
    : reference.epochs === result.epochs ? `; PyTorch reference ${bits(reference.theirs)}`
      : `; after ${plural(reference.epochs, 'epoch')} ${bits(reference.ours)}, PyTorch reference ${bits(reference.theirs)}`;
  return `${bits(bitsPerDim)}${sum} (${count(images)} images${latent}${beside})`;
}

/** The section that sets runs beside their PyTorch references, or nothing where no run has one. */
function referenceSection(rows: readonly TableRow[]): string[] {
  const lines = rows.flatMap(({ run, status }) => {
    if (status.state !== 'done' || !status.reference) return [];
    const { reference, epochs, ours, theirs } = status.reference;
    const difference = ours - theirs;
    const seconds = reference.epochs.slice(0, epochs).reduce((sum, epoch) => sum + epoch.seconds, 0);
    return [`- \`${run.name}\` after ${plural(epochs, 'epoch')} of ${status.result.epochs}: ${bits(ours)} here, ${bits(theirs)} in PyTorch ` +
      `(ours minus PyTorch: ${difference >= 0 ? '+' : '-'}${bits(Math.abs(difference))} bits/dim); PyTorch ${reference.torch} on ${plural(reference.threads, 'thread')}, ` +
      `${formatSpan(seconds)} for those epochs: \`/usr/bin/python3 ${reference.script} ${reference.argv.join(' ')}\`.`];
  });
  if (lines.length === 0) return [];
  return [
    '## Beside PyTorch',
    '',
    `From \`results/NAME/${REFERENCE_FILE}\`, written by \`bench/torch_train_mnist.py --export\`: the original's full masked`,
    'kernels in PyTorch, trained on the same MNIST files with the run\'s flags (its own initialisation and data order),',
    'evaluated on the same test images after each epoch. Each line compares the two after the same number of epochs.',
    '',
    ...lines,
    '',
  ];
}

function backendCell({ backend }: ResultRecord): string {
  const threads = backend.threads === null ? '' : `, ${plural(backend.threads, 'thread')}`;
  return `${backend.name}${threads}${backend.workers > 0 ? ` + ${plural(backend.workers, 'helper worker')}` : ''}`;
}

/** The run's line of the table. */
export function renderRow({ run, status }: TableRow): string {
  const cells = [`\`${run.name}\``, `\`${run.argv.join(' ')}\``];
  if (status.state === 'done') {
    const { result } = status;
    cells.push(count(result.parameters), String(result.epochs), bitsCell(result, status.reference), formatSpan(result.wallSeconds), backendCell(result), result.date.slice(0, 10));
  } else {
    const epochs = status.epochsDone !== undefined && status.epochs !== undefined ? `${status.epochsDone} of ${status.epochs}` : '—';
    cells.push(status.parameters !== undefined ? count(status.parameters) : '—', epochs, `pending: ${status.reason}`, '—', '—', '—');
  }
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** The whole of results/README.md. */
export function renderTable(rows: readonly TableRow[]): string {
  const lines = [
    '# Results: the original\'s runs, reproduced',
    '',
    'Generated by `npm run reproduce` (lib/results/table.ts): do not edit; every figure comes from `results/NAME/result.json`',
    'or, for a run still training, from its work folder `runs/reproduce/NAME/`.',
    '',
    'Each row is one run of `lib/results/runs.ts`: the original project\'s MNIST and CIFAR-10 commands in our flags, plus our',
    'PixelVAE default and the blind-spot variant of the 5x30 gated PixelCNN. `npm run reproduce -- NAME` reproduces a row:',
    'it trains the run with exactly the flags shown (the same as `npm run train -- FLAGS`) in `runs/reproduce/NAME/`,',
    'resumably (interrupt it and run it again: it continues from the last epoch\'s checkpoint), then exports it to',
    '`results/NAME/`: `weights.ckpt` (model config and weights only), `history.json` (train/test bits/dim per epoch),',
    '`grid.png` (12x12 samples of the final model: top half from scratch, bottom half completing test images) and',
    '`result.json`. `npm run reproduce -- --estimate` says how long the pending runs will take, at their first epoch\'s',
    'pace; a run not started is timed over its first steps instead (`npm run reproduce -- --time 20 NAME`, kept in',
    '`results/NAME/timing.json`). A run that does not finish in one sitting is committed as it stands',
    '(`npm run reproduce -- --keep-partial`: its checkpoint in `results/NAME/partial/`), and `npm run reproduce -- NAME`',
    'on any machine continues it from there.',
    '',
    '- **test bits/dim**: the last epoch\'s evaluation on the test set (all of it unless the run limits it; the image',
    '  count is given). PixelVAE: the negative ELBO, reconstruction + KL, and how many bits per image its PixelCNN saves',
    `  given each image's own z rather than another image's (on the first ${count(SUBSET_IMAGES)} test images; about 0: it ignores z,`,
    '  posterior collapse, whatever the KL). Lower bits/dim is better.',
    `- Each result also records the bits/dim of its \`weights.ckpt\` on the first ${count(SUBSET_IMAGES)} test images, measured at`,
    '  export; a test recomputes it from the weights file (`verifyResult` in lib/results/verify.ts).',
    '- **wall time**: training and evaluation summed over the epochs; **backend**: the compute backend, its threads and',
    '  the helper worker threads sharing each step; **date**: when training finished.',
    '',
    '| run | flags | parameters | epochs | test bits/dim | wall time | backend | date |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(renderRow),
    '',
    ...referenceSection(rows),
    '## Runs',
    '',
    ...rows.map(({ run }) => `- \`${run.name}\`: ${run.summary}. Source: ${run.reference}. Reproduce: \`npm run reproduce -- ${run.name}\`.`),
    '',
  ];
  return lines.join('\n');
}

/** A run's row from its files: results/NAME/result.json if it was made with the run's flags, else its work folder. */
export function rowFor(run: ReproduceRun, resultsRoot: string, workRoot: string): TableRow {
  const resultDir = path.join(resultsRoot, run.name);
  if (fs.existsSync(path.join(resultDir, RESULT_FILE))) {
    const result = readResult(resultDir);
    if (result.argv.join(' ') === run.argv.join(' ')) {
      const reference = compareWithReference(run, resultDir, readHistory(resultDir), result.test.images);
      return { run, status: { state: 'done', result, ...(reference ? { reference } : {}) } };
    }
  }
  const work = progressOf(path.join(workRoot, run.name), resultDir);
  const known = work.checkpoint ? { parameters: work.parameters, epochsDone: work.epochsDone, epochs: work.epochs } : {};
  const reproduce = `\`npm run reproduce -- ${run.name}\``;
  const missing = missingData(run.task);
  const reason = work.finished ? `trained, not exported yet (${reproduce} exports it)`
    : missing && !work.checkpoint ? `${missing}; ${reproduce} downloads it where there is a network, and trains`
      : describePending(work, resultDir);
  return { run, status: { state: 'pending', reason, ...known } };
}

/**
 * Rewrites `resultsRoot/README.md` from the files, and the results block of the README beside `resultsRoot` (the
 * project's, lib/results/readme-block.ts) where it has one; returns the table's text.
 */
export function writeTable(runs: readonly ReproduceRun[], resultsRoot: string, workRoot: string): string {
  const rows = runs.map((run) => rowFor(run, resultsRoot, workRoot));
  const text = renderTable(rows);
  fs.mkdirSync(resultsRoot, { recursive: true });
  writeFileAtomic(path.join(resultsRoot, 'README.md'), text);
  writeReadmeBlock(rows, resultsRoot);
  return text;
}
