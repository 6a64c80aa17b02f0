// The one source of time for everything that stamps or waits: XState's SimulatedClock fits it in tests.

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A source of uniform numbers in [0, 1); injected so jitter is reproducible. */
export type RandomSource = () => number;

export const systemRandom: RandomSource = () => Math.random();

/**
 * Waits `delayMs` on the clock (forever when undefined); true when the time passed, false when the signal
 * aborted first.
 */
export function waitOrAbort(clock: Clock, delayMs: number | undefined, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = delayMs === undefined ? undefined : clock.setTimeout(() => done(true), delayMs);
    const onAbort = (): void => done(false);
    function done(elapsed: boolean): void {
      if (timer !== undefined) clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
