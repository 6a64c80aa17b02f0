import { describe, expect, it } from 'vitest';
import { remainingBackoffMs, resumeToolCall } from '../../../src/store/projections/index.js';
import { fail, http, ok, runCall, target } from '../../support/toolCallHarness.js';
import { toEnvelopes } from './envelopes.js';
import { retriesThenFallback, START } from './scenarios.js';

describe('resuming a tool call from its events', () => {
  it("keeps a pending backoff's recorded deadline: the remaining delay at now, 0 once overdue", async () => {
    const { events } = await retriesThenFallback();
    // Cut after `toolcall.backoff.scheduled` of attempt 2 (Retry-After 3 s, until START + 5017).
    const upToBackoff = events.slice(0, 7);
    const point = resumeToolCall(upToBackoff, START + 3017);
    expect(point).toEqual({
      runId: 'run-call-1',
      callId: 'call-1',
      requested: { server: 'srv', tool: 'primary' },
      current: { server: 'srv', tool: 'primary' },
      route: 'primary',
      fallbacksStarted: 0,
      attempts: 2,
      retriesOnTarget: 2,
      backoff: { n: 2, delayMs: 3000, until: START + 5017 },
      cacheTried: false,
      lastTs: START + 2017,
      next: 'wait',
      remainingMs: 2000,
    });
    expect(resumeToolCall(upToBackoff, START + 9000).remainingMs).toBe(0);
    expect(remainingBackoffMs({ n: 1, delayMs: 10, until: 100 }, 95)).toBe(5);
  });

  it('starts counting retries again on a fallback tool', async () => {
    const { events } = await retriesThenFallback();
    // Cut after `toolcall.fallback.started`: the next attempt goes to the alternative with no retry used.
    const point = resumeToolCall(events.slice(0, 10), START + 5018);
    expect(point).toMatchObject({
      current: { server: 'srv', tool: 'alternative' },
      route: 'fallback',
      fallbacksStarted: 1,
      attempts: 3,
      retriesOnTarget: 0,
      next: 'attempt',
    });
    expect(point.backoff).toBeUndefined();
  });

  it('reports an attempt that started and never ended (a crash cut it off)', async () => {
    const { events } = await retriesThenFallback();
    const point = resumeToolCall(events.slice(0, 8), START + 6000);
    expect(point.next).toBe('recover_in_flight');
    expect(point.inFlight).toEqual({ server: 'srv', tool: 'primary', n: 3, startedAt: START + 5017 });
    expect(point.retriesOnTarget).toBe(2);
  });

  it('says a finished call is done, with its outcome status', async () => {
    const { events } = await retriesThenFallback();
    const point = resumeToolCall(events, START + 10_000);
    expect(point.next).toBe('done');
    expect(point.finished).toEqual({ status: 'fallback', at: START + 5048 });
    expect(point.inFlight).toBeUndefined();
  });

  it('resumes a call whose live run retried on a 503 and then answered', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', max_retries: 3 }),
      script: { primary: [fail(http(503), 4), fail(http(503), 4), ok('fine', 4)] },
    });
    const events = toEnvelopes(run.events);
    const waitingIndex = events.findLastIndex((event) => event.type === 'toolcall.backoff.scheduled');
    // Attempt 2 failed at START + 2008 (4 ms after its 2 s backoff): the retry is due at START + 4008.
    const point = resumeToolCall(events.slice(0, waitingIndex + 1), START + 3008);
    expect(point).toMatchObject({ attempts: 2, retriesOnTarget: 2, next: 'wait', remainingMs: 1000 });
    expect(run.outcome.attempts.map((attempt) => attempt.delayMs)).toEqual([2000, 2000, undefined]);
  });
});
