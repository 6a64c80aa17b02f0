import { describe, expect, it } from 'vitest';
import { foldAll, initialRunState, reduceRunState, runStateProjection } from '../../../src/store/projections/index.js';
import { authEscalation, cacheAfterRetriesExhausted, retriesThenFallback, START } from './scenarios.js';

const fold = (events: Parameters<typeof foldAll>[1]) => foldAll(runStateProjection, events).get('run-call-1');

describe('run state projection', () => {
  it('rebuilds retries, a Retry-After wait and a fallback: attempts with timing, classification and decisions', async () => {
    const { events } = await retriesThenFallback();
    expect(fold(events)).toEqual({
      runId: 'run-call-1',
      status: 'succeeded',
      callId: 'call-1',
      current: { server: 'srv', tool: 'alternative' },
      attempts: [
        {
          callId: 'call-1',
          n: 1,
          server: 'srv',
          tool: 'primary',
          route: 'primary',
          startedAt: START,
          status: 'failed',
          endedAt: START + 12,
          durationMs: 12,
          failure: { class: 'transient', kind: 'unavailable', message: 'HTTP 503' },
          decision: 'retry',
          reason: 'retryable',
        },
        {
          callId: 'call-1',
          n: 2,
          server: 'srv',
          tool: 'primary',
          route: 'primary',
          startedAt: START + 2012,
          status: 'failed',
          endedAt: START + 2017,
          durationMs: 5,
          failure: { class: 'transient', kind: 'rate_limit', message: 'HTTP 429', retryAfterMs: 3000 },
          decision: 'retry',
          reason: 'retryable; server asked to wait',
        },
        {
          callId: 'call-1',
          n: 3,
          server: 'srv',
          tool: 'primary',
          route: 'primary',
          startedAt: START + 5017,
          status: 'failed',
          endedAt: START + 5018,
          durationMs: 1,
          failure: { class: 'permanent', kind: 'unimplemented', message: 'Method not found' },
          decision: 'fallback',
          reason: 'unimplemented',
        },
        {
          callId: 'call-1',
          n: 4,
          server: 'srv',
          tool: 'alternative',
          route: 'fallback',
          startedAt: START + 5018,
          status: 'succeeded',
          endedAt: START + 5048,
          durationMs: 30,
        },
      ],
      outcome: { status: 'fallback', at: START + 5048, tool: { server: 'srv', tool: 'alternative' } },
      startedAt: START,
      finishedAt: START + 5048,
      lastSeq: 12,
      events: 12,
    });
  });

  it('shows the pending backoff while a run waits, and drops it when the next attempt starts', async () => {
    const { events } = await retriesThenFallback();
    const waiting = fold(events.slice(0, 7));
    expect(waiting?.status).toBe('running');
    expect(waiting?.pendingBackoff).toEqual({
      callId: 'call-1',
      n: 2,
      delayMs: 3000,
      until: START + 5017,
      retryAfter: true,
    });
    expect(fold(events.slice(0, 8))?.pendingBackoff).toBeUndefined();
    expect(fold(events.slice(0, 8))?.attempts.at(-1)?.status).toBe('running');
  });

  it('ends a run served from the cache as succeeded with a cached outcome', async () => {
    const { events } = await cacheAfterRetriesExhausted();
    const state = fold(events);
    expect(state?.status).toBe('succeeded');
    expect(state?.outcome).toEqual({ status: 'cached', at: START + 2020, tool: { server: 'srv', tool: 'primary' } });
    expect(state?.attempts.map((attempt) => [attempt.n, attempt.status, attempt.decision])).toEqual([
      [1, 'failed', 'retry'],
      [2, 'failed', 'fallback'],
    ]);
  });

  it('ends an escalated run with the escalation as its outcome', async () => {
    const { events } = await authEscalation();
    const state = fold(events);
    expect(state?.status).toBe('escalated');
    expect(state?.finishedAt).toBe(START + 7);
    expect(state?.outcome).toMatchObject({
      status: 'escalated',
      escalation: { level: 'critical', trigger: 'auth_failed', server: 'srv', tool: 'primary' },
    });
  });

  it('leaves the state it is given untouched', async () => {
    const { events } = await retriesThenFallback();
    const frozen = structuredClone(initialRunState);
    let state = initialRunState;
    const snapshots = events.map((event) => {
      const before = structuredClone(state);
      const next = reduceRunState(state, event);
      expect(state).toEqual(before);
      state = next;
      return next;
    });
    expect(initialRunState).toEqual(frozen);
    expect(snapshots).toHaveLength(events.length);
  });
});
