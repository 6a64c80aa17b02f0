// Runs a promise on the simulated clock: lets the event loop turn, then moves time to the next timer, until it settles.
import type { TestClock } from '../../src/testing/testClock.js';

/**
 * `busy` says there is real I/O under way (appends to a store): time stands still until it is done, since the
 * call may be waiting for its events to be durable rather than for a timer.
 */
export async function drive<T>(
  promise: Promise<T>,
  clock: TestClock,
  busy: () => Promise<boolean> = () => Promise.resolve(false),
): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  result.catch(() => undefined); // the caller awaits it; a rejection before then is not unhandled
  for (let i = 0; i < 100_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled || (await busy())) continue;
    if (!clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return result;
}
