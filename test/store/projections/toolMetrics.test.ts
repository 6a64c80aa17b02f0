import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import {
  breakerTimeOpenMs,
  emptyHistogram,
  foldAll,
  noAttemptsInFlight,
  percentile,
  recordLatency,
  reportToolMetrics,
  summarizeLatency,
  toolMetricsProjection,
} from '../../../src/store/projections/index.js';
import { toEnvelopes } from './envelopes.js';
import { authEscalation, cacheAfterRetriesExhausted, retriesThenFallback } from './scenarios.js';

const metricsOf = (events: EventEnvelope[]) => foldAll(toolMetricsProjection, events);

describe('tool metrics projection', () => {
  it("counts the seed's ERROR_METRICS per tool over retries, a Retry-After wait and a fallback", async () => {
    const { events } = await retriesThenFallback();
    const metrics = metricsOf(events);
    const { latency: primaryLatency, ...primary } = metrics.get('srv/primary') ?? {};
    expect(primary).toEqual({
      server: 'srv',
      tool: 'primary',
      totalCalls: 3,
      totalErrors: 3,
      transientErrors: 2,
      permanentErrors: 1,
      degradedErrors: 0,
      errorsByKind: { transient: { rate_limit: 1, unavailable: 1 }, permanent: { unimplemented: 1 } },
      retries: 2,
      retriesExhausted: 0,
      shortCircuits: 0,
      fallbacks: 1,
      cacheHits: 0,
      escalations: { info: 0, warning: 0, critical: 0, emergency: 0 },
      errorRate: 1,
      breaker: { state: 'closed', openings: 0, timeOpenMs: 0 },
      inFlight: noAttemptsInFlight,
    });
    expect(summarizeLatency(primaryLatency ?? emptyHistogram)).toEqual({
      count: 3,
      minMs: 1,
      maxMs: 12,
      meanMs: 6,
      p50Ms: 5,
      p95Ms: 12,
      p99Ms: 12,
    });
    const alternative = metrics.get('srv/alternative');
    expect(alternative).toMatchObject({
      totalCalls: 1,
      totalErrors: 0,
      errorRate: 0,
      fallbacks: 0,
      inFlight: noAttemptsInFlight,
    });
    expect(alternative && summarizeLatency(alternative.latency)).toMatchObject({ count: 1, p50Ms: 30, p99Ms: 30 });
  });

  it('counts exhausted retries, cache hits and escalations by level', async () => {
    const cached = await cacheAfterRetriesExhausted();
    const escalated = await authEscalation();
    const events = [
      ...toEnvelopes(cached.run.events, () => 'run-a'),
      ...toEnvelopes(escalated.run.events, () => 'run-b'),
    ];
    expect(metricsOf(events).get('srv/primary')).toMatchObject({
      totalCalls: 3,
      totalErrors: 3,
      transientErrors: 2,
      permanentErrors: 1,
      retries: 1,
      retriesExhausted: 1,
      fallbacks: 0,
      cacheHits: 1,
      escalations: { info: 0, warning: 0, critical: 1, emergency: 0 },
      errorRate: 1,
    });
  });

  it("tracks a breaker's state and the time it spent open from its events", () => {
    const breaker = (type: string, ts: number, data: Record<string, unknown> = {}): EventEnvelope => ({
      v: 1,
      id: `b-${ts}`,
      runId: 'run-breakers',
      actorId: 'srv/primary',
      seq: ts,
      ts,
      type,
      data,
    });
    const events = [
      breaker('breaker.opened', 1000, { reason: 'failureRatio', failureRatio: 1, calls: 4, openUntil: 31_000 }),
      breaker('breaker.halfOpened', 31_000),
      breaker('breaker.opened', 31_500, { reason: 'probeFailed', failureRatio: 1, calls: 4, openUntil: 61_500 }),
      breaker('breaker.halfOpened', 61_500),
      breaker('breaker.closed', 62_000, { reason: 'probesSucceeded' }),
      breaker('breaker.opened', 100_000, { reason: 'failureRatio', failureRatio: 0.6, calls: 10, openUntil: 130_000 }),
    ];
    const metrics = metricsOf(events).get('srv/primary');
    expect(metrics?.breaker).toEqual({
      state: 'open',
      openings: 3,
      timeOpenMs: 61_000,
      openSince: 100_000,
      openUntil: 130_000,
    });
    expect(metrics && breakerTimeOpenMs(metrics.breaker, 110_000)).toBe(71_000);
    expect(metricsOf(events.slice(0, 2)).get('srv/primary')?.breaker.state).toBe('halfOpen');
    expect(metrics).toMatchObject({ server: 'srv', tool: 'primary', totalCalls: 0 });
  });
});

describe('the metrics report', () => {
  it('shows counts, latency percentiles and the time open so far, without the bookkeeping', async () => {
    const { events } = await retriesThenFallback();
    const metrics = metricsOf(events).get('srv/primary');
    const report = metrics && reportToolMetrics(metrics, 0);
    expect(report).toMatchObject({ server: 'srv', tool: 'primary', totalCalls: 3, retries: 2, errorRate: 1 });
    expect(report?.latency).toEqual({ count: 3, minMs: 1, maxMs: 12, meanMs: 6, p50Ms: 5, p95Ms: 12, p99Ms: 12 });
    expect(report?.breaker).toEqual({ state: 'closed', openings: 0, timeOpenMs: 0 });
    expect(report && 'inFlight' in report).toBe(false);
  });
});

describe('latency histogram', () => {
  it('gives exact percentiles for small whole milliseconds and keeps the argument as it was', () => {
    let histogram = emptyHistogram;
    for (let ms = 1; ms <= 10; ms += 1) histogram = recordLatency(histogram, ms);
    expect([percentile(histogram, 50), percentile(histogram, 95), percentile(histogram, 99)]).toEqual([5, 10, 10]);
    expect(emptyHistogram).toEqual({ count: 0, sumMs: 0, minMs: 0, maxMs: 0, counts: [], sums: [] });
  });

  it('stays within 10% for large values and bounded in size however long the durations', () => {
    let histogram = emptyHistogram;
    for (let i = 1; i <= 1000; i += 1) histogram = recordLatency(histogram, i * 100);
    expect(Math.abs(percentile(histogram, 50) - 50_000) / 50_000).toBeLessThan(0.1);
    expect(Math.abs(percentile(histogram, 99) - 99_000) / 99_000).toBeLessThan(0.1);
    histogram = recordLatency(histogram, 1e12);
    expect(histogram.counts.length).toBeLessThanOrEqual(201);
    expect(percentile(histogram, 100)).toBe(1e12);
    expect(percentile(emptyHistogram, 50)).toBe(0);
  });
});
