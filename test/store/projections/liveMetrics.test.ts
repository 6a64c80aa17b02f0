import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileLog } from '../../../src/store/fileLog.js';
import { formatTimeline, replay, replayStore } from '../../../src/store/replay.js';
import { expectSameMetrics, liveRun } from '../../support/metricsScenario.js';
import { toEnvelopes } from './envelopes.js';

describe('metrics replayed from the events', () => {
  it("equal the runtime's live metrics over retries, fallbacks, cache hits, a breaker trip and escalations", async () => {
    const { live, events } = await liveRun();
    const advisories = events.filter((event) => event.type === 'toolcall.advisory.raised');
    expect(advisories.map((event) => event.escalation.trigger).sort()).toEqual(['error_rate', 'repeated_failures']);
    const projected = replay(toEnvelopes(events)).metrics;
    expectSameMetrics(live, projected);
    const primary = projected.get('srv/primary');
    expect(primary).toMatchObject({ retries: 2, retriesExhausted: 1, cacheHits: 1, fallbacks: 3, shortCircuits: 3 });
    expect(primary?.escalations).toEqual({ info: 0, warning: 2, critical: 0, emergency: 0 });
    expect(primary?.latency.count).toBe(primary?.totalCalls);
    // Opened 2 s before the clock was moved 30 s on: open for the 30 s cool-down, then half-open 2 s until the probe.
    expect(primary?.breaker).toEqual({
      state: 'closed',
      openings: 1,
      timeOpenMs: 32_000,
      openSince: undefined,
      openUntil: undefined,
    });
    expect(projected.get('srv/locked')?.escalations.critical).toBe(1);
  });

  it('equal them too when read back from the file log the runtime recorded to, after a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retrace-projections-'));
    try {
      const store = await createFileLog({ dir });
      const { live } = await liveRun(store);
      await store.close();
      const reopened = await createFileLog({ dir });
      // As `retrace metrics` reads it: every record, decoded on the trusted path.
      const result = await replayStore(reopened);
      await reopened.close();
      expectSameMetrics(live, result.metrics);
      expect([...result.runs.values()].filter((run) => run.status === 'running')).toEqual([]);
      expect(result.timelines.size).toBe(7);
      const timelines = [...result.timelines.values()].map((timeline) => formatTimeline(timeline, 'text')).join('\n');
      expect(timelines).toMatch(
        /advisory warning repeated_failures: srv\/primary failed 3 times in 5 minutes \(3 of \d+ attempts failed in 300000ms\)/,
      );
      expect(timelines).toMatch(/advisory warning error_rate: srv\/primary error rate \d+% over \d+ calls/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
