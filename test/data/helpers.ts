/** Shared helpers for the data-layer tests: temp folders, IDX and CIFAR files, tarballs, a local HTTP server. */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import type { AddressInfo } from 'net';
import * as tar from 'tar-stream';
import type { TestContext } from 'node:test';

/** A fresh temporary folder, removed after the test. */
export function tempDir(t: TestContext, prefix = 'pixel-data-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** IDX bytes (unsigned-byte type) for the given dims and data. */
export function idxBytes(dims: number[], data: Uint8Array | number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/** One CIFAR-10 binary record: label, then R, G and B planes given by functions of the pixel index 0..1023. */
export function cifarRecord(label: number, pixel: (p: number, c: number) => number): Buffer {
  const rec = Buffer.alloc(3073);
  rec[0] = label;
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) rec[1 + c * 1024 + p] = pixel(p, c);
  return rec;
}

/**
 * The pixel pattern the CIFAR tests write: a hash of (record, pixel, channel), so it differs everywhere
 * and does not compress (the test archives are then tens of kB, sent in many pieces).
 */
export function cifarPattern(record: number): (p: number, c: number) => number {
  return (p, c) => {
    // Murmur3's finaliser of a number unique to (record, p, c).
    let h = record * 4099 + p * 3 + c + 1;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & 255;
  };
}

export const CIFAR_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/**
 * The files of a small CIFAR-10 in the real layout: data_batch_1..5 with `perBatch` records each, test_batch
 * with `testCount`; record k of the training set (over all batches) has label k % 10 and pattern k;
 * test record k has label (k + 3) % 10 and pattern 1000 + k.
 */
export function cifarFiles(perBatch = 2, testCount = 3): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let k = 0;
  for (let b = 1; b <= 5; b++) {
    const recs: Buffer[] = [];
    for (let i = 0; i < perBatch; i++, k++) recs.push(cifarRecord(k % 10, cifarPattern(k)));
    files.set(`data_batch_${b}.bin`, Buffer.concat(recs));
  }
  const test: Buffer[] = [];
  for (let i = 0; i < testCount; i++) test.push(cifarRecord((i + 3) % 10, cifarPattern(1000 + i)));
  files.set('test_batch.bin', Buffer.concat(test));
  files.set('batches.meta.txt', Buffer.from(CIFAR_CLASS_NAMES.join('\n') + '\n\n'));
  return files;
}

/** A .tar.gz holding `files` under cifar-10-batches-bin/ (plus a readme.html, as the real archive has). */
export async function cifarTarGz(files: Map<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'cifar-10-batches-bin', type: 'directory' });
  for (const [name, data] of files) pack.entry({ name: `cifar-10-batches-bin/${name}` }, data);
  pack.entry({ name: 'cifar-10-batches-bin/readme.html' }, Buffer.from('<html></html>'));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return zlib.gzipSync(Buffer.concat(chunks));
}

export interface LocalServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (random port) running `handler`; closed after the test. */
export async function localServer(
  t: TestContext,
  handler: (req: http.IncomingMessage, res: http.ServerResponse, requestNumber: number) => void,
): Promise<LocalServer> {
  const state = { requests: 0 };
  const server = http.createServer((req, res) => handler(req, res, ++state.requests));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const result: LocalServer = {
    url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  t.after(() => result.close());
  return result;
}

/** All file names under a folder, recursively (relative paths). */
export function listAll(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}
