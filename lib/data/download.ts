/**
 * Downloads a file over HTTP(S) into a temporary file beside its destination, checks its MD5, and only
 * then renames it into place: an interrupted, corrupt or disk-full download never leaves a file under the
 * final name (nor a partial temporary file), and temporary files of killed downloads are removed on the next
 * one into the folder (lib/io/atomic-file.ts). Node only.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { Transform, TransformCallback } from 'stream';
import { pipeline } from 'stream/promises';
import { cleanStaleTempFiles, formatBytes, freeBytes, isNoRoomError, renameIntoPlace, tempPathFor, writeFailure } from '../io/atomic-file';
import type { ProgressCallback } from './progress';

export interface DownloadOptions {
  /** Expected MD5 (hex) of the whole file; a mismatch is an error and removes the download. */
  md5?: string;
  onProgress?: ProgressCallback;
  /** Abort when no data arrives for this long (default 60 000 ms). */
  idleTimeoutMs?: number;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
}

/** MD5 (hex) of a file. */
export async function md5File(file: string): Promise<string> {
  const hash = crypto.createHash('md5');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

class CountingHash extends Transform {
  readonly hash = crypto.createHash('md5');
  received = 0;
  constructor(private readonly onChunk: (received: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.received += chunk.length;
    this.onChunk(this.received);
    callback(null, chunk);
  }
}

function request(url: string, idleTimeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : url.startsWith('http:') ? http.get : undefined;
    if (!get) {
      reject(new Error(`${url}: unsupported URL; expected http:// or https://`));
      return;
    }
    const req = get(url, resolve);
    req.on('error', reject);
    req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`no data received for ${idleTimeoutMs / 1000} s`)));
  });
}

/**
 * Downloads `url` to `destination` (its folder is created). Resolves once the verified file is in place.
 * On any failure the temporary file is removed and the error names the URL, the destination and the cause.
 */
export async function downloadFile(url: string, destination: string, options: DownloadOptions = {}): Promise<void> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const maxRedirects = options.maxRedirects ?? 5;
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  // A killed download's partial file would otherwise hold its share of the disk forever.
  cleanStaleTempFiles(path.dirname(destination));
  const tmp = tempPathFor(destination);
  const name = path.basename(destination);
  let received = 0;
  let total: number | undefined;
  const report = (finished: boolean, failed = false) =>
    options.onProgress?.({ phase: 'download', file: name, done: received, total, unit: 'bytes', finished, ...(failed ? { failed } : {}) });
  try {
    let current = url;
    let res: http.IncomingMessage;
    for (let redirects = 0; ; redirects++) {
      try {
        res = await request(current, idleTimeoutMs);
      } catch (e) {
        throw new Error(`download of ${current} failed: ${(e as Error).message}`);
      }
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= maxRedirects) throw new Error(`download of ${url} failed: more than ${maxRedirects} redirects`);
        current = new URL(res.headers.location, current).toString();
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new Error(`download of ${current} failed: HTTP ${status} ${res.statusMessage ?? ''}; expected 200`);
      }
      break;
    }
    const length = res.headers['content-length'];
    total = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    report(false);
    let lastReport = 0;
    const counter = new CountingHash((n) => {
      received = n;
      const now = Date.now();
      if (now - lastReport >= 100) {
        lastReport = now;
        report(false);
      }
    });
    // Open synchronously so the file exists (and is ours to remove) before any data or error arrives.
    const out = fs.createWriteStream(tmp, { fd: fs.openSync(tmp, 'wx') });
    try {
      await pipeline(res, counter, out);
    } catch (e) {
      if (isNoRoomError(e)) {
        fs.rmSync(tmp, { force: true }); // before measuring the free space, so the figure is what the user has
        throw new Error(`download of ${current} failed: ${writeFailure(destination, e, out.bytesWritten, total ?? received).message}`);
      }
      throw new Error(
        `download of ${current} failed after ${received}${total !== undefined ? ` of ${total}` : ''} bytes: ` +
          `${(e as Error).message}`,
      );
    }
    if (total !== undefined && received !== total) {
      throw new Error(`download of ${current} failed: connection closed after ${received} of ${total} bytes`);
    }
    // What reached the disk, not what arrived, decides (the stream's count and the file's size must both agree).
    const fd = fs.openSync(tmp, 'r+');
    let size: number;
    try {
      fs.fsyncSync(fd);
      size = fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
    if (out.bytesWritten !== received || size !== received) {
      fs.rmSync(tmp, { force: true });
      const free = freeBytes(path.dirname(destination));
      throw new Error(
        `download of ${current} failed: ${formatBytes(received)} received but ${formatBytes(out.bytesWritten)} written and ` +
          `${formatBytes(size)} on disk in the temporary file for ${destination} (a short write); ` +
          `${free === undefined ? 'free space unknown' : `${formatBytes(free)} free`} in ${path.dirname(destination)}`,
      );
    }
    const md5 = counter.hash.digest('hex');
    if (options.md5 !== undefined && md5 !== options.md5.toLowerCase()) {
      throw new Error(
        `checksum mismatch for ${current} (downloading to ${destination}): MD5 is ${md5}; expected ${options.md5}. ` +
          `The download was removed; try again, and check the URL if it persists.`,
      );
    }
    renameIntoPlace(tmp, destination);
    report(true);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    report(true, true);
    throw e;
  }
}
