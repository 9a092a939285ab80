/**
 * Stopping a training run early at a step boundary (a notebook's Kernel -> Interrupt, Ctrl-C). Node delivers a
 * signal (SIGINT) to its listeners only between turns of its event loop, and a training step's awaits all resolve
 * without one (native and wasm reads are synchronous), so long loops give the event loop a turn now and then:
 * otherwise the listener that aborts the run would only run once the whole run is over.
 */

/** Milliseconds of work between event-loop turns: a turn costs microseconds, a stop waits at most this long more. */
export const TURN_EVERY_MS = 50;

const nextTurn: (resolve: () => void) => void = typeof setImmediate === 'function'
  ? (resolve) => { setImmediate(resolve); }
  : (resolve) => { setTimeout(resolve, 0); };

/**
 * A function for a loop to await after each piece of work: it yields one event-loop turn (signals, timers, I/O)
 * when `everyMs` have passed since the last, and otherwise returns undefined at once.
 */
export function eventLoopTurns(everyMs = TURN_EVERY_MS): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    if (performance.now() - last < everyMs) return undefined;
    return new Promise<void>(nextTurn).then(() => { last = performance.now(); });
  };
}

/** Thrown by work that was stopped by its AbortSignal (Trainer.evaluate; run() turns it into a stop). */
export class StoppedError extends Error {
  constructor(what: string) {
    super(`${what} stopped: interrupted`);
    this.name = 'StoppedError';
  }
}
