/**
 * A worker thread that computes chunks of training steps' gradients for the trainer on the main thread
 * (started by lib/train/workers.ts). It builds the same model and objective from the plain-data configs, and
 * for each job loads the main thread's current weights, computes the chunks' summed gradients with the same
 * code as the main thread (lib/train/gradients.ts) and sends them back. It holds no training state of its own.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../backend';
import { buildModel, ModelConfig } from '../models';
import { chunkGradients } from './gradients';
import { HelperJob, releaseFailedTape } from './step-executor';

export interface WorkerSetup {
  backend: BackendName;
  model: ModelConfig;
}

/** Messages to the main thread. */
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'result'; grads: Float32Array[]; minimised: number; nats: number; parts?: Record<string, number> }
  | { type: 'error'; name: string; message: string; stack?: string };

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function replyError(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  reply({ type: 'error', name: e.name, message: e.message, stack: e.stack });
}

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const backend = await initBackend(setup.backend);
  const model = buildModel(setup.model);
  const objective = model.objective();
  // One job at a time: the main thread waits for each reply before it sends this worker another job.
  parentPort!.on('message', async (job: HelperJob) => {
    try {
      if (job.weights.length !== objective.variables.length) {
        throw new Error(`gradient worker: got ${job.weights.length} weight arrays for ${objective.variables.length} variables`);
      }
      objective.variables.forEach((v, i) => {
        if (job.weights[i].length !== v.size) throw new Error(`gradient worker: weight ${i} has ${job.weights[i].length} values, variable ${v.name} ${v.size}`);
        tf.tidy(() => v.assign(tf.tensor(job.weights[i], v.shape, 'float32')));
      });
      const sums = await chunkGradients(objective, job.batch, job.batchSize, job.chunks, job.stepSeed, job.step, job.offset);
      let grads: Float32Array[];
      try {
        grads = await Promise.all(sums.grads.map(async (g) => (await g.data()) as Float32Array));
      } finally {
        tf.dispose(sums.grads);
      }
      reply({ type: 'result', grads, minimised: sums.minimised, nats: sums.nats, parts: sums.parts }, grads.map((g) => g.buffer as ArrayBuffer));
    } catch (error) {
      releaseFailedTape(); // as the main thread does: the trainer may retry with smaller chunks
      replyError(error);
    }
  });
  reply({ type: 'ready', backend: backend.description });
}

main().catch(replyError);
