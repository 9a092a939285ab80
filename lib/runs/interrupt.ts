/**
 * Ctrl-C during a command-line training run: the handler records where the run stopped, then the process ends
 * as it did before it had a handler (killed by SIGINT). Node delivers a signal only between turns of its event
 * loop; the trainer gives the loop a turn every few milliseconds (lib/train/stop.ts), so Ctrl-C is seen mid-epoch.
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
