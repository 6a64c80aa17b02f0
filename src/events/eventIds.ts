// Event ids: ULIDs, so ids sort by the time they were made; clock and randomness are injected, so tests are exact.
import { decodeTime, monotonicFactory } from 'ulidx';
import type { Clock, RandomSource } from '../common/clock.js';

export type EventIdFactory = () => string;

export interface EventIdOptions {
  clock: Pick<Clock, 'now'>;
  /** Uniform in [0, 1); feeds the 80 random bits. */
  random: RandomSource;
}

/**
 * Each id is greater than the one before, even within one millisecond or when the clock steps back
 * (the monotonic factory then increments the last id's random part).
 */
export function createEventIdFactory(options: EventIdOptions): EventIdFactory {
  const next = monotonicFactory(options.random);
  // ulidx's monotonic factory starts from time 0 with no random part yet: a clock at 0 (a test clock) must not reach it.
  return () => next(Math.max(1, options.clock.now()));
}

/** The clock time (ms) an event id was made at. */
export function eventIdTime(id: string): number {
  return decodeTime(id);
}
