// /metrics against the log: seed 000's workflows run against the example server with faults, one before the server
// starts (stored history) and two while it serves (live), scraped over HTTP and compared with the log's replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createObservabilityServer } from '../../src/server/http/observabilityServer.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { toolKey } from '../../src/store/projections/index.js';
import { replay } from '../../src/store/replay.js';
import { skipWaits } from '../../src/testing/skipWaits.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { loadWorkflow } from '../../src/workflow/loadWorkflow.js';
import {
  expectSameSeries,
  expectedToolSamples,
  expectedWorkflowSamples,
  scrapeFolded,
} from '../support/metricsScrape.js';
import { sampleKey } from '../support/promText.js';
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

async function storedEvents(log: FileLog): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for await (const { event } of log.readAll()) events.push(event);
  return events;
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
    const scraped = await scrapeFolded(server, events.length);
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
