// Envelopes shared by the event parser tests.
import { isRetraceError, type RetraceError } from '../../src/common/errors.js';

/** A current, valid `toolcall.backoff.scheduled` envelope. */
export const backoffEnvelope = {
  v: 1,
  id: '01JD0000000000000000000000',
  runId: 'run-1',
  actorId: 'call-1',
  seq: 4,
  ts: 1_700_000_000_000,
  type: 'toolcall.backoff.scheduled',
  data: { server: 'db', tool: 'query', n: 1, delayMs: 1200, until: 1_700_000_001_200, retryAfter: false },
};

/** The RetraceError `attempt()` throws (the test fails if it throws anything else, or nothing). */
export function retraceErrorOf(attempt: () => unknown): RetraceError {
  let thrown: unknown;
  try {
    attempt();
  } catch (error) {
    thrown = error;
  }
  if (!isRetraceError(thrown)) throw new Error(`expected a RetraceError, got ${String(thrown)}`);
  return thrown;
}
