// Live metrics equal metrics replayed from JetStream alone, with the JetStream store as the runtime's store (real NATS on 127.0.0.1:4222).
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { RawFailure } from '../../src/policy/failure.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createJetStreamStore } from '../../src/store/jetStreamStore.js';
import { toolKey, type ProjectedToolMetrics } from '../../src/store/projections/index.js';
import { replayAsync } from '../../src/store/replay.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';
import { requireSharedNats } from '../support/natsServer.js';
import { createScriptedConnector } from '../support/scriptedConnector.js';

const tag = randomBytes(4).toString('hex');
const stream = `RETRACE_METRICS_${tag}`;
const subjectPrefix = `retrace.metrics${tag}.events`;
const unavailable: RawFailure = { source: 'http', status: 503, headers: {}, message: 'HTTP 503' };
const unauthorized: RawFailure = { source: 'http', status: 401, headers: {}, message: 'HTTP 401' };
let servers: string;

beforeAll(async () => {
  servers = await requireSharedNats();
});

afterAll(async () => {
  const nc = await connect({ servers });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  await nc.close();
});

/** The store, counting the appends under way: simulated time moves on only while nothing is being written. */
function tracked(store: EventStore): { store: EventStore; writing: () => Promise<boolean> } {
  const pending = new Set<Promise<void>>();
  return {
    store: {
      append(events) {
        const append = store.append(events);
        pending.add(append);
        const forget = (): boolean => pending.delete(append);
        void append.then(forget, forget);
        return append;
      },
      read: (runId, fromSeq) => store.read(runId, fromSeq),
      readAll: (fromPosition) => store.readAll(fromPosition),
      runs: () => store.runs(),
      tail: (options) => store.tail(options),
      close: () => store.close(),
    },
    writing: async () => pending.size > 0 && (await Promise.allSettled([...pending])).length > 0,
  };
}

async function drive<T>(promise: Promise<T>, clock: TestClock, writing: () => Promise<boolean>): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 100_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled || (await writing())) continue;
    if (!clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return result;
}

/** Retries, a cache hit, fallbacks, a breaker that opens, short-circuits, half-opens and closes, escalations and advisories. */
async function liveRun(store: EventStore): Promise<ProjectedToolMetrics[]> {
  const clock = createTestClock(1_700_000_000_000);
  const recording = tracked(store);
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
      escalation: { repeated_failures: { count: 2 }, error_rate: { threshold: 0.5, minimum_calls: 4 } },
    },
    connector,
    clock,
    random: () => 0.5,
    store: recording.store,
  });
  const call = (tool: string, args: Record<string, unknown> = {}) =>
    drive(runtime.callTool('srv', tool, args), clock, recording.writing);

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
  return live;
}

/** The live metrics are the projected ones, whole: counts, latency histogram, breaker, attempts in flight. */
function expectSameMetrics(live: ProjectedToolMetrics[], projected: ReadonlyMap<string, ProjectedToolMetrics>): void {
  expect(live.length).toBeGreaterThanOrEqual(3);
  expect(new Map(live.map((metrics) => [toolKey(metrics), metrics]))).toEqual(projected);
}

describe('metrics replayed from JetStream', () => {
  it("equal the runtime's live metrics when a fresh store reads back the stream the runtime recorded to", async () => {
    const recorder = await createJetStreamStore({ servers, stream, subjectPrefix });
    const live = await liveRun(recorder);
    await recorder.close();

    const reader = await createJetStreamStore({ servers, stream, subjectPrefix });
    try {
      async function* stored(): AsyncIterable<EventEnvelope> {
        for await (const { event } of reader.readAll()) yield event;
      }
      const result = await replayAsync(stored());
      expectSameMetrics(live, result.metrics);
      const primary = result.metrics.get('srv/primary');
      expect(primary).toMatchObject({ retries: 2, retriesExhausted: 1, cacheHits: 1, fallbacks: 3, shortCircuits: 3 });
      expect(primary?.breaker).toMatchObject({ state: 'closed', openings: 1, timeOpenMs: 32_000 });
      expect(primary?.escalations.warning).toBe(2);
      expect(result.metrics.get('srv/locked')?.escalations.critical).toBe(1);
      expect([...result.runs.values()].filter((run) => run.status === 'running')).toEqual([]);
      expect(result.timelines.size).toBe(7);
      // Every run reads back whole by its own subject too.
      const runs = await reader.runs();
      expect(runs.length).toBeGreaterThanOrEqual(8);
      // A run's status is its last event's: an advisory comes before its call's outcome, so only the breakers run.
      expect(runs.filter((run) => run.status === 'running').map((run) => run.runId)).toEqual(['breakers']);
      for (const run of runs) {
        expect((await reader.read(run.runId)).map((event) => event.seq)).toEqual(
          Array.from({ length: run.events }, (_, i) => i + 1),
        );
      }
    } finally {
      await reader.close();
    }
  });
});
