import { describe, expect, it } from 'vitest';
import { foldAll, timelineProjection, type Timeline } from '../../../src/store/projections/index.js';
import { formatTimeline } from '../../../src/store/replay.js';
import { hang, startCall } from '../../support/toolCallHarness.js';
import { toEnvelopes } from './envelopes.js';
import { authEscalation, cacheAfterRetriesExhausted, retriesThenFallback, START } from './scenarios.js';

const timelineOf = (events: Parameters<typeof foldAll>[1]): Timeline | undefined =>
  foldAll(timelineProjection, events).get('run-call-1/call-1');

describe('timeline projection', () => {
  it('lays out attempts, backoffs and a fallback with absolute times and durations', async () => {
    const { events } = await retriesThenFallback();
    const primary = { server: 'srv', tool: 'primary' };
    expect(timelineOf(events)).toEqual({
      runId: 'run-call-1',
      callId: 'call-1',
      requested: primary,
      startedAt: START,
      spans: [
        {
          kind: 'attempt',
          ...primary,
          n: 1,
          route: 'primary',
          startedAt: START,
          endedAt: START + 12,
          durationMs: 12,
          status: 'failed',
          failure: { class: 'transient', kind: 'unavailable', message: 'HTTP 503' },
          decision: 'retry',
          reason: 'retryable',
        },
        { kind: 'backoff', n: 1, startedAt: START + 12, until: START + 2012, delayMs: 2000, retryAfter: false },
        {
          kind: 'attempt',
          ...primary,
          n: 2,
          route: 'primary',
          startedAt: START + 2012,
          endedAt: START + 2017,
          durationMs: 5,
          status: 'failed',
          failure: { class: 'transient', kind: 'rate_limit', message: 'HTTP 429', retryAfterMs: 3000 },
          decision: 'retry',
          reason: 'retryable; server asked to wait',
        },
        { kind: 'backoff', n: 2, startedAt: START + 2017, until: START + 5017, delayMs: 3000, retryAfter: true },
        {
          kind: 'attempt',
          ...primary,
          n: 3,
          route: 'primary',
          startedAt: START + 5017,
          endedAt: START + 5018,
          durationMs: 1,
          status: 'failed',
          failure: { class: 'permanent', kind: 'unimplemented', message: 'Method not found' },
          decision: 'fallback',
          reason: 'unimplemented',
        },
        {
          kind: 'fallback',
          at: START + 5018,
          from: primary,
          to: { server: 'srv', tool: 'alternative' },
          reason: 'unimplemented',
        },
        {
          kind: 'attempt',
          server: 'srv',
          tool: 'alternative',
          n: 4,
          route: 'fallback',
          startedAt: START + 5018,
          endedAt: START + 5048,
          durationMs: 30,
          status: 'succeeded',
        },
      ],
      outcome: { status: 'fallback', at: START + 5048, tool: { server: 'srv', tool: 'alternative' } },
    });
  });

  it('prints the timeline as text lines, offsets from the request', async () => {
    const { events } = await retriesThenFallback();
    const timeline = timelineOf(events);
    expect(timeline && formatTimeline(timeline, 'text').split('\n')).toEqual([
      'call call-1 (run run-call-1) srv/primary at 1970-01-01T00:16:40.000Z',
      '+0ms      attempt 1 srv/primary 12ms transient/unavailable → retry (retryable)',
      '+12ms     backoff 2000ms until 1970-01-01T00:16:42.012Z',
      '+2012ms   attempt 2 srv/primary 5ms transient/rate_limit retry-after 3000ms → retry (retryable; server asked to wait)',
      '+2017ms   backoff 3000ms until 1970-01-01T00:16:45.017Z (Retry-After)',
      '+5017ms   attempt 3 srv/primary 1ms permanent/unimplemented → fallback (unimplemented)',
      '+5018ms   fallback srv/primary → srv/alternative (unimplemented)',
      '+5018ms   attempt 4 srv/alternative (fallback) 30ms ok',
      '+5048ms   outcome fallback via srv/alternative after 5048ms',
    ]);
  });

  it('prints the timeline as JSON that reads back as the same timeline', async () => {
    const { events } = await retriesThenFallback();
    const timeline = timelineOf(events);
    expect(timeline && JSON.parse(formatTimeline(timeline, 'json'))).toEqual(timeline);
  });

  it('shows a cache hit and an escalation as spans', async () => {
    const cached = timelineOf((await cacheAfterRetriesExhausted()).events);
    expect(cached?.spans.at(-1)).toEqual({ kind: 'cache', at: START + 2020, hit: true, ageMs: 44_020 });
    const escalated = timelineOf((await authEscalation()).events);
    expect(escalated && formatTimeline(escalated, 'text').split('\n').slice(1)).toEqual([
      '+0ms      attempt 1 srv/primary 7ms permanent/auth → escalate (auth_failed)',
      '+7ms      escalation critical auth_failed: srv/primary failed (permanent/auth: HTTP 401)',
      '+7ms      outcome escalated on srv/primary after 7ms',
    ]);
  });

  it('marks an attempt cut off by a cancellation as abandoned, and the call as failed', async () => {
    const started = startCall({ startAt: START, script: { primary: [hang] } });
    await new Promise((resolve) => setImmediate(resolve));
    started.clock.advance(40);
    started.run.cancel('stop');
    await started.run.done;
    const timeline = timelineOf(toEnvelopes(started.events));
    expect(timeline?.spans).toMatchObject([{ kind: 'attempt', n: 1, status: 'abandoned' }]);
    expect(timeline?.outcome).toMatchObject({ status: 'failed', error: { kind: 'cancelled' } });
    expect(timeline && formatTimeline(timeline, 'text')).toContain('attempt 1 srv/primary');
  });
});
