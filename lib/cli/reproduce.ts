/**
 * `npm run reproduce [-- NAME...]`: trains each named run of lib/results/runs.ts (default: all whose data is on
 * this machine) in its work folder runs/reproduce/NAME, resumably: a folder with a checkpoint is continued, else
 * the run starts with its flags, through the training CLI's own `train()`. A finished run is exported to
 * results/NAME/ (lib/results/export.ts), then results/README.md is rewritten (lib/results/table.ts). A run whose
 * export is up to date with its work folder is skipped. `--time N` trains nothing lasting: it times a run's first N
 * steps for the estimate of a run whose first epoch alone is hours (lib/results/timing.ts). Node-only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError } from 'commander';
import { numberParser } from './options';
import { projectRoot } from '../project-root';
import { Dataset } from '../data/dataset';
import { disposeRun } from '../train/run';
import { parseRunArgv } from '../results/argv';
import { exportRun } from '../results/export';
import { GRID_FILE, HISTORY_FILE, readResult, RESULT_FILE, WEIGHTS_FILE } from '../results/result';
import { readRunList, ReproduceRun, RUNS, selectRuns } from '../results/runs';
import { dropPartial, keepPartial, progressOf, seedFromPartial } from '../results/partial';
import { describePending, describeTiming, dropTiming, timeRun, TIMING_FILE, writeTiming } from '../results/timing';
import { writeTable } from '../results/table';
import { describeProgress, lockWork, missingData, readWork, sha256File, WorkState } from '../results/work';
import { train } from './train';

export interface ReproduceOptions {
  /** Runs to reproduce, by name; empty: every run whose data is on this machine. */
  names: readonly string[];
  runs: readonly ReproduceRun[];
  /** Where exports go (results/) and where runs train (runs/reproduce/). */
  results: string;
  work: string;
  /** Train nothing, export nothing: say where each run stands and how long the rest will take. */
  estimate?: boolean;
  /** Train nothing: export the finished runs. */
  exportOnly?: boolean;
  /** Train nothing: keep each unfinished run's checkpoint in results/NAME/partial/ (to commit, and continue elsewhere). */
  keepPartial?: boolean;
  /** Train nothing lasting: time this many first training steps of each run not started (results/NAME/timing.json). */
  timeSteps?: number;
  log?: (line: string) => void;
}

/**
 * Why results/NAME needs no new export, or undefined: it holds every file, was made with the run's flags, and from
 * the work folder's current checkpoint (or the work folder is gone: the results are all there is of the run).
 */
function upToDate(run: ReproduceRun, resultDir: string, work: WorkState, log: (line: string) => void): string | undefined {
  // A folder holding only a partial run or a timing has nothing exported yet.
  if (!fs.existsSync(path.join(resultDir, RESULT_FILE))) return undefined;
  let result;
  try {
    result = readResult(resultDir);
  } catch (error) {
    log(`${run.name}: ${(error as Error).message}; exporting it again`);
    return undefined;
  }
  if (result.argv.join(' ') !== run.argv.join(' ')) return undefined;
  if (![WEIGHTS_FILE, HISTORY_FILE, GRID_FILE].every((file) => fs.existsSync(path.join(resultDir, file)))) return undefined;
  if (!work.checkpoint) return `${resultDir} is its result (no work folder ${work.dir}); to train it again, move ${resultDir} away`;
  return sha256File(work.checkpointFile) === result.source.checkpointSha256 ? `${resultDir} is up to date with ${work.checkpointFile}` : undefined;
}

/** Trains (starts or continues) the run's work folder to its last epoch; returns the dataset it loaded. */
async function trainRun(run: ReproduceRun, work: WorkState, log: (line: string) => void): Promise<Dataset | undefined> {
  const { options, given } = parseRunArgv(run);
  const release = lockWork(work.dir);
  try {
    log(work.checkpoint ? `${run.name}: continuing ${work.dir} (${describeProgress(work)})` : `${run.name}: starting ${work.dir}: npm run train -- ${run.argv.join(' ')} --out ${work.dir}`);
    // As on the command line: the run's flags are typed (a checkpoint made with other ones is refused), --out too.
    const resume = work.checkpoint ? { resume: work.dir } : {};
    const trained = await train({ ...options, out: work.dir, ...resume }, new Set([...given, 'out', ...Object.keys(resume)]));
    if (!trained) return undefined;
    disposeRun(trained);
    return trained.dataset;
  } finally {
    release();
  }
}

