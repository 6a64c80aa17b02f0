// Skips a runtime's waits (backoff, poll intervals) on a test clock while its tool calls stay real I/O.
import type { Runtime, RuntimeEvent } from '../actors/runtime.js';
import type { TestClock } from './testClock.js';

export interface WaitSkipper {
  /** Logical time skipped so far, in ms. */
  skippedMs(): number;
  stop(): void;
}

/** Events after which a call has no attempt in flight any more. */
const attemptEnds = new Set<RuntimeEvent['type']>([
  'toolcall.attempt.failed',
  'toolcall.succeeded',
  'toolcall.failed',
  'toolcall.escalated',
]);

/**
 * Fires the clock's next timer whenever the process is quiet and no attempt is in flight: an attempt's
 * timeout never fires while a real server is answering, and hours of waiting pass in milliseconds. An attempt
 * that never answers (a `hang` fault) holds time still: use it only with an attempt timeout you can wait for.
 * `quietMs` is the real time to let I/O (a file log's fsync) settle before skipping ahead.
 */
export function skipWaits(runtime: Runtime, clock: TestClock, options: { quietMs?: number } = {}): WaitSkipper {
  const quietMs = options.quietMs ?? 2;
  const inFlight = new Set<string>();
  let skipped = 0;
  let stopped = false;
  const unsubscribe = runtime.on('event', (event) => {
    if (!('callId' in event)) return;
    if (event.type === 'toolcall.attempt.started') inFlight.add(event.callId);
    else if (attemptEnds.has(event.type)) inFlight.delete(event.callId);
  });
  const tick = () => {
    if (stopped) return;
    if (inFlight.size === 0) {
      const before = clock.now();
      if (clock.runNext()) skipped += clock.now() - before;
    }
    setTimeout(tick, quietMs);
  };
  setTimeout(tick, quietMs);
  return {
    skippedMs: () => skipped,
    stop() {
      stopped = true;
      unsubscribe();
    },
  };
}
