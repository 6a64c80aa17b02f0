import { describe, expect, it } from 'vitest';
import {
  createAdvisoryTriggers,
  defaultTriggerSettings,
  type TriggerSettings,
} from '../../src/actors/advisoryTriggers.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { classOfKind, type FailureKind } from '../../src/policy/failure.js';

let seq = 0;
function envelope(type: string, at: number, data: Record<string, unknown>): EventEnvelope {
  seq += 1;
  return { v: 1, id: `event-${seq}`, runId: 'run', actorId: 'call', seq, ts: at, type, data };
}

/** A failed attempt of `server/tool` at `at`, as the log holds it. */
function failed(at: number, kind: FailureKind = 'timeout', tool = 't'): EventEnvelope {
  const failure = { class: classOfKind[kind], kind, retryable: true, message: kind, rule: 'test' };
  return envelope('toolcall.attempt.failed', at, {
    server: 's',
    tool,
    n: 1,
    durationMs: 5,
    failure,
    decision: 'fail',
    reason: 'test',
    probeToken: 'p',
  });
}

/** A success an attempt answered (`n` present), or one no attempt answered (a cache hit). */
function succeeded(at: number, answeredByAttempt = true): EventEnvelope {
  return envelope('toolcall.succeeded', at, {
    server: 's',
    tool: 't',
    status: answeredByAttempt ? 'succeeded' : 'cached',
    ...(answeredByAttempt ? { n: 1 } : {}),
    cacheable: false,
    args: {},
    warnings: [],
  });
}

/** Only the repeated-failures trigger can fire: more than 3 failures in 60 s. */
const repeatedOnly: TriggerSettings = {
  repeatedFailures: { count: 3, windowMs: 60_000 },
  errorRate: { threshold: 0.5, minimumCalls: Number.MAX_SAFE_INTEGER, windowMs: 60_000 },
};

/** Only the error-rate trigger can fire: more than half of at least 4 calls in 60 s. */
const errorRateOnly: TriggerSettings = {
  repeatedFailures: { count: Number.MAX_SAFE_INTEGER, windowMs: 60_000 },
  errorRate: { threshold: 0.5, minimumCalls: 4, windowMs: 60_000 },
};

const repeated = (failures: number, calls: number) => ({
  trigger: 'repeated_failures',
  server: 's',
  tool: 't',
  windowMs: 60_000,
  failures,
  calls,
  threshold: 3,
});
const rate = (failures: number, calls: number) => ({
  trigger: 'error_rate',
  server: 's',
  tool: 't',
  windowMs: 60_000,
  failures,
  calls,
  threshold: 0.5,
});

