// One run that exercises every tool metric, shared by the live = replayed tests over the file log and JetStream.
import { expect } from 'vitest';
import { createRuntime, type RuntimeEvent } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { RawFailure } from '../../src/policy/failure.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { toolKey, type ProjectedToolMetrics } from '../../src/store/projections/index.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { drive } from './driveClock.js';
import { createScriptedConnector } from './scriptedConnector.js';

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
    /** Resolves true when there were appends to wait for. */
    idle: async () => pending.size > 0 && (await Promise.allSettled([...pending])).length > 0,
  };
}

/**
 * Retries, a cache hit, fallbacks, a breaker that opens, short-circuits, half-opens and closes, a call's own
 * escalation, and the runtime's advisories: more than 2 failures in 5 minutes, and an error rate above 50% of 4 calls.
 */
export async function liveRun(store?: EventStore): Promise<{ live: ProjectedToolMetrics[]; events: RuntimeEvent[] }> {
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
      escalation: { repeated_failures: { count: 2 }, error_rate: { threshold: 0.5, minimum_calls: 4 } },
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

/** The live metrics are the projected ones, whole: counts, latency histogram, breaker, attempts in flight. */
export function expectSameMetrics(
  live: ProjectedToolMetrics[],
  projected: ReadonlyMap<string, ProjectedToolMetrics>,
): void {
  expect(live.length).toBeGreaterThanOrEqual(3);
  expect(new Map(live.map((metrics) => [toolKey(metrics), metrics]))).toEqual(projected);
}

/** Every event a store holds, in its order. */
export async function* storedEvents(store: EventStore): AsyncIterable<EventEnvelope> {
  for await (const { event } of store.readAll()) yield event;
}
