/**
 * What each task's images look like, known before any file is read or downloaded, so that a model's options can
 * be checked against the data (for example -c divisible by the colours) before a long download.
 *
 * Browser-safe: plain data. test/data/tasks.test.ts checks the table against the loaders where the data is offline.
 */
import type { TaskName } from './dataset';
import { isTaskName, TASK_NAMES } from './dataset';

export interface TaskShape {
  height: number;
  width: number;
  channels: number;
  /** Number of class labels (0: unlabelled). */
  classes: number;
}

export const TASK_SHAPES: Readonly<Record<TaskName, Readonly<TaskShape>>> = {
  'mnist': { height: 28, width: 28, channels: 1, classes: 10 },
  'fashion-mnist': { height: 28, width: 28, channels: 1, classes: 10 },
  'cifar10': { height: 32, width: 32, channels: 3, classes: 10 },
  'cifar-gs': { height: 32, width: 32, channels: 1, classes: 10 },
  'imagenet64': { height: 64, width: 64, channels: 3, classes: 0 },
};

/** The image shape of a task's dataset. */
export function taskShape(task: string): TaskShape {
  if (!isTaskName(task)) throw new Error(`unknown task "${task}"; expected one of ${TASK_NAMES.join(', ')}`);
  return TASK_SHAPES[task];
}
