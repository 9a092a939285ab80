/**
 * Kernel -> Interrupt for the notebook's long calls (train, showSamples, the likelihood checks, the blind-spot maps).
 *
 * What tslab 1.0.22 does with it: our kernelspec (jupyter/kernels/tslab/kernel.json) names no interrupt_mode, so
 * Jupyter interrupts by signal, SIGINT to the kernel's process group (jupyter_client's LocalProvisioner), which is
 * the node process tslab runs in (kernel.json execs node). tslab's only listener (dist/main.js:
 * `process.on("SIGINT", () => executor.interrupt())`) rejects the promise the running cell is raced against
 * (dist/executor.js), which prints "Interrupted asynchronously" and lets the kernel reply and go idle; the cell's
 * async work is not cancelled and runs on (vm's breakOnSigint stops only synchronous code). tslab has no hook for
 * it, so a call here listens to SIGINT itself while it runs and aborts its AbortSignal: the work stops at its
 * next step boundary and shows where (train and showSamples then resolve; calls that return a result reject),
 * after its cell has already ended with tslab's message. A listener runs only between event-loop turns, which the
 * trainer and the blind-spot maps give (lib/train/stop.ts); the samplers (lib/sample) check their signal between
 * pixels but give none yet, so sampling stops only where something else yields.
 *
 * Calls run one after another: one made while an interrupted one is still stopping (its cell already released)
 * waits for it first, so running a cell again never works alongside the stopping call. A call made from inside
 * another's work shares that call's signal instead of waiting for it (which would never end).
 */
import { AsyncLocalStorage } from 'async_hooks';
import { inTslabKernel } from './output';

/** Where interrupts come from. */
export interface Interrupts {
  /** Calls `listener` on every interrupt until the returned function is called. */
  listen(listener: () => void): () => void;
}

/** SIGINT: what Jupyter's Kernel -> Interrupt sends the kernel. */
export const sigintInterrupts: Interrupts = {
  listen(listener) {
    process.on('SIGINT', listener);
    return () => { process.removeListener('SIGINT', listener); };
  },
};

/** No interrupts: outside a kernel SIGINT keeps its default (a script's Ctrl-C ends the process). */
export const noInterrupts: Interrupts = { listen: () => () => {} };

/** SIGINT inside a tslab kernel, nothing elsewhere. */
export function kernelInterrupts(argv: readonly string[] = process.argv): Interrupts {
  return inTslabKernel(argv) ? sigintInterrupts : noInterrupts;
}

/** The reason an interrupted call's signal carries (samplers reject with it). */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted (Kernel -> Interrupt)');
    this.name = 'InterruptedError';
  }
}

/** Whether `error` is how a stopped call ended (the signal's reason, or a trainer's StoppedError). */
export function isInterruption(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && error instanceof Error && (error === signal.reason || error.name === 'StoppedError');
}

/** Settles after the call in progress (and those waiting) have; never rejects. */
let queue: Promise<unknown> = Promise.resolve();

/** The signal of the call whose work is running in this async context. */
const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` after earlier calls have settled, with a signal that the next interrupt aborts. */
export function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, interrupts: Interrupts = kernelInterrupts()): Promise<T> {
  const outer = current.getStore();
  if (outer) return work(outer);
  const result = queue.then(async () => {
    const controller = new AbortController();
    const stop = interrupts.listen(() => controller.abort(new InterruptedError()));
    try {
      return await current.run(controller.signal, () => work(controller.signal));
    } finally {
      stop();
    }
  });
  queue = result.catch(() => undefined);
  return result;
}