describe('createAdvisoryTriggers', () => {
  it("defaults to the seed's triggers: more than 5 failures, or an error rate above 50% of 10 calls, in 5 minutes", () => {
    expect(defaultTriggerSettings).toEqual({
      repeatedFailures: { count: 5, windowMs: 300_000 },
      errorRate: { threshold: 0.5, minimumCalls: 10, windowMs: 300_000 },
    });
  });

  it('counts nothing but attempts: short circuits, cache hits and other events never fire a trigger', () => {
    const triggers = createAdvisoryTriggers({
      repeatedFailures: { count: 0, windowMs: 60_000 },
      errorRate: { threshold: 0, minimumCalls: 1, windowMs: 60_000 },
    });
    expect(triggers.observe(failed(1000, 'circuit_open'))).toEqual([]);
    expect(triggers.observe(succeeded(2000, false))).toEqual([]);
    expect(triggers.observe(envelope('toolcall.fallback.started', 3000, { server: 's', tool: 't' }))).toEqual([]);
    expect(triggers.observe(envelope('breaker.opened', 3000, {}))).toEqual([]);
    // The first attempt made: one failure of one call.
    expect(triggers.observe(failed(4000))).toMatchObject([
      { trigger: 'repeated_failures', failures: 1, calls: 1 },
      { trigger: 'error_rate', failures: 1, calls: 1 },
    ]);
  });

  it('keeps each tool apart', () => {
    const triggers = createAdvisoryTriggers(repeatedOnly);
    for (const at of [1000, 2000, 3000]) triggers.observe(failed(at, 'timeout', 'other'));
    expect(triggers.observe(failed(4000))).toEqual([]);
  });

  describe('the repeated-failures trigger', () => {
    it('fires once the failures within the window exceed the count, with the figures of its window', () => {
      const triggers = createAdvisoryTriggers(repeatedOnly);
      expect(triggers.observe(succeeded(500))).toEqual([]);
      expect(triggers.observe(failed(1000))).toEqual([]);
      expect(triggers.observe(failed(2000))).toEqual([]);
      expect(triggers.observe(failed(3000))).toEqual([]);
      expect(triggers.observe(failed(4000))).toEqual([repeated(4, 5)]);
    });

    it('does not fire again within the window after firing', () => {
      const triggers = createAdvisoryTriggers(repeatedOnly);
      for (const at of [1000, 2000, 3000, 4000]) triggers.observe(failed(at));
      for (const at of [5000, 30_000, 63_999]) expect(triggers.observe(failed(at))).toEqual([]);
    });

    it('fires again a window after it last fired while failures still exceed the count', () => {
      const triggers = createAdvisoryTriggers(repeatedOnly);
      for (const at of [1000, 2000, 3000, 4000]) triggers.observe(failed(at));
      for (const at of [30_000, 40_000, 50_000]) expect(triggers.observe(failed(at))).toEqual([]);
      // (6 s, 66 s] holds the failures at 30 s, 40 s, 50 s and this one.
      expect(triggers.observe(failed(66_000))).toEqual([repeated(4, 4)]);
    });

    it('does not count failures that have left the window', () => {
      const triggers = createAdvisoryTriggers(repeatedOnly);
      for (const at of [0, 20_000, 40_000, 70_000, 90_000]) expect(triggers.observe(failed(at))).toEqual([]);
    });

    it('is not checked on a successful call', () => {
      const triggers = createAdvisoryTriggers(repeatedOnly);
      for (const at of [1000, 2000, 3000]) triggers.observe(failed(at));
      expect(triggers.observe(succeeded(4000))).toEqual([]);
    });
  });

  describe('the error-rate trigger', () => {
    it('waits for the minimum number of calls', () => {
      const triggers = createAdvisoryTriggers(errorRateOnly);
      expect(triggers.observe(succeeded(1000))).toEqual([]);
      expect(triggers.observe(failed(2000))).toEqual([]);
      expect(triggers.observe(failed(3000))).toEqual([]);
      expect(triggers.observe(failed(4000))).toEqual([rate(3, 4)]);
    });

    it('needs a rate strictly above the threshold', () => {
      const triggers = createAdvisoryTriggers(errorRateOnly);
      triggers.observe(succeeded(1000));
      triggers.observe(succeeded(2000));
      triggers.observe(failed(3000));
      expect(triggers.observe(failed(4000))).toEqual([]);
      expect(triggers.observe(failed(5000))).toEqual([rate(3, 5)]);
    });

    it('fires once per window', () => {
      const triggers = createAdvisoryTriggers(errorRateOnly);
      for (const at of [1000, 2000, 3000, 4000]) triggers.observe(failed(at));
      for (const at of [30_000, 40_000, 50_000]) expect(triggers.observe(failed(at))).toEqual([]);
      // (6 s, 66 s] holds the calls at 30 s, 40 s, 50 s and this one.
      expect(triggers.observe(failed(66_000))).toEqual([rate(4, 4)]);
    });
  });

  it('reports both triggers when one failure crosses both', () => {
    const triggers = createAdvisoryTriggers({
      repeatedFailures: { count: 2, windowMs: 60_000 },
      errorRate: { threshold: 0.5, minimumCalls: 3, windowMs: 60_000 },
    });
    triggers.observe(failed(1000));
    triggers.observe(failed(2000));
    expect(triggers.observe(failed(3000))).toEqual([
      { ...repeated(3, 3), threshold: 2 },
      { ...rate(3, 3), threshold: 0.5 },
    ]);
  });
});
