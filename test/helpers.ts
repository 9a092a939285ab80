/** Shared test set-up: one backend per test process (the selected one unless PIXEL_BACKEND says otherwise). */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';

export async function setUpBackend(): Promise<string> {
  const info = await initBackend();
  return info.name;
}

/** Reads a tensor into a plain array asynchronously (works on every backend). */
export async function values(t: tf.Tensor): Promise<Float32Array | Int32Array | Uint8Array> {
  return (await t.data()) as Float32Array | Int32Array | Uint8Array;
}
