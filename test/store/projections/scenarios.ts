// Recorded tool-call runs for the projection tests: the real machine on a test clock, its events as envelopes.
import type { EventEnvelope } from '../../../src/events/envelope.js';
import { fail, http, ok, rpc, runCall, target, type HarnessRun } from '../../support/toolCallHarness.js';
import { toEnvelopes } from './envelopes.js';

export const START = 1_000_000;

export interface Recorded {
  run: HarnessRun;
  events: EventEnvelope[];
}

async function record(options: Parameters<typeof runCall>[0]): Promise<Recorded> {
  const run = await runCall(options);
  return { run, events: toEnvelopes(run.events) };
}

/** 503 (12 ms) → backoff 2 s → 429 Retry-After 3 s (5 ms) → backoff 3 s → -32601 (1 ms) → fallback → ok (30 ms). */
export const retriesThenFallback = () =>
  record({
    primary: target('primary', { jitter: 'none', max_retries: 2, fallbacks: ['alternative'] }),
    fallbacks: [target('alternative', { jitter: 'none' })],
    script: {
      primary: [
        fail(http(503), 12),
        fail(http(429, { 'retry-after': '3' }), 5),
        fail(rpc(-32601, 'Method not found'), 1),
      ],
      alternative: [ok('from the alternative', 30)],
    },
  });

/** Two 503s (10 ms each, one retry allowed), then a 42 s old cached result. */
export const cacheAfterRetriesExhausted = () =>
  record({
    primary: target('primary', { cache: true, max_retries: 1, jitter: 'none' }),
    cache: { primary: { result: { content: [{ type: 'text', text: 'cached' }] }, storedAt: START - 42_000 } },
    script: { primary: [fail(http(503), 10), fail(http(503), 10)] },
  });

/** A 401 (7 ms): escalated to a person at once, at critical level. */
export const authEscalation = () => record({ script: { primary: [fail(http(401), 7)] } });

/** Answers at once in 25 ms. */
export const quickSuccess = () => record({ script: { primary: [ok('fine', 25)] } });
