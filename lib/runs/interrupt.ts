/**
 * Ctrl-C during a command-line training run: the handler records where the run stopped, then the process ends
 * as it did before it had a handler (killed by SIGINT). Node delivers a signal only between turns of its event
 * loop, and a training step's awaits all resolve without one (wasm and native reads are synchronous), so the
 * training loop must give the loop a turn now and then (`eventLoopTurns`) for Ctrl-C to be seen mid-epoch.
 */

/** Runs `handler` on the first SIGINT, then re-raises the signal with the handler gone; returns the remover. */
export function onInterrupt(handler: () => void): () => void {
  const listener = () => {
    remove();
    try {
      handler();
    } finally {
      process.kill(process.pid, 'SIGINT');
    }
  };
  const remove = () => {
    process.removeListener('SIGINT', listener);
  };
  process.on('SIGINT', listener);
  return remove;
}

/**
 * A function for each training step to await: at most every `everyMs` milliseconds it yields one turn of the
 * event loop (signals, timers), otherwise it returns at once. One turn costs a few microseconds.
 */
export function eventLoopTurns(everyMs = 50): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < everyMs) return undefined;
    last = now;
    return new Promise((resolve) => setImmediate(resolve));
  };
}
