/**
 * Where run records live: a root folder (`--root`/an option, else PIXEL_RUNS_DIR, else the project's `runs/`),
 * and within it the smoke space `smoke/` that runs with tiny settings (PIXEL_SMOKE=1, or the `smoke` option)
 * write to, so that their meaningless figures never mix with real runs. Node only.
 */
import * as path from 'path';
import { projectRoot } from '../project-root';

export const SMOKE_SPACE = 'smoke';

/** PIXEL_SMOKE set to 1/true/yes (any case): notebooks and the training CLI run with tiny settings. */
export function smokeRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test((env.PIXEL_SMOKE ?? '').trim());
}

export interface RunsLocation {
  /** The root folder of records (default PIXEL_RUNS_DIR, else `<project>/runs`). */
  root?: string;
  /** The smoke space (default: PIXEL_SMOKE in `env`). */
  smoke?: boolean;
  /** Read for PIXEL_RUNS_DIR and PIXEL_SMOKE (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The root folder, absolute. */
export function runsRoot(location: RunsLocation = {}): string {
  const env = location.env ?? process.env;
  const fromEnv = env.PIXEL_RUNS_DIR?.trim();
  return path.resolve(location.root ?? (fromEnv ? fromEnv : path.join(projectRoot(), 'runs')));
}

/** Whether the location means the smoke space. */
export function isSmoke(location: RunsLocation = {}): boolean {
  return location.smoke ?? smokeRequested(location.env ?? process.env);
}

/** The folder a location's records are in and listed from: the root, or its smoke space. */
export function runsSpace(location: RunsLocation = {}): string {
  const root = runsRoot(location);
  return isSmoke(location) ? path.join(root, SMOKE_SPACE) : root;
}
