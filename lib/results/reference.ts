/**
 * The PyTorch reference of a run: `results/NAME/torch-reference.json`, written after every epoch by
 * `bench/torch_train_mnist.py --export` (the original's full masked kernels in PyTorch, trained on the same MNIST
 * files with the run's flags). The table sets the run's test bits/dim beside the reference's at the same epoch, so
 * a difference is ours against PyTorch's for the same steps, not a guess. Reading checks every field, and that the
 * reference was trained with the run's flags; an error names the file and the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseRunArgv } from './argv';
import { Check, checkFields, ExportedEpoch, HISTORY_FILE, readJsonFile } from './result';
import { ReproduceRun } from './runs';

export const REFERENCE_FILE = 'torch-reference.json';

export interface ReferenceEpoch {
  epoch: number;
  train_bits_per_dim: number;
  test_bits_per_dim: number;
  test_images: number;
  seconds: number;
}

/** What bench/torch_train_mnist.py writes (Python's field names). */
export interface TorchReference {
  script: string;
  /** The script's command-line arguments. */
  argv: string[];
  torch: string;
  threads: number;
  flags: { model: string; layers: number; kernel: number; channels: number; epochs: number; batch: number; lr: number; seed: number; limit: number; test_limit: number };
  epochs: ReferenceEpoch[];
}

const FIELDS: readonly [string, Check][] = [
  ['script', 'string'], ['argv', 'strings'], ['torch', 'string'], ['threads', 'count'],
  ['flags.model', 'string'], ['flags.layers', 'count'], ['flags.kernel', 'count'], ['flags.channels', 'count'],
  ['flags.epochs', 'count'], ['flags.batch', 'count'], ['flags.lr', 'number'], ['flags.seed', 'count'],
  ['flags.limit', 'count'], ['flags.test_limit', 'count'],
];
const EPOCH_FIELDS: readonly [string, Check][] = [['epoch', 'count'], ['train_bits_per_dim', 'number'], ['test_bits_per_dim', 'number'], ['test_images', 'count'], ['seconds', 'number']];

/** results/NAME/torch-reference.json, checked, or undefined where there is none. */
export function readReference(resultDir: string): TorchReference | undefined {
  const file = path.join(resultDir, REFERENCE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const parsed = readJsonFile(file);
  checkFields(parsed, FIELDS, file);
  const epochs = (parsed as { epochs?: unknown }).epochs;
  if (!Array.isArray(epochs)) throw new Error(`${file}: field "epochs" is ${JSON.stringify(epochs)}; expected a list of epochs`);
  epochs.forEach((entry: unknown, i) => {
    checkFields(entry, EPOCH_FIELDS, `${file}: epochs[${i}]`);
    if ((entry as ReferenceEpoch).epoch !== i) throw new Error(`${file}: epochs[${i}]: field "epoch" is ${(entry as ReferenceEpoch).epoch}; expected ${i}`);
  });
  return parsed as TorchReference;
}

/**
 * The reference's flags that differ from the run's, as `--layers 3 (run: -x 5)`: model, shape, batch, learning
 * rate, planned epochs, and whole training and test sets unless the run limits them too.
 */
export function referenceConflicts(run: ReproduceRun, reference: TorchReference): string[] {
  const { options } = parseRunArgv(run);
  const pairs: [string, unknown, string, unknown][] = [
    ['--model', reference.flags.model, '-m', options.model], ['--layers', reference.flags.layers, '-x', options.layers],
    ['--kernel', reference.flags.kernel, '-k', options.kernelSize], ['--channels', reference.flags.channels, '-c', options.channels],
    ['--batch', reference.flags.batch, '-b', options.batchSize], ['--lr', reference.flags.lr, '-l', options.learningRate],
    ['--epochs', reference.flags.epochs, '-e', options.epochs],
    ['--limit', reference.flags.limit, '--limit', options.limit ?? 0], ['--test-limit', reference.flags.test_limit, '--test-limit', options.testLimit ?? 0],
  ];
  return pairs.filter(([, theirs, , ours]) => theirs !== ours).map(([flag, theirs, runFlag, ours]) => `${flag} ${String(theirs)} (run: ${runFlag} ${String(ours)})`);
}

/** Test bits/dim of the run and of its reference after the same number of epochs. */
export interface ReferenceComparison {
  reference: TorchReference;
  /** Epochs both have trained (the reference may be unfinished). */
  epochs: number;
  ours: number;
  theirs: number;
}

/**
 * The run (its exported history) beside its reference at the last epoch both have, evaluated on the same test
 * images; undefined without a reference. A reference with other flags, or none of its epochs evaluated like ours,
 * is an error.
 */
export function compareWithReference(run: ReproduceRun, resultDir: string, history: readonly ExportedEpoch[], testImages: number): ReferenceComparison | undefined {
  const reference = readReference(resultDir);
  if (!reference) return undefined;
  const file = path.join(resultDir, REFERENCE_FILE);
  const conflicts = referenceConflicts(run, reference);
  if (conflicts.length > 0) throw new Error(`${file}: trained with other flags than run ${run.name}'s: ${conflicts.join(', ')}`);
  const epochs = Math.min(reference.epochs.length, history.length);
  if (epochs === 0) throw new Error(`${file}: field "epochs" is empty; expected at least one trained epoch (or no file)`);
  const theirs = reference.epochs[epochs - 1];
  const ours = history[epochs - 1].testBitsPerDim;
  if (ours === undefined) throw new Error(`${path.join(resultDir, HISTORY_FILE)}: epoch ${epochs - 1} has no test bits/dim to set beside the reference's`);
  if (theirs.test_images !== testImages) {
    throw new Error(`${file}: epochs[${epochs - 1}]: field "test_images" is ${theirs.test_images}; expected ${testImages}, the test images of the run's figure`);
  }
  return { reference, epochs, ours, theirs: theirs.test_bits_per_dim };
}
