// Scraping /metrics in tests, and what it must say: the series built from a replay of the same log.
import { expect } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { ObservabilityServer } from '../../src/server/http/observabilityServer.js';
import { stateBytesOf } from '../../src/server/metrics/index.js';
import {
  foldAll,
  groupWorkflowMetrics,
  workflowRunProjection,
  type ProjectedToolMetrics,
} from '../../src/store/projections/index.js';
import { replay } from '../../src/store/replay.js';
import { parsePrometheusText, sampleKey, samplesNamed, type Samples } from './promText.js';

async function get(server: ObservabilityServer, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`);
}

export async function scrape(server: ObservabilityServer): Promise<Samples> {
  const response = await get(server, '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parsePrometheusText(await response.text());
}

/** One scrape, which must have folded every one of the log's `count` events (a scrape catches up first). */
export async function scrapeFolded(server: ObservabilityServer, count: number): Promise<Samples> {
  const samples = await scrape(server);
  expect(samples.get('retrace_events_projected_total')).toBe(count);
  return samples;
}

/** What /metrics must say of each tool: the replayed projection, series by series. */
export function expectedToolSamples(metrics: Iterable<ProjectedToolMetrics>, now: number): Samples {
  const expected: Samples = new Map();
  for (const m of metrics) {
    const tool = { server: m.server, tool: m.tool };
    const put = (name: string, value: number, labels: Record<string, string> = {}) =>
      expected.set(sampleKey(name, { ...tool, ...labels }), value);
    put('retrace_tool_calls_total', m.totalCalls);
    put('retrace_tool_retries_total', m.retries);
    put('retrace_tool_retries_exhausted_total', m.retriesExhausted);
    put('retrace_tool_short_circuits_total', m.shortCircuits);
    put('retrace_tool_fallbacks_total', m.fallbacks);
    put('retrace_tool_cache_hits_total', m.cacheHits);
    put('retrace_breaker_openings_total', m.breaker.openings);
    for (const [failureClass, kinds] of Object.entries(m.errorsByKind)) {
      for (const [kind, count] of Object.entries(kinds)) {
        put('retrace_tool_errors_total', count, { class: failureClass, kind });
      }
    }
    for (const [level, count] of Object.entries(m.escalations)) put('retrace_tool_escalations_total', count, { level });
    for (const state of ['closed', 'open', 'halfOpen']) {
      put('retrace_breaker_state', m.breaker.state === state ? 1 : 0, { state });
    }
    const openMs = m.breaker.timeOpenMs + (m.breaker.openSince === undefined ? 0 : now - m.breaker.openSince);
    put('retrace_breaker_open_seconds_total', openMs / 1000);
    put('retrace_tool_attempt_duration_seconds_count', m.latency.count);
    put('retrace_tool_attempt_duration_seconds_sum', m.latency.sumMs / 1000);
    put('retrace_tool_attempt_duration_seconds_bucket', m.latency.count, { le: '+Inf' });
  }
  return expected;
}

export function expectedWorkflowSamples(events: EventEnvelope[]): Samples {
  const expected: Samples = new Map();
  const { workflowMetrics } = replay(events);
  for (const { report, durations } of groupWorkflowMetrics(workflowMetrics.values())) {
    const workflow = { workflow: report.name };
    for (const status of ['running', 'succeeded', 'failed', 'escalated', 'cancelled'] as const) {
      expected.set(sampleKey('retrace_workflow_runs', { ...workflow, status }), report.runs[status]);
    }
    expected.set(sampleKey('retrace_workflow_steps_total', workflow), report.stepsExecuted);
    expected.set(sampleKey('retrace_workflow_steps_per_second', workflow), report.stepsPerSecond);
    expected.set(sampleKey('retrace_workflow_escalations_total', workflow), report.escalations);
    for (const what of ['retries', 'fallbacks'] as const) {
      expected.set(sampleKey(`retrace_workflow_${what}_total`, { ...workflow, of: 'step' }), report[what].steps);
      expected.set(
        sampleKey(`retrace_workflow_${what}_total`, { ...workflow, of: 'tool_call' }),
        report[what].toolCalls,
      );
    }
    expected.set(sampleKey('retrace_workflow_duration_seconds_count', workflow), durations.count);
    expected.set(sampleKey('retrace_workflow_duration_seconds_sum', workflow), durations.sumMs / 1000);
  }
  const largest = new Map<string, number>();
  for (const view of foldAll(workflowRunProjection, events).values()) {
    largest.set(view.name, Math.max(largest.get(view.name) ?? 0, stateBytesOf(view)));
  }
  for (const [workflow, bytes] of largest)
    expected.set(sampleKey('retrace_workflow_state_bytes_max', { workflow }), bytes);
  return expected;
}

/** The scraped samples of the expected series' names, compared whole: no series missing, none extra. */
export function expectSameSeries(scraped: Samples, expected: Samples): void {
  const names = new Set([...expected.keys()].map((key) => key.replace(/\{.*$/, '')));
  const shown = new Map([...names].flatMap((name) => [...samplesNamed(scraped, name)]));
  // Histogram buckets other than +Inf are checked by projectedMetric.test.ts.
  for (const key of shown.keys()) if (key.includes('_bucket{') && !key.includes('le="+Inf"')) shown.delete(key);
  expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(expected));
}
