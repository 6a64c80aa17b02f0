import { describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { replay, replayStore } from '../../src/store/replay.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { toEnvelopes } from './projections/envelopes.js';
import { authEscalation, retriesThenFallback } from './projections/scenarios.js';

async function storeOf(events: EventEnvelope[]) {
  const store = createMemoryStore();
  await store.append(events);
  return store;
}

describe('replayStore', () => {
  it("folds a store's events as replay folds the same events", async () => {
    const events = [
      ...toEnvelopes((await retriesThenFallback()).run.events, () => 'run-a'),
      ...toEnvelopes((await authEscalation()).run.events, () => 'run-b'),
    ];
    const result = await replayStore(await storeOf(events));
    expect(result).toEqual(replay(events));
    expect([...result.runs.values()].map((run) => run.status)).toEqual(['succeeded', 'escalated']);
    expect((await replayStore(await storeOf(events), { untilSeq: 2 })).runs.get('run-a')?.lastSeq).toBe(2);
  });

  it('stops at a record that is not an envelope, naming its position and field', async () => {
    const events = toEnvelopes((await authEscalation()).run.events, () => 'run-b');
    const broken = { ...events[1], seq: -1 } as EventEnvelope;
    let thrown: unknown;
    try {
      await replayStore(await storeOf([events[0]!, broken, ...events.slice(2)]));
    } catch (error) {
      thrown = error;
    }
    if (!isRetraceError(thrown)) throw new Error(`expected a RetraceError, got ${String(thrown)}`);
    expect(thrown.location?.path).toBe('seq');
    expect(thrown.message).toBe(`event at 1: ${broken.type}: seq must be a whole number from 1, not -1`);
  });
});
