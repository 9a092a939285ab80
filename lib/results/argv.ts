/**
 * A run's flags read by the training CLI's own parser (lib/cli/options.ts), so that `npm run reproduce -- NAME`
 * trains exactly what `npm run train -- <its flags>` would, and a work folder or export made with other flags is
 * refused by the CLI's own --resume rules.
 */
import { CommanderError } from 'commander';
import { commandLine, flag, TrainOptions } from '../cli/options';
import { resumeConflicts } from '../cli/resume';
import { Checkpoint } from '../train/checkpoint';
import { RESUMABLE_TRAIN_FIELDS, trainConfig } from '../train/config';
import { ReproduceRun } from './runs';

export interface ParsedRun {
  options: TrainOptions;
  /** The options the argv names (the others hold the CLI's defaults), as `npm run train` tells them apart. */
  given: Set<string>;
}

export function parseRunArgv(run: ReproduceRun): ParsedRun {
  const program = commandLine().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  try {
    program.parse([...run.argv], { from: 'user' });
  } catch (error) {
    const message = error instanceof CommanderError ? error.message.replace(/^error: /, '') : (error as Error).message;
    throw new Error(`run ${run.name}: its flags "${run.argv.join(' ')}" are not valid for npm run train: ${message}`);
  }
  const options = program.opts<TrainOptions>();
  if (options.task !== run.task) throw new Error(`run ${run.name}: field "task" is ${run.task} but its flags train on ${options.task}`);
  const given = new Set(program.options.map((o) => o.attributeName()).filter((key) => program.getOptionValueSource(key) === 'cli'));
  return { options, given };
}

/**
 * The run's flags that a checkpoint disagrees with, as `-x 3 (checkpoint: 5)`: those that define the model or its
 * data (the CLI's --resume rules), and the training flags the argv sets (epochs, learning rate, ...), which a
 * resumed run could have changed since.
 */
export function runConflicts(run: ReproduceRun, checkpoint: Checkpoint): string[] {
  const { options, given } = parseRunArgv(run);
  const conflicts = resumeConflicts(options, given, checkpoint);
  const saved = trainConfig(checkpoint.trainConfig);
  for (const field of RESUMABLE_TRAIN_FIELDS) {
    if (given.has(field) && options[field] !== saved[field]) conflicts.push(`${flag(field)} ${String(options[field])} (checkpoint: ${String(saved[field] ?? 'unset')})`);
  }
  return conflicts;
}
