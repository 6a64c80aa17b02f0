// /metrics over the JetStream store (real NATS on 127.0.0.1:4222): retries, a cache hit, fallbacks, a breaker trip,
// escalations and advisories, recorded while the server follows the stream, say what the stream's replay says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createObservabilityServer } from '../../src/server/http/observabilityServer.js';
import { createJetStreamStore } from '../../src/store/jetStreamStore.js';
import { replay } from '../../src/store/replay.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { liveRun, storedEvents } from '../support/metricsScenario.js';
import { expectSameSeries, expectedToolSamples, scrapeFolded } from '../support/metricsScrape.js';
import { requireSharedNats, throwawayStream } from '../support/natsServer.js';
import { sampleKey } from '../support/promText.js';

const { stream, subjectPrefix, remove } = throwawayStream('serve');
let servers: string;

beforeAll(async () => {
  servers = await requireSharedNats();
});

afterAll(() => remove(servers));

describe('/metrics over JetStream', () => {
  it('says what the replay of the stream says, for events recorded while it serves', async () => {
    const store = await createJetStreamStore({ servers, stream, subjectPrefix });
    // The scenario's breaker ends closed, so no series reads the clock: any clock serves the server.
    const server = await createObservabilityServer({
      runtime: { clock: createTestClock(0) },
      store,
      processMetrics: false,
    });
    try {
      await liveRun(store);
      const events: EventEnvelope[] = [];
      for await (const event of storedEvents(store)) events.push(event);
      const scraped = await scrapeFolded(server, events.length);
      expectSameSeries(scraped, expectedToolSamples(replay(events).metrics.values(), 0));
      const primary = { server: 'srv', tool: 'primary' };
      expect(scraped.get(sampleKey('retrace_breaker_openings_total', primary))).toBe(1);
      expect(scraped.get(sampleKey('retrace_tool_short_circuits_total', primary))).toBe(3);
      expect(scraped.get(sampleKey('retrace_tool_escalations_total', { ...primary, level: 'warning' }))).toBe(2);
      expect(scraped.has('retrace_log_writes_total')).toBe(false);
      const readiness = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, unknown> };
      expect(readiness.checks['log']).toEqual({
        ok: true,
        what: 'the log accepts appends',
        detail: 'not checked by this store',
      });
    } finally {
      await server.close();
      await store.close();
    }
  });
});
