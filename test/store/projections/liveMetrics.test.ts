import { describe, expect, it } from 'vitest';
import { createRuntime, type RuntimeEvent } from '../../../src/actors/runtime.js';
import type { RawFailure } from '../../../src/policy/failure.js';
import { replay } from '../../../src/store/replay.js';
import { createTestClock, type TestClock } from '../../../src/testing/testClock.js';
import { createScriptedConnector } from '../../support/scriptedConnector.js';
import { toEnvelopes } from './envelopes.js';

const unavailable: RawFailure = { source: 'http', status: 503, headers: {}, message: 'HTTP 503' };
const unauthorized: RawFailure = { source: 'http', status: 401, headers: {}, message: 'HTTP 401' };

async function drive<T>(promise: Promise<T>, clock: TestClock): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 100_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!settled && !clock.runNext()) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return result;
}

describe('metrics replayed from the events', () => {
  it("equal the runtime's live metrics over retries, fallbacks, cache hits, a breaker trip and an escalation", async () => {
    const clock = createTestClock(1_700_000_000_000);
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
    });
    const live: RuntimeEvent[] = [];
    runtime.on('event', (event) => live.push(event));
    const call = (tool: string, args: Record<string, unknown> = {}) =>
      drive(runtime.callTool('srv', tool, args), clock);

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

    const projected = replay(toEnvelopes(live)).metrics;
    const liveMetrics = runtime.metrics();
    expect(liveMetrics.length).toBeGreaterThanOrEqual(3);
    for (const metrics of liveMetrics) {
      const { server, tool } = metrics;
      const replayed = projected.get(`${server}/${tool}`);
      const shared = Object.fromEntries(
        Object.keys(metrics).map((key) => [key, replayed?.[key as keyof typeof replayed]]),
      );
      expect(shared).toEqual(metrics);
    }
    const primary = projected.get('srv/primary');
    expect(primary).toMatchObject({ retries: 2, retriesExhausted: 1, cacheHits: 1, fallbacks: 3, shortCircuits: 3 });
    // Opened 2 s before the clock was moved 30 s on: open for the 30 s cool-down, then half-open 2 s until the probe.
    expect(primary?.breaker).toEqual({ state: 'closed', openings: 1, timeOpenMs: 32_000 });
    expect(projected.get('srv/locked')?.escalations.critical).toBe(1);
    await runtime.close();
  });
});
