/**
 * The project's root folder: the nearest folder holding package.json named "pixel-notebooks", above this file or,
 * failing that (a bundled copy), above the working directory; the working directory if neither has one. Node only.
 */
import * as fs from 'fs';
import * as path from 'path';

function isProjectRoot(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
    return pkg.name === 'pixel-notebooks';
  } catch {
    return false;
  }
}

export function projectRoot(): string {
  const starts = [typeof __dirname === 'string' ? __dirname : undefined, process.cwd()];
  for (const start of starts) {
    if (start === undefined) continue;
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      if (isProjectRoot(dir)) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  return process.cwd();
}
