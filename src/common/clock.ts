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