async function reproduceRun(run: ReproduceRun, options: ReproduceOptions, everything: boolean, log: (line: string) => void): Promise<void> {
  const resultDir = path.join(options.results, run.name);
  let work = readWork(path.join(options.work, run.name));
  if (options.keepPartial) {
    log(`${run.name}: ${keepPartial(work, resultDir)}`);
    return;
  }
  if (options.timeSteps !== undefined) {
    const progress = progressOf(work.dir, resultDir);
    if (fs.existsSync(path.join(resultDir, RESULT_FILE))) {
      log(`${run.name}: not timed: it is exported (${resultDir})`);
      return;
    }
    if (progress.checkpoint) {
      log(`${run.name}: not timed: its first epoch's time is its estimate (${describePending(progress, resultDir)})`);
      return;
    }
    const missing = missingData(run.task);
    if (missing && everything) {
      log(`${run.name}: skipped: ${missing}`);
      return;
    }
    if (missing) throw new Error(`${missing}; cannot time it here`);
    const timing = await timeRun(run, { steps: options.timeSteps, log });
    writeTiming(resultDir, timing);
    log(`${run.name}: ${describeTiming(timing)}; written to ${path.join(resultDir, TIMING_FILE)}`);
    return;
  }
  const current = upToDate(run, resultDir, work, log);
  if (current) {
    log(`${run.name}: nothing to do: ${current}`);
    return;
  }
  let dataset: Dataset | undefined;
  if (!work.finished) {
    if (options.estimate || options.exportOnly) {
      log(`${run.name}: ${describePending(progressOf(work.dir, resultDir), resultDir)}${options.exportOnly ? ' (not exported: it is not finished)' : ''}`);
      return;
    }
    const missing = missingData(run.task);
    if (everything && missing && !work.checkpoint) {
      log(`${run.name}: skipped: ${missing}; npm run reproduce -- ${run.name} tries to download it and trains`);
      return;
    }
    work = seedFromPartial(work, resultDir, (line) => log(`${run.name}: ${line}`));
    dataset = await trainRun(run, work, log);
    work = readWork(work.dir);
    if (!work.finished) throw new Error(`training stopped after ${work.epochsDone} of ${work.epochs} epochs (see the lines above); run it again to continue`);
  } else if (options.estimate) {
    log(`${run.name}: trained, not exported yet`);
    return;
  }
  const record = await exportRun(run, work.dir, resultDir, { dataset });
  dropPartial(resultDir);
  dropTiming(resultDir);
  log(`${run.name}: exported to ${resultDir}: test ${record.test.bitsPerDim.toFixed(4)} bits/dim`);
}

/** Reproduces the named runs, then rewrites the table; returns the exit code (1 when a run failed). */
export async function reproduce(options: ReproduceOptions): Promise<number> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const selected = selectRuns(options.runs, options.names);
  // Every run's flags are checked before the first one trains for hours.
  for (const run of selected) parseRunArgv(run);
  let failed = 0;
  for (const run of selected) {
    try {
      await reproduceRun(run, options, options.names.length === 0, log);
    } catch (error) {
      failed += 1;
      log(`${run.name}: error: ${(error as Error).message}`);
    }
  }
  writeTable(options.runs, options.results, options.work);
  log(`table: ${path.join(options.results, 'README.md')}`);
  return failed > 0 ? 1 : 0;
}

export function reproduceCommandLine(): Command {
  const root = projectRoot();
  return new Command('reproduce')
    .description('Train the original\'s runs resumably, export finished ones to results/ and rewrite results/README.md')
    .argument('[names...]', 'runs to reproduce (default: all whose data is on this machine)')
    .option('--estimate', 'train nothing: say how far each run is and how long the rest takes at its first epoch\'s pace', false)
    .option('--export-only', 'train nothing: export the finished runs', false)
    .option('--keep-partial', 'train nothing: copy each unfinished run\'s checkpoint to results/NAME/partial/, to commit; a later run on any machine continues from it', false)
    .option('--time <steps>', 'train nothing lasting: time the first STEPS training steps and a test evaluation of each run not started, for its estimate (results/NAME/timing.json)', numberParser({ type: 'integer', min: 1 }))
    .option('--results <dir>', 'where exports and the table go', path.join(root, 'results'))
    .option('--work <dir>', 'where runs train, one folder per run', path.join(root, 'runs', 'reproduce'))
    .option('--runs-file <file>', 'a JSON list of runs to use instead of lib/results/runs.ts (tests)')
    .addHelpText('after', `\nRuns (lib/results/runs.ts):\n${RUNS.map((run) => `  ${run.name.padEnd(22)}${run.argv.join(' ')}`).join('\n')}`)
    .allowExcessArguments(false)
    .exitOverride();
}

export async function main(argv: string[]): Promise<number> {
  const program = reproduceCommandLine();
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const code = (error as CommanderError).exitCode;
    return code === 0 ? 0 : 2;
  }
  const flags = program.opts<{ estimate: boolean; exportOnly: boolean; keepPartial: boolean; time?: number; results: string; work: string; runsFile?: string }>();
  if ([flags.estimate, flags.exportOnly, flags.keepPartial, flags.time !== undefined].filter(Boolean).length > 1) {
    process.stderr.write('error: --estimate, --export-only, --keep-partial and --time cannot be combined (each trains nothing lasting and does one thing)\n');
    return 2;
  }
  const runs = flags.runsFile !== undefined ? readRunList(flags.runsFile) : RUNS;
  const { time, ...rest } = flags;
  return reproduce({ names: program.processedArgs[0] as string[], runs, ...rest, timeSteps: time });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error: Error) => {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  });
}
