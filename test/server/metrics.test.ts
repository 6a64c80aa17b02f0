// /metrics against the log: seed 000's workflows run against the example server with faults, one before the server
// starts (stored history) and two while it serves (live), scraped over HTTP and compared with the log's replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createObservabilityServer, type ObservabilityServer } from '../../src/server/http/observabilityServer.js';
import { stateBytesOf } from '../../src/server/metrics/index.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import {
  foldAll,
  groupWorkflowMetrics,
  toolKey,
  workflowRunProjection,
  type ProjectedToolMetrics,
} from '../../src/store/projections/index.js';
import { replay } from '../../src/store/replay.js';
import { skipWaits } from '../../src/testing/skipWaits.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { loadWorkflow } from '../../src/workflow/loadWorkflow.js';
import { parsePrometheusText, sampleKey, samplesNamed, type Samples } from '../support/promText.js';
import { repoRoot } from '../support/servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function runSeedExample(runtime: Runtime, name: string, plan: string, inputs: Record<string, unknown> = {}) {
  const file = join(repoRoot, 'examples', 'seed-000', `${name}.yaml`);
  const { workflow } = await loadWorkflow(file, { env: { EXAMPLE_PLAN: `examples/plans/${plan}.yaml` } });
  return runtime.spawn(workflow, inputs).done;
}

async function get(server: ObservabilityServer, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`);
}

async function scrape(server: ObservabilityServer): Promise<Samples> {
  const response = await get(server, '/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parsePrometheusText(await response.text());
}

async function storedEvents(log: FileLog): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for await (const { event } of log.readAll()) events.push(event);
  return events;
}

/** Scrapes until the projections behind /metrics have folded `count` events (a bounded poll of real I/O). */
async function scrapeWhenFolded(server: ObservabilityServer, count: number): Promise<Samples> {
  for (let i = 0; i < 500; i += 1) {
    const samples = await scrape(server);
    if (samples.get('retrace_events_projected_total') === count) return samples;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`/metrics never reached ${count} events folded`);
}

/** What /metrics must say of each tool: the replayed projection, series by series. */
function expectedToolSamples(metrics: Iterable<ProjectedToolMetrics>, now: number): Samples {
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

function expectedWorkflowSamples(events: EventEnvelope[]): Samples {
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
function expectSameSeries(scraped: Samples, expected: Samples): void {
  const names = new Set([...expected.keys()].map((key) => key.replace(/\{.*$/, '')));
  const shown = new Map([...names].flatMap((name) => [...samplesNamed(scraped, name)]));
  // Histogram buckets other than +Inf are checked by projectedMetric.test.ts.
  for (const key of shown.keys()) if (key.includes('_bucket{') && !key.includes('le="+Inf"')) shown.delete(key);
  expect(Object.fromEntries(shown)).toEqual(Object.fromEntries(expected));
}

describe('/metrics', () => {
  it('says what the replay of the log says, for stored runs and for runs recorded while it serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-metrics-'));
    const log = await createFileLog({ dir });
    const clock = createTestClock(1_735_689_600_000);
    const runtime = createRuntime({ clock, random: () => 0.5, store: log });
    const skipper = skipWaits(runtime, clock);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => log.close());
    cleanups.push(() => runtime.close());
    cleanups.push(() => skipper.stop());

    const before = await runSeedExample(runtime, 'validation', 'validation-fallback', { schedule_id: 'sched-2025-02' });
    expect(before.status).toBe('succeeded');
    const server = await createObservabilityServer({ runtime, store: log, processMetrics: true });
    cleanups.push(() => server.close());
    expect((await runSeedExample(runtime, 'validation', 'validation-ok')).status).toBe('succeeded');
    expect((await runSeedExample(runtime, 'deployment', 'deployment-emergency')).status).toBe('escalated');

    const events = await storedEvents(log);
    const scraped = await scrapeWhenFolded(server, events.length);
    const { metrics } = replay(events);
    expectSameSeries(scraped, expectedToolSamples(metrics.values(), clock.now()));
    expectSameSeries(scraped, expectedWorkflowSamples(events));

    // The runs did what the plans say, so the comparison above is over real retries, fallbacks and escalations.
    const byId = { server: 'scheduler', tool: 'validate_schedule_by_id_tool' };
    expect(scraped.get(sampleKey('retrace_tool_fallbacks_total', byId))).toBeGreaterThan(0);
    expect(
      scraped.get(sampleKey('retrace_tool_errors_total', { ...byId, class: 'transient', kind: 'unavailable' })),
    ).toBeGreaterThan(3);
    const rollback = { server: 'scheduler', tool: 'rollback_deployment_tool', level: 'emergency' };
    expect(scraped.get(sampleKey('retrace_tool_escalations_total', rollback))).toBe(1);
    expect(
      scraped.get(sampleKey('retrace_workflow_runs', { workflow: 'seed-000-validation', status: 'succeeded' })),
    ).toBe(2);
    expect(metrics.has(toolKey(byId))).toBe(true);

    // The log's own series come from its write hook and counts; the process ones from prom-client.
    expect(scraped.get('retrace_log_records_written_total')).toBe(log.writeStats().records);
    expect(scraped.get('retrace_log_batch_records_count')).toBeGreaterThan(0);
    expect(scraped.get('retrace_log_append_duration_seconds_count')).toBeGreaterThan(0);
    expect(scraped.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(scraped.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });
});
