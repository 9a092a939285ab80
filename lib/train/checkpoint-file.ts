/** Checkpoint files on disk (Node only): written to a temp file and renamed, so a crash never leaves half a checkpoint. */
import * as fs from 'fs';
import * as path from 'path';
import { Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint';

/** Writes any bytes atomically: temp file in the same folder, fsync, rename over the target. */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new Error(`cannot write ${file}: folder ${dir} does not exist`);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(temp, 'w');
  try {
    fs.writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  writeFileAtomic(file, encodeCheckpoint(checkpoint));
}

export function readCheckpoint(file: string): Checkpoint {
  if (!fs.existsSync(file)) throw new Error(`checkpoint ${file} does not exist`);
  const bytes = fs.readFileSync(file);
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
