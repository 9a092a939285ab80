/**
 * The runs `npm run reproduce` trains and `results/README.md` tabulates, as plain data: each is the original
 * project's command (its README's `train-cnn.py` / `train-cond.py` lines) in our CLI's flags, or one of ours.
 * `argv` is exactly what `npm run train -- ...` takes: the reproduce command parses it with the training CLI's own
 * parser, so a run here means what the same flags mean there.
 */
import * as fs from 'fs';
import { isTaskName, TaskName } from '../data/dataset';
import { readJsonFile } from './result';

export interface ReproduceRun {
  /** Folder name under results/ and runs/reproduce/, and the argument of `npm run reproduce -- NAME`. */
  name: string;
  /** One line: what the run is and why it is in the table. */
  summary: string;
  task: TaskName;
  /** The training CLI's flags, as written on its command line (no --out or --resume: reproduce sets those). */
  argv: readonly string[];
  /** Where the run comes from: the original's command, or ours. */
  reference: string;
}

const ORIGINAL = "the original's README: `python train-cnn.py";

export const RUNS: readonly ReproduceRun[] = [
  {
    name: 'simple-5x30', task: 'mnist',
    summary: 'simple masked PixelCNN, 5 layers of 30 channels',
    argv: ['-m', 'simple', '-e', '15', '-b', '64', '-x', '5', '-k', '5', '-c', '30', '-l', '0.001'],
    reference: `${ORIGINAL} -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001 -m simple -t mnist\``,
  },
  {
    name: 'simple-9x63', task: 'mnist',
    summary: 'simple masked PixelCNN, 9 layers of 63 channels',
    argv: ['-m', 'simple', '-e', '15', '-b', '64', '-x', '9', '-k', '5', '-c', '63', '-l', '0.001'],
    reference: `${ORIGINAL} -e 15 -b 64 -x 9 -k 5 -c 63 -l 0.001 -m simple -t mnist\``,
  },
  {
    name: 'gated-5x30', task: 'mnist',
    summary: 'gated PixelCNN without the blind spot, 5 layers of 30 channels',
    argv: ['-m', 'gated', '-e', '15', '-b', '64', '-x', '5', '-k', '5', '-c', '30', '-l', '0.001'],
    reference: `${ORIGINAL} -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001 -m gated -t mnist\``,
  },
  {
    name: 'gated-9x63', task: 'mnist',
    summary: 'gated PixelCNN, 9 layers of 63 channels, 50 epochs at a tenth of the learning rate',
    argv: ['-m', 'gated', '-e', '50', '-b', '64', '-x', '9', '-k', '5', '-c', '63', '-l', '0.0001'],
    reference: `${ORIGINAL} -e 50 -b 64 -x 9 -k 5 -c 63 -l 0.0001 -m gated -t mnist\``,
  },
  {
    name: 'conditional-5x30', task: 'mnist',
    summary: 'class-conditional gated PixelCNN (the digit class as input), 5 layers of 30 channels',
    argv: ['-m', 'conditional', '-e', '15', '-b', '64', '-x', '5', '-k', '5', '-c', '30', '-l', '0.001'],
    reference: "the original's README: `python train-cond.py -e 15 -b 64 -x 5 -k 5 -c 30 -l 0.001 -m gated -t mnist`",
  },
  {
    name: 'gated-blindspot-5x30', task: 'mnist',
    summary: "gated-5x30 with the original's vertical stack and its blind spot: the blind spot's cost in bits/dim",
    argv: ['-m', 'gated-blindspot', '-e', '15', '-b', '64', '-x', '5', '-k', '5', '-c', '30', '-l', '0.001'],
    reference: 'ours, the gated-5x30 run with the blind-spot variant of the network (notebook 05-blind-spot)',
  },
  {
    name: 'vae-up', task: 'mnist',
    summary: 'PixelVAE (decoder map, z of 32) over a 5x30 gated PixelCNN, with notebook 04\'s remedies for posterior collapse',
    // Defaults of the original's train-vae.py (z 32, widths 16/64/128, 64-channel map); q(z|x) starting narrow and free
    // bits as notebook 04 measured them: with neither, z collapses (KL 0) and the row is a plain PixelCNN's.
    argv: ['-m', 'vae-up', '-e', '15', '-b', '64', '-x', '5', '-k', '5', '-c', '30', '-l', '0.001', '--posterior-logvar-init', '-4', '--free-bits', '0.5'],
    reference: "ours (the original's VAE is unfinished and its README gives no command)",
  },
  {
    name: 'cifar-gated-12x30', task: 'cifar10',
    summary: 'gated PixelCNN on CIFAR-10, 12 layers of 30 channels',
    argv: ['-t', 'cifar10', '-m', 'gated', '-e', '15', '-b', '64', '-x', '12', '-k', '5', '-c', '30', '-l', '0.001'],
    reference: `${ORIGINAL} -e 15 -b 64 -x 12 -k 5 -c 30 -l 0.001 -m gated -t cifar10\``,
  },
];

