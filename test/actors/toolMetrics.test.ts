import { describe, expect, it } from 'vitest';
import { createToolMetrics, defaultTriggerSettings, type TriggerSettings } from '../../src/actors/toolMetrics.js';
import { classOfKind, type ClassifiedFailure, type FailureKind } from '../../src/policy/failure.js';

function failureOf(kind: FailureKind): ClassifiedFailure {
  return {
    class: classOfKind[kind],
    kind,
    retryable: classOfKind[kind] === 'transient',
    maybeExecuted: false,
    message: kind,
    rule: 'test',
    cause: { source: 'exception', name: 'Error', message: kind },
  };
}

const timeout = failureOf('timeout');

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

describe('createToolMetrics', () => {
  it("defaults to the seed's triggers: more than 5 failures, or an error rate above 50% of 10 calls, in 5 minutes", () => {
    expect(defaultTriggerSettings).toEqual({
      repeatedFailures: { count: 5, windowMs: 300_000 },
      errorRate: { threshold: 0.5, minimumCalls: 10, windowMs: 300_000 },
    });
  });

  it('knows nothing of a tool before its first call', () => {
    const metrics = createToolMetrics();
    expect(metrics.get('s', 't')).toBeUndefined();
    expect(metrics.list()).toEqual([]);
  });

  it('counts calls, errors by class and the error rate, as ERROR_METRICS', () => {
    const metrics = createToolMetrics();
    metrics.recordAttempt('s', 't', 0);
    metrics.recordAttempt('s', 't', 1, failureOf('timeout'));
    metrics.recordAttempt('s', 't', 2, failureOf('invalid_input'));
    metrics.recordAttempt('s', 't', 3, failureOf('backend_down'));
    metrics.recordAttempt('s', 't', 4, failureOf('rate_limit'));
    metrics.recordAttempt('s', 't', 5);
    metrics.recordAttempt('s', 't', 6);
    metrics.recordAttempt('s', 't', 7);
    expect(metrics.get('s', 't')).toEqual({
      server: 's',
      tool: 't',
      totalCalls: 8,
      totalErrors: 4,
      transientErrors: 2,
      permanentErrors: 1,
      degradedErrors: 1,
      retries: 0,
      retriesExhausted: 0,
      shortCircuits: 0,
      fallbacks: 0,
      cacheHits: 0,
      escalations: { info: 0, warning: 0, critical: 0, emergency: 0 },
      errorRate: 0.5,
    });
  });

  it('counts retries, exhausted retries, short circuits, fallbacks, cache hits and escalations by level', () => {
    const metrics = createToolMetrics();
    metrics.recordRetry('s', 't');
    metrics.recordRetry('s', 't');
    metrics.recordRetriesExhausted('s', 't');
    metrics.recordShortCircuit('s', 't');
    metrics.recordShortCircuit('s', 't');
    metrics.recordShortCircuit('s', 't');
    metrics.recordFallback('s', 't');
    metrics.recordCacheHit('s', 't');
    metrics.recordCacheHit('s', 't');
    metrics.recordEscalation('s', 't', 'warning');
    metrics.recordEscalation('s', 't', 'critical');
    metrics.recordEscalation('s', 't', 'critical');
    expect(metrics.get('s', 't')).toMatchObject({
      totalCalls: 0,
      errorRate: 0,
      retries: 2,
      retriesExhausted: 1,
      shortCircuits: 3,
      fallbacks: 1,
      cacheHits: 2,
      escalations: { info: 0, warning: 1, critical: 2, emergency: 0 },
    });
  });

  it('keeps each server and tool apart and lists them all', () => {
    const metrics = createToolMetrics();
    metrics.recordAttempt('a', 'search', 0);
    metrics.recordAttempt('b', 'search', 0, timeout);
    metrics.recordAttempt('a', 'fetch', 0);
    expect(
      metrics.list().map(({ server, tool, totalCalls, totalErrors }) => [server, tool, totalCalls, totalErrors]),
    ).toEqual([
      ['a', 'search', 1, 0],
      ['b', 'search', 1, 1],
      ['a', 'fetch', 1, 0],
    ]);
  });

  it('hands out copies that callers cannot change', () => {
    const metrics = createToolMetrics();
    metrics.recordAttempt('s', 't', 0);
    const copy = metrics.get('s', 't');
    if (!copy) throw new Error('expected metrics for s/t');
    copy.totalCalls = 99;
    copy.escalations.critical = 99;
    const listed = metrics.list()[0];
    if (!listed) throw new Error('expected one listed tool');
    listed.escalations.info = 99;
    expect(metrics.get('s', 't')).toMatchObject({
      totalCalls: 1,
      escalations: { info: 0, warning: 0, critical: 0, emergency: 0 },
    });
  });

  describe('the repeated-failures trigger', () => {
    it('fires once the failures within the window exceed the count', () => {
      const metrics = createToolMetrics(repeatedOnly);
      expect(metrics.recordAttempt('s', 't', 1000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 2000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 3000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 4000, timeout)).toEqual([
        { trigger: 'repeated_failures', failures: 4, windowMs: 60_000 },
      ]);
    });

    it('does not fire again within the window after firing', () => {
      const metrics = createToolMetrics(repeatedOnly);
      for (const at of [1000, 2000, 3000, 4000]) metrics.recordAttempt('s', 't', at, timeout);
      for (const at of [5000, 30_000, 63_999]) expect(metrics.recordAttempt('s', 't', at, timeout)).toEqual([]);
    });

    it('fires again a window after it last fired while failures still exceed the count', () => {
      const metrics = createToolMetrics(repeatedOnly);
      for (const at of [1000, 2000, 3000, 4000]) metrics.recordAttempt('s', 't', at, timeout);
      for (const at of [30_000, 40_000, 50_000]) expect(metrics.recordAttempt('s', 't', at, timeout)).toEqual([]);
      // (6 s, 66 s] holds the failures at 30 s, 40 s, 50 s and this one.
      expect(metrics.recordAttempt('s', 't', 66_000, timeout)).toEqual([
        { trigger: 'repeated_failures', failures: 4, windowMs: 60_000 },
      ]);
    });

    it('does not count failures that have left the window', () => {
      const metrics = createToolMetrics(repeatedOnly);
      for (const at of [0, 20_000, 40_000, 70_000, 90_000]) {
        expect(metrics.recordAttempt('s', 't', at, timeout)).toEqual([]);
      }
    });

    it('is not checked on a successful call', () => {
      const metrics = createToolMetrics(repeatedOnly);
      for (const at of [1000, 2000, 3000]) metrics.recordAttempt('s', 't', at, timeout);
      expect(metrics.recordAttempt('s', 't', 4000)).toEqual([]);
    });
  });

  describe('the error-rate trigger', () => {
    it('waits for the minimum number of calls', () => {
      const metrics = createToolMetrics(errorRateOnly);
      expect(metrics.recordAttempt('s', 't', 1000)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 2000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 3000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 4000, timeout)).toEqual([
        { trigger: 'error_rate', rate: 0.75, calls: 4, windowMs: 60_000 },
      ]);
    });

    it('needs a rate strictly above the threshold', () => {
      const metrics = createToolMetrics(errorRateOnly);
      metrics.recordAttempt('s', 't', 1000);
      metrics.recordAttempt('s', 't', 2000);
      metrics.recordAttempt('s', 't', 3000, timeout);
      expect(metrics.recordAttempt('s', 't', 4000, timeout)).toEqual([]);
      expect(metrics.recordAttempt('s', 't', 5000, timeout)).toEqual([
        { trigger: 'error_rate', rate: 0.6, calls: 5, windowMs: 60_000 },
      ]);
    });

    it('fires once per window', () => {
      const metrics = createToolMetrics(errorRateOnly);
      for (const at of [1000, 2000, 3000, 4000]) metrics.recordAttempt('s', 't', at, timeout);
      for (const at of [30_000, 40_000, 50_000]) expect(metrics.recordAttempt('s', 't', at, timeout)).toEqual([]);
      // (6 s, 66 s] holds the calls at 30 s, 40 s, 50 s and this one.
      expect(metrics.recordAttempt('s', 't', 66_000, timeout)).toEqual([
        { trigger: 'error_rate', rate: 1, calls: 4, windowMs: 60_000 },
      ]);
    });
  });

  it('reports both triggers when one failure crosses both', () => {
    const metrics = createToolMetrics({
      repeatedFailures: { count: 2, windowMs: 60_000 },
      errorRate: { threshold: 0.5, minimumCalls: 3, windowMs: 60_000 },
    });
    metrics.recordAttempt('s', 't', 1000, timeout);
    metrics.recordAttempt('s', 't', 2000, timeout);
    expect(metrics.recordAttempt('s', 't', 3000, timeout)).toEqual([
      { trigger: 'repeated_failures', failures: 3, windowMs: 60_000 },
      { trigger: 'error_rate', rate: 1, calls: 3, windowMs: 60_000 },
    ]);
  });
});
