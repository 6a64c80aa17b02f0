// Live metrics equal metrics replayed from JetStream alone, with the JetStream store as the runtime's store (real NATS on 127.0.0.1:4222).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJetStreamStore } from '../../src/store/jetStreamStore.js';
import { replayAsync } from '../../src/store/replay.js';
import { expectSameMetrics, liveRun, storedEvents } from '../support/metricsScenario.js';
import { requireSharedNats, throwawayStream } from '../support/natsServer.js';

const { stream, subjectPrefix, remove } = throwawayStream('metrics');
let servers: string;

beforeAll(async () => {
  servers = await requireSharedNats();
});

afterAll(() => remove(servers));

describe('metrics replayed from JetStream', () => {
  it("equal the runtime's live metrics when a fresh store reads back the stream the runtime recorded to", async () => {
    const recorder = await createJetStreamStore({ servers, stream, subjectPrefix });
    const { live } = await liveRun(recorder);
    await recorder.close();

    const reader = await createJetStreamStore({ servers, stream, subjectPrefix });
    try {
      const result = await replayAsync(storedEvents(reader));
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