/** The runs of `names` in the list's order; an unknown name is an error listing the known ones. */
export function selectRuns(runs: readonly ReproduceRun[], names: readonly string[]): ReproduceRun[] {
  const unknown = names.filter((name) => !runs.some((run) => run.name === name));
  if (unknown.length > 0) {
    throw new Error(`unknown run${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; expected one of ${runs.map((run) => run.name).join(', ')}`);
  }
  return names.length === 0 ? [...runs] : runs.filter((run) => names.includes(run.name));
}

const NAME = /^[a-z0-9][a-z0-9.-]*$/;
/** Flags reproduce sets itself (the work folder), or that would make the run depend on a local path. */
const RESERVED = ['--out', '--resume'];

/** Checks one run's fields; `where` names the run in errors (a file and an index). */
export function checkRun(value: unknown, where: string): ReproduceRun {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is ${JSON.stringify(value)}; expected an object { name, summary, task, argv, reference }`);
  const run = value as Record<string, unknown>;
  for (const field of ['name', 'summary', 'task', 'reference']) {
    if (typeof run[field] !== 'string') throw new Error(`${where}: field "${field}" is ${JSON.stringify(run[field])}; expected a string`);
  }
  const name = run.name as string;
  if (!NAME.test(name)) throw new Error(`${where}: field "name" is ${JSON.stringify(name)}; expected lower-case letters, digits, dots and dashes (it names folders)`);
  if (!isTaskName(run.task as string)) throw new Error(`${where}: field "task" is ${JSON.stringify(run.task)}; expected a task name such as "mnist"`);
  const argv = run.argv;
  if (!Array.isArray(argv) || !argv.every((word) => typeof word === 'string')) throw new Error(`${where}: field "argv" is ${JSON.stringify(argv)}; expected a list of strings`);
  const reserved = argv.filter((word) => RESERVED.some((flag) => word === flag || word.startsWith(`${flag}=`)));
  if (reserved.length > 0) throw new Error(`${where}: field "argv" has ${reserved.join(', ')}; reproduce sets the run folder itself`);
  return { name, summary: run.summary as string, task: run.task as TaskName, argv: [...argv], reference: run.reference as string };
}

/** A run list from a JSON file (`--runs-file`: tests and experiments with other lists); names must be unique. */
export function readRunList(file: string): ReproduceRun[] {
  if (!fs.existsSync(file)) throw new Error(`--runs-file ${file} does not exist`);
  const parsed = readJsonFile(file);
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON list of runs, got ${typeof parsed}`);
  const runs = parsed.map((value, i) => checkRun(value, `${file}: run ${i}`));
  const seen = new Set<string>();
  for (const run of runs) {
    if (seen.has(run.name)) throw new Error(`${file}: two runs are named ${run.name}; names must be unique`);
    seen.add(run.name);
  }
  return runs;
}
