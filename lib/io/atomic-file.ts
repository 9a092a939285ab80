/**
 * Writing files completely or not at all (Node only). Every file the project writes (checkpoints,
 * history, reports, PNGs, downloads) goes through here, because a plain write on a nearly full disk can
 * land only part of the bytes (the write call returns fewer than asked, or fails half-way) and a plain
 * rename then puts that half file over the good one.
 *
 * The scheme: the bytes go to `.<name>.<pid>.<8 hex>.tmp` in the target's folder (same file system, so the
 * rename is atomic), written in a loop until every byte landed, fsynced, checked on disk for the exact
 * size, then renamed over the target, and the folder is fsynced so the rename survives a crash. On any
 * failure the temp file is removed, the old target is left untouched, and the error names the file, the
 * bytes needed and the free space. Temp files of this scheme left by killed processes are removed on the
 * next write into the same folder.
 */
// Only fs and path: lib/render/grid.ts requires this lazily, and the browser bundle (lib/live) keeps those two external.
import * as fs from 'fs';
import * as path from 'path';

/** Error codes meaning "the disk (or a limit) had no room for the bytes". */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EFBIG: "file too large for this process's file-size limit (EFBIG, see ulimit -f)",
};

/** A failed write: the target file, what was needed, and the free space where it was going. */
export class FileWriteError extends Error {
  constructor(
    message: string,
    readonly file: string,
    /** ENOSPC, EDQUOT, EFBIG, ESHORTWRITE (the bytes did not all land) or the system's code. */
    readonly code: string,
    readonly bytesNeeded: number,
    /** Bytes free to this user on the target's file system, measured after the temp file was removed. */
    readonly freeBytes: number | undefined,
  ) {
    super(message);
    this.name = 'FileWriteError';
  }
}

export interface AtomicWriteOptions {
  /**
   * fsync the file and its folder (default true). False only for files whose loss in a power cut does not
   * matter (a progress line): readers still never see a half-written file.
   */
  durable?: boolean;
  /** The write call (default fs.writeSync); tests pass one that writes short to prove the loop and the size check. */
  writeSync?: (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) => number;
}

/** `1,234,567 bytes`. */
export function formatBytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** Bytes free to this user on the file system holding `dir`, or undefined where it cannot be asked. */
export function freeBytes(dir: string): number | undefined {
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/** True for the error codes that mean the bytes did not fit (disk full, quota, file-size limit, short write). */
export function isNoRoomError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && (NO_ROOM.has(code) || code === 'ESHORTWRITE');
}

/**
 * `.<name>.<pid>.<8 random hex>.tmp`, beside `file`; the name part is cut so the whole stays under 255
 * bytes. Callers create it with the `wx` flag, so even a clash of the random part never shares a file.
 */
export function tempPathFor(file: string): string {
  const base = path.basename(file).slice(0, 200);
  const random = Math.floor(Math.random() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return path.join(path.dirname(file), `.${base}.${process.pid}.${random}.tmp`);
}

/**
 * Matches the temp names of `tempPathFor`, and those of earlier versions (checkpoints used the time in ms
 * instead of random hex; downloads had no leading dot), capturing the pid.
 */
const TEMP_NAME = /^\.?.+\.(\d{1,10})\.[0-9a-f]{8,16}\.tmp$/;

/** A temp file older than this is stale whatever its pid says (pids are reused). */
const STALE_AFTER_MS = 24 * 3600 * 1000;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temp files of this naming scheme in `dir` whose writer is gone: its pid is not a running
 * process on this machine, or the file was last modified over a day ago. Returns the removed paths.
 * Best effort: a file that cannot be examined or removed is left alone.
 */
export function cleanStaleTempFiles(dir: string, now = Date.now()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    try {
      const stats = fs.lstatSync(file);
      if (!stats.isFile()) continue;
      const pid = Number(match[1]);
      if (pid > 0 && processAlive(pid) && now - stats.mtimeMs < STALE_AFTER_MS) continue;
      fs.rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // raced with its owner or not ours to remove: leave it
    }
  }
  return removed;
}

/** The error for a write into `file` that failed after `written` of `needed` bytes. */
export function writeFailure(file: string, cause: unknown, written: number, needed: number): FileWriteError {
  const dir = path.dirname(file);
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
  const free = freeBytes(dir);
  const message = (cause as Error | undefined)?.message ?? String(cause);
  const why = code === 'ESHORTWRITE' ? `short write (${message})` : WHY[code] ?? message;
  const existing = fs.existsSync(file)
    ? `${path.basename(file)} was left as it was`
    : `no ${path.basename(file)} was written`;
  return new FileWriteError(
    `cannot write ${file}: ${why} after ${formatBytes(written)} of ${formatBytes(needed)}; ` +
      `${free === undefined ? 'free space unknown' : `${formatBytes(free)} free`} in ${dir}. ` +
      `${existing}; free some space (or raise the limit) and try again.`,
    file, code, needed, free,
  );
}

/** fsync a folder so a rename in it is on disk; some systems (Windows) cannot open folders: skip there. */
function fsyncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here; the rename itself is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Renames a finished temp file over `file` (removing the temp on failure) and makes the rename durable. */
export function renameIntoPlace(temp: string, file: string, durable = true): void {
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new Error(`cannot write ${file}: renaming ${path.basename(temp)} over it failed: ${(error as Error).message}`);
  }
  if (durable) fsyncFolder(path.dirname(file));
}

/** Writes `bytes` (a string is UTF-8) to `file` completely or not at all; see the file comment. */
export function writeFileAtomic(file: string, bytes: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const durable = options.durable ?? true;
  const write = options.writeSync ?? fs.writeSync;
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new Error(`cannot write ${file}: folder ${dir} does not exist`);
  cleanStaleTempFiles(dir);
  let temp = tempPathFor(file);
  let fd: number | undefined;
  let written = 0;
  let created = false;
  try {
    for (let tries = 1; fd === undefined; tries++) {
      try {
        fd = fs.openSync(temp, 'wx');
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries === 5) throw error;
        temp = tempPathFor(file);
      }
    }
    // A replaced file keeps its permissions, as an in-place write would.
    const mode = fs.existsSync(file) ? fs.statSync(file).mode & 0o777 : undefined;
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    // write(2) may land fewer bytes than asked (a disk filling up, a file-size limit): go on from there.
    while (written < data.byteLength) {
      const n = write(fd, data, written, data.byteLength - written, written);
      if (!(n > 0)) {
        throw Object.assign(new Error(`the write call wrote ${n} bytes`), { code: 'ESHORTWRITE' });
      }
      written += n;
    }
    if (durable) fs.fsyncSync(fd);
    // The size on disk, not our count, decides: a writer that miscounts must not get its file renamed in.
    const size = fs.fstatSync(fd).size;
    if (size !== data.byteLength) {
      written = size;
      throw Object.assign(new Error(`the file has ${size} bytes on disk`), { code: 'ESHORTWRITE' });
    }
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing); // network file systems report a full disk here
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // the write error is the one to report
      }
    }
    if (created) fs.rmSync(temp, { force: true });
    throw writeFailure(file, error, written, data.byteLength);
  }
  renameIntoPlace(temp, file, durable);
}
