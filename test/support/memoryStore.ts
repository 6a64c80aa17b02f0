// An in-memory EventStore for runtime tests (the file log and JetStream have their own suites).
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { EventStore, RunSummary, StoredEvent } from '../../src/store/eventStore.js';
import { terminalStatus } from '../../src/store/eventStore.js';

export function createMemoryStore(
  options: { failAppends?: () => boolean } = {},
): EventStore & { events: EventEnvelope[] } {
  const events: EventEnvelope[] = [];
  return {
    events,
    append(batch) {
      if (options.failAppends?.()) return Promise.reject(new Error('disk full'));
      events.push(...batch);
      return Promise.resolve();
    },
    read: (runId, fromSeq = 1) =>
      Promise.resolve(events.filter((event) => event.runId === runId && event.seq >= fromSeq)),
    async *readAll(): AsyncIterable<StoredEvent> {
      for (const [index, event] of events.entries()) yield { position: String(index), event };
    },
    runs() {
      const runs = new Map<string, RunSummary>();
      for (const event of events) {
        const run = runs.get(event.runId);
        const status = terminalStatus(event.type) ?? run?.status ?? 'running';
        runs.set(event.runId, {
          runId: event.runId,
          status,
          events: (run?.events ?? 0) + 1,
          lastSeq: event.seq,
          firstTs: run?.firstTs ?? event.ts,
          lastTs: event.ts,
          lastType: event.type,
        });
      }
      return Promise.resolve([...runs.values()]);
    },
    async *tail(): AsyncIterable<EventEnvelope> {},
    close: () => Promise.resolve(),
  };
}
