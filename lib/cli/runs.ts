/**
 * `npm run runs`: the recorded training runs (lib/runs), from the command line and notebooks alike.
 *
 *   npm run runs                          the runs, newest first: task, model, images seen, test bits/dim, speed, status
 *   npm run runs -- compare RUN RUN...    the runs side by side, each described by what differs from the first
 *   npm run runs -- remove RUN            deletes a run's folder (record, checkpoint, samples)
 *
 * RUN is a run id (or an unambiguous start of one) or a run folder. `--root DIR` reads another root (default
 * PIXEL_RUNS_DIR, else runs/); `--smoke` the smoke space (runs/smoke/, also under PIXEL_SMOKE=1).
 */
import { Command } from 'commander';
import { comparisonRows, comparisonTable } from '../runs/compare';
import { listingTable } from '../runs/listing';
import { runsSpace } from '../runs/location';
import { findRun, listRuns, processGone, removeRun, StoreOptions } from '../runs/store';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: Io = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };

function commandLine(io: Io, done: (code: number) => void): Command {
  const program = new Command('runs')
    .description('List, compare and remove recorded training runs')
    .option('--root <dir>', 'the folder of run records (default PIXEL_RUNS_DIR, else runs/)')
    .option('--smoke', 'the smoke space (<root>/smoke/: runs with tiny settings; also under PIXEL_SMOKE=1)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const store = (): StoreOptions => {
    const { root, smoke } = program.opts<{ root?: string; smoke?: boolean }>();
    return { root, smoke: smoke ? true : undefined, warn: (message) => io.err(`warning: ${message}\n`) };
  };
  program.action(() => {
    // Extra words reach this action only when they name no command.
    if (program.args.length > 0) program.error(`error: unknown command '${program.args[0]}' (expected compare or remove; none lists the runs)`);
    const options = store();
    const runs = listRuns(options);
    const space = runsSpace(options);
    io.out(runs.length === 0 ? `no recorded runs under ${space}\n` : `${runs.length} run${runs.length === 1 ? '' : 's'} under ${space}, newest first\n${listingTable(runs, space)}`);
    done(0);
  });
  program.command('compare')
    .description('the runs side by side; settings are those that differ from the first run named')
    .argument('<runs...>', 'run ids or run folders')
    .action((refs: string[]) => {
      const options = store();
      const records = refs.map((ref) => findRun(ref, options).record);
      io.out(`settings vs ${records[0].id}\n${comparisonTable(comparisonRows(records, { gone: processGone }))}`);
      done(0);
    });
  program.command('remove')
    .description("deletes a run's folder: its record, checkpoint and samples")
    .argument('<run>', 'a run id or run folder')
    .allowExcessArguments(false)
    .action((ref: string) => {
      const removed = removeRun(ref, store());
      io.out(`removed run ${removed.record.id}: ${removed.folder}\n`);
      done(0);
    });
  return program;
}

/** Runs the command; returns the exit code (0, 1 for an error about a run, 2 for a usage error). */
export function main(argv: string[], io: Io = STDIO): number {
  let code = 0;
  const program = commandLine(io, (c) => {
    code = c;
  });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    const exitCode = (error as { exitCode?: number; code?: string }).exitCode;
    if (exitCode !== undefined && (error as { code?: string }).code?.startsWith('commander.')) return exitCode === 0 ? 0 : 2;
    io.err(`error: ${(error as Error).message}\n`);
    return 1;
  }
  return code;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
