/**
 * Data-parallel training on one machine: worker threads that each compute a share of every step's gradients
 * (lib/train/gradient-worker.ts), so that single-threaded backends (wasm, whose threads are off in Node, and
 * cpu) use every core. The main thread keeps the only copy of the training state (weights, Adam, history):
 * each step it sends the current weights and a slice of the batch, computes its own slice meanwhile, adds the
 * helpers' gradients and takes one Adam step. Results equal a single-threaded step with the same chunks
 * (StepExecutor.microBatchSize), up to the order of float additions.
 *
 * Node-only: notebooks and the command line attach workers to a run; the trainer sees only `GradientHelpers`.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { backendInfo, BackendName } from '../backend';
import type { Run } from './run';
import type { ChunkSums } from './gradients';
import type { GradientHelpers, HelperJob } from './step-executor';
import type { WorkerReply, WorkerSetup } from './gradient-worker';

/** Backends that run on one thread and so gain from workers; the others already use the machine. */
const SINGLE_THREADED: readonly BackendName[] = ['wasm', 'cpu'];

/**
 * The default number of helper workers: one per core besides the main thread's, for a single-threaded backend,
 * else none. `PIXEL_WORKERS=N` overrides it (0 = off).
 */
export function defaultWorkerCount(backend: BackendName | undefined = backendInfo()?.name, env: NodeJS.ProcessEnv = process.env): number {
  const forced = env.PIXEL_WORKERS?.trim();
  if (forced) {
    const n = Number(forced);
    if (!Number.isInteger(n) || n < 0) throw new Error(`PIXEL_WORKERS=${JSON.stringify(env.PIXEL_WORKERS)}: expected a whole number >= 0 (helper threads; 0 = none)`);
    return n;
  }
  if (!backend || !SINGLE_THREADED.includes(backend)) return 0;
  return Math.max(0, os.availableParallelism() - 1);
}

class ProtocolError extends Error {}

/** Rebuilds an error a worker sent, keeping its name (the trainer recognises out-of-memory errors by name). */
function workerError(reply: Extract<WorkerReply, { type: 'error' }>, index: number): Error {
  const error = new Error(`gradient worker ${index}: ${reply.message}`);
  error.name = reply.name;
  if (reply.stack) error.stack = `${error.name}: ${error.message}\n  (in the worker) ${reply.stack}`;
  return error;
}

class HelperThread {
  private pending?: { resolve(reply: WorkerReply): void; reject(error: Error): void };
  private exitError?: Error;
  /** Set by `stop`: the exit that follows is expected. */
  private stopped = false;

  constructor(readonly worker: Worker, readonly index: number) {
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      worker.unref();
      pending?.resolve(reply);
    });
    const fail = (error: Error) => {
      this.exitError = error;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    worker.on('error', (error) => fail(new Error(`gradient worker ${index} failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(this.stopped
      ? `gradient worker ${index} was stopped (its run was disposed, or its notebook config prepared again)`
      : `gradient worker ${index} exited (code ${code})`)));
  }

  stop(): Promise<number> {
    this.stopped = true;
    return this.worker.terminate();
  }

  /** The next reply of the worker (after sending `message`, if given). */
  next(message?: HelperJob): Promise<WorkerReply> {
    if (this.exitError) return Promise.reject(this.exitError);
    if (this.pending) return Promise.reject(new ProtocolError(`gradient worker ${this.index} is busy`));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // Referenced only while a reply is awaited: an idle worker never keeps the process alive.
      this.worker.ref();
      if (message) this.worker.postMessage(message);
    });
  }
}

export class GradientWorkers implements GradientHelpers {
  private constructor(private readonly threads: HelperThread[], readonly backends: string[]) {}

  get count(): number {
    return this.threads.length;
  }

  /** Starts `count` workers that build the model of `setup` on `setup.backend`; resolves once all are ready. */
  static async start(count: number, setup: WorkerSetup): Promise<GradientWorkers> {
    // An eval'd CommonJS bootstrap: registers tsx in the worker, then loads the TypeScript entry point.
    const entry = path.join(__dirname, 'gradient-worker.ts');
    const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(entry)});`;
    const threads: HelperThread[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const worker = new Worker(bootstrap, { eval: true, workerData: setup, env: { ...process.env, PIXEL_WORKERS: '0' } });
        threads.push(new HelperThread(worker, i));
      }
      const ready = await Promise.all(threads.map(async (thread) => {
        const reply = await thread.next();
        if (reply.type === 'error') throw workerError(reply, thread.index);
        if (reply.type !== 'ready') throw new ProtocolError(`gradient worker ${thread.index}: expected 'ready', got '${reply.type}'`);
        return reply.backend;
      }));
      return new GradientWorkers(threads, ready);
    } catch (error) {
      await Promise.all(threads.map((t) => t.stop()));
      throw error;
    }
  }

  async compute(helper: number, job: HelperJob): Promise<ChunkSums<Float32Array>> {
    const thread = this.threads[helper];
    if (!thread) throw new RangeError(`no gradient worker ${helper} (there are ${this.count})`);
    const reply = await thread.next(job);
    if (reply.type === 'error') throw workerError(reply, helper);
    if (reply.type !== 'result') throw new ProtocolError(`gradient worker ${helper}: expected 'result', got '${reply.type}'`);
    return { grads: reply.grads, minimised: reply.minimised, nats: reply.nats, parts: reply.parts };
  }

  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
  }
}

/**
 * Starts `count` helper workers (default: `defaultWorkerCount()`) for a run on the current backend and attaches
 * them to its trainer; returns them (undefined when the count is 0). `disposeRun` stops them.
 */
export async function startGradientWorkers(run: Run, count = defaultWorkerCount()): Promise<GradientWorkers | undefined> {
  if (count <= 0) return undefined;
  const backend = backendInfo()?.name;
  if (!backend) throw new Error('startGradientWorkers: call initBackend first (workers use the same backend)');
  const workers = await GradientWorkers.start(count, { backend, model: run.model.config });
  run.trainer.executor.helpers = workers;
  return workers;
}
