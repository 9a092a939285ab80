/**
 * An interrupt source a test fires, standing in for the kernel's SIGINT (lib/notebook/interrupt.ts), and a wait
 * that polls: the notebook tests that stop training part-way share them.
 */
import type { Interrupts } from '../../lib/notebook/interrupt';
import { Session, train } from '../../lib/notebook/session';

/** An interrupt source the test fires (as Jupyter's SIGINT would); `atOnce` fires as soon as a call listens. */
export function testInterrupts(atOnce = false): Interrupts & { fire(): void } {
  const listeners = new Set<() => void>();
  return {
    listen(listener) {
      listeners.add(listener);
      if (atOnce) queueMicrotask(listener);
      return () => { listeners.delete(listener); };
    },
    fire: () => { for (const listener of listeners) listener(); },
  };
}

/** Resolves once `condition` holds (checked every 5 ms: timers run only if the work yields). */
export function when(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
}

/** Starts train(session) and fires an interrupt once `steps` steps are done; returns the call (still stopping). */
export async function interruptAfter(session: Session, interrupts: ReturnType<typeof testInterrupts>, steps: number): Promise<{ call: Promise<void> }> {
  const call = train(session);
  await when(() => session.run.trainer.state.step >= steps);
  interrupts.fire();
  return { call };
}
