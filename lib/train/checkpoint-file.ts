/** Checkpoint files on disk (Node only): written completely or not at all (lib/io/atomic-file.ts), so a crash or a full disk never leaves half a checkpoint. */
import * as fs from 'fs';
import { writeFileAtomic } from '../io/atomic-file';
import { Checkpoint, decodeCheckpoint, encodeCheckpoint } from './checkpoint';

export { writeFileAtomic };

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  writeFileAtomic(file, encodeCheckpoint(checkpoint));
}

export function readCheckpoint(file: string): Checkpoint {
  if (!fs.existsSync(file)) throw new Error(`checkpoint ${file} does not exist`);
  const bytes = fs.readFileSync(file);
  return decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
