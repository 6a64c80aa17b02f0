// The store watch behind `retrace serve`: from where the store ends (and the running runs' history), each new event
// once, in order — over a read-only view of a file log another writer appends to, and a store whose reads fail.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { openFileLogView } from '../../src/store/fileLogView.js';
import { watchStore, type StoreWatch } from '../../src/store/storeWatch.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { envelope, runEvents, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
  await remove();
});

/** `runId#seq` of each event delivered, in delivery order. */
function collect(watch: StoreWatch): string[] {
  const seen: string[] = [];
  watch.onEvents((events) => seen.push(...events.map((event) => `${event.runId}#${event.seq}`)));
  return seen;
}

const ended = (runId: string, seq: number): EventEnvelope => envelope(runId, seq, { type: 'toolcall.succeeded' });

describe('watching a store', () => {
  it("delivers the running runs' history, then what the writer appends, each event once", async () => {
    const log = await createFileLog({ dir });
    cleanups.push(() => log.close());
    await log.append([...runEvents('run-a', 3), ...runEvents('run-b', 1), ended('run-b', 2)]);
    const view = await openFileLogView({ dir });
    cleanups.push(() => view.close());
    const watch = watchStore(view, { includeRunning: true, clock: createTestClock(0) });
    cleanups.push(() => watch.close());
    const seen = collect(watch);
    expect(watch.health()).toMatchObject({ ok: false, error: undefined });

    watch.start();
    await watch.poll();
    // run-b had ended: only the running run's history.
    expect(seen).toEqual(['run-a#1', 'run-a#2', 'run-a#3']);
    expect(watch.health()).toMatchObject({ ok: true, lastReadAt: 0 });

    await log.append([...runEvents('run-a', 2, 4), ...runEvents('run-c', 1)]);
    await watch.poll();
    await watch.poll();
    expect(seen).toEqual(['run-a#1', 'run-a#2', 'run-a#3', 'run-a#4', 'run-a#5', 'run-c#1']);
  });

  it('starts where the store ends without includeRunning, and reads again each interval', async () => {
    const log = await createFileLog({ dir });
    cleanups.push(() => log.close());
    await log.append(runEvents('old', 2));
    const view = await openFileLogView({ dir });
    cleanups.push(() => view.close());
    const clock = createTestClock(0);
    const watch = watchStore(view, { clock, intervalMs: 100 });
    cleanups.push(() => watch.close());
    const seen = collect(watch);
    watch.start();
    await vi.waitFor(() => expect(watch.health().ok).toBe(true));
    expect(seen).toEqual([]);

    await log.append(runEvents('new', 1));
    clock.advance(99);
    expect(seen).toEqual([]);
    clock.advance(1);
    await vi.waitFor(() => expect(seen).toEqual(['new#1']));
  });

  it('says why a read failed, and misses nothing once reads work again (a store without endPosition)', async () => {
    const store = createMemoryStore();
    store.events.push(...runEvents('old', 1));
    let failing = false;
    // The memory store's positions are indexes; its readAll starts at the beginning, this one after `from`.
    const flaky = {
      ...store,
      async *readAll(from?: string) {
        if (failing) throw new Error('disk gone');
        for await (const stored of store.readAll()) {
          if (from === undefined || Number(stored.position) > Number(from)) yield stored;
        }
      },
    };
    const watch = watchStore(flaky, { clock: createTestClock(0) });
    cleanups.push(() => watch.close());
    const seen = collect(watch);
    watch.start();
    await watch.poll();
    expect(watch.health().ok).toBe(true);

    failing = true;
    store.events.push(...runEvents('new', 2));
    await watch.poll();
    expect(watch.health()).toMatchObject({ ok: false, error: new Error('disk gone') });
    expect(seen).toEqual([]);

    failing = false;
    await watch.poll();
    expect(watch.health()).toMatchObject({ ok: true, error: undefined });
    expect(seen).toEqual(['new#1', 'new#2']);
  });
});
