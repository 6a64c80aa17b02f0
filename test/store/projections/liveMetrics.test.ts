import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ToolMetrics } from '../../../src/actors/toolMetrics.js';
import { createRuntime, type RuntimeEvent } from '../../../src/actors/runtime.js';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import type { RawFailure } from '../../../src/policy/failure.js';
import type { EventStore } from '../../../src/store/eventStore.js';
import { createFileLog } from '../../../src/store/fileLog.js';
import type { ProjectedToolMetrics } from '../../../src/store/projections/index.js';
import { replay, replayAsync } from '../../../src/store/replay.js';
import { createTestClock, type TestClock } from '../../../src/testing/testClock.js';
import { createScriptedConnector } from '../../support/scriptedConnector.js';
import { toEnvelopes } from './envelopes.js';

const unavailable: RawFailure = { source: 'http', status: 503, headers: {}, message: 'HTTP 503' };
const unauthorized: RawFailure = { source: 'http', status: 401, headers: {}, message: 'HTTP 401' };

/** Waits for the appends under way, so that simulated time moves on only while the runtime waits for a timer. */
function tracked(store: EventStore): { store: EventStore; idle: () => Promise<boolean> } {
  const pending = new Set<Promise<void>>();
  return {
    store: {
      append(events) {
        const append = store.append(events);
        pending.add(append);
        void append.then(
          () => pending.delete(append),
          () => pending.delete(append),
        );
        return append;
      },
      read: (runId, fromSeq) => store.read(runId, fromSeq),
      readAll: (fromPosition) => store.readAll(fromPosition),
      runs: () => store.runs(),
      tail: (options) => store.tail(options),
      close: () => store.close(),
    },
    /** Resolves true when there were appends to wait for. */
    idle: async () => pending.size > 0 && (await Promise.allSettled([...pending])).length > 0,
  };
}

async function drive<T>(promise: Promise<T>, clock: TestClock, idle: () => Promise<boolean>): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 100_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    // Time moves on only once nothing is being written: the call may be waiting for its events to be durable.
    if (settled || (await idle())) continue;
    if (!clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return result;
}

/** Retries, a cache hit, fallbacks, a breaker that opens, short-circuits, half-opens and closes, and an escalation. */
async function liveRun(store?: EventStore): Promise<{ live: ToolMetrics[]; events: RuntimeEvent[] }> {
  const clock = createTestClock(1_700_000_000_000);
  const recording = store ? tracked(store) : undefined;
  const idle = recording ? recording.idle : () => Promise.resolve(false);
  let healthy = true;
  const connector = createScriptedConnector(clock, (request) => {
    if (request.tool === 'locked') return { failure: unauthorized };
    if (request.tool === 'alternative' || healthy) return { text: 'ok' };
    return { failure: unavailable };
  });
  const runtime = createRuntime({
    config: {
      servers: { srv: { command: 'unused' } },
      tools: {
        primary: {
          max_retries: 1,
          jitter: 'none',
          cache: true,
          fallbacks: ['alternative'],
          breaker: { minimum_calls: 4, failure_threshold: 0.5, window_size: 10, cooldown: '30s' },
        },
      },
      // The runtime's advisory escalations (repeated failures, error rate) are not events yet: keep them quiet.
      escalation: { repeated_failures: { count: 1000 }, error_rate: { minimum_calls: 1000 } },
    },
    connector,
    clock,
    random: () => 0.5,
    ...(recording ? { store: recording.store } : {}),
  });
  const events: RuntimeEvent[] = [];
  runtime.on('event', (event) => events.push(event));
  const call = (tool: string, args: Record<string, unknown> = {}) =>
    drive(runtime.callTool('srv', tool, args), clock, idle);

  expect((await call('primary', { id: 1 })).status).toBe('succeeded');
  healthy = false;
  expect((await call('primary', { id: 1 })).status).toBe('cached');
  expect((await call('primary', { id: 2 })).status).toBe('fallback');
  expect((await call('primary', { id: 3 })).status).toBe('fallback');
  expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('open');
  expect((await call('primary', { id: 4 })).attempts[0]?.error?.kind).toBe('circuit_open');
  healthy = true;
  clock.advance(30_000);
  expect((await call('primary', { id: 5 })).status).toBe('succeeded');
  expect((await call('locked')).status).toBe('escalated');
  const live = runtime.metrics();
  await runtime.close();
  return { live, events };
}

/** Every field the live registry has equals the projected one. */
function expectSameMetrics(live: ToolMetrics[], projected: ReadonlyMap<string, ProjectedToolMetrics>): void {
  expect(live.length).toBeGreaterThanOrEqual(3);
  for (const metrics of live) {
    const replayed = projected.get(`${metrics.server}/${metrics.tool}`);
    const shared = Object.fromEntries(
      Object.keys(metrics).map((key) => [key, replayed?.[key as keyof ProjectedToolMetrics]]),
    );
    expect(shared).toEqual(metrics);
  }
}

describe('metrics replayed from the events', () => {
  it("equal the runtime's live metrics over retries, fallbacks, cache hits, a breaker trip and an escalation", async () => {
    const { live, events } = await liveRun();
    const projected = replay(toEnvelopes(events)).metrics;
    expectSameMetrics(live, projected);
    const primary = projected.get('srv/primary');
    expect(primary).toMatchObject({ retries: 2, retriesExhausted: 1, cacheHits: 1, fallbacks: 3, shortCircuits: 3 });
    // Opened 2 s before the clock was moved 30 s on: open for the 30 s cool-down, then half-open 2 s until the probe.
    expect(primary?.breaker).toEqual({ state: 'closed', openings: 1, timeOpenMs: 32_000 });
    expect(projected.get('srv/locked')?.escalations.critical).toBe(1);
  });

  it('equal them too when read back from the file log the runtime recorded to, after a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retrace-projections-'));
    try {
      const store = await createFileLog({ dir });
      const { live } = await liveRun(store);
      await store.close();
      const reopened = await createFileLog({ dir });
      async function* stored(): AsyncIterable<EventEnvelope> {
        for await (const { event } of reopened.readAll()) yield event;
      }
      const result = await replayAsync(stored());
      await reopened.close();
      expectSameMetrics(live, result.metrics);
      expect([...result.runs.values()].filter((run) => run.status === 'running')).toEqual([]);
      expect(result.timelines.size).toBe(7);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
