// Following a store that other processes write: the events appended after the watch began (and, if asked, the history
// of the runs running then), each once, read by store position at a short interval — no lock, no live subscription.
import { systemClock, type Clock } from '../common/clock.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { EventStore, StorePosition } from './eventStore.js';

export interface StoreWatchOptions {
  /** How often the store is read for new events; 250 ms by default. */
  intervalMs?: number;
  /** Also deliver, first, the events so far of the runs running when the watch begins. */
  includeRunning?: boolean;
  clock?: Clock;
}

export interface StoreWatchHealth {
  /** Whether the last read of the store succeeded (false before the first one). */
  ok: boolean;
  /** When the last successful read ended (the clock's time). */
  lastReadAt: number | undefined;
  /** Why the last read failed; the next one tries again from where it stopped. */
  error: Error | undefined;
}

export interface StoreWatch {
  /** Each new event once, in store order (per run: in seq order); returns the unsubscriber. */
  onEvents(listener: (events: readonly EventEnvelope[]) => void): () => void;
  /** Begins reading (once the listeners that must see everything are added): where the store ends now is the start. */
  start(): void;
  health(): StoreWatchHealth;
  /** Reads the store now (and resolves once done) instead of waiting for the next interval. */
  poll(): Promise<void>;
  close(): Promise<void>;
}

type Watched = Pick<EventStore, 'readAll' | 'runs' | 'read' | 'endPosition'>;

/** Delivered to listeners at most this many at a time, so a long backlog is not held in memory as one array. */
const BATCH = 256;

/** Where the store ends now: its own answer, or the last position of a read through it. */
async function endOf(store: Watched): Promise<StorePosition | undefined> {
  if (store.endPosition) return store.endPosition();
  let last: StorePosition | undefined;
  for await (const stored of store.readAll()) last = stored.position;
  return last;
}

export function watchStore(store: Watched, options: StoreWatchOptions = {}): StoreWatch {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 250;
  const listeners = new Set<(events: readonly EventEnvelope[]) => void>();
  /** Per run, the last seq delivered: the history of a running run and the reads after it may overlap. */
  const delivered = new Map<string, number>();
  let position: StorePosition | undefined;
  let started = false;
  let lastReadAt: number | undefined;
  let error: Error | undefined;
  let closed = false;
  let timer: unknown;
  let current: Promise<void> | undefined;
  /** Whether `start` (or `poll`) began the reads. */
  let polling = false;

  const deliver = (events: readonly EventEnvelope[]): void => {
    const fresh = events.filter((event) => event.seq > (delivered.get(event.runId) ?? 0));
    for (const event of fresh) delivered.set(event.runId, event.seq);
    if (fresh.length === 0) return;
    for (const listener of listeners) listener(fresh);
  };

  async function start(): Promise<void> {
    position = await endOf(store);
    if (options.includeRunning) {
      for (const run of await store.runs()) {
        if (run.status === 'running') deliver(await store.read(run.runId));
      }
    }
    started = true;
  }

  async function readNew(): Promise<void> {
    let batch: EventEnvelope[] = [];
    for await (const stored of store.readAll(position)) {
      if (closed) return;
      position = stored.position;
      batch.push(stored.event);
      if (batch.length >= BATCH) {
        deliver(batch);
        batch = [];
      }
    }
    deliver(batch);
  }

  async function tick(): Promise<void> {
    try {
      if (!started) await start();
      if (!closed) await readNew();
      error = undefined;
      lastReadAt = clock.now();
    } catch (caught) {
      error = caught instanceof Error ? caught : new Error(String(caught));
    }
  }

  /** One read at a time; the next is scheduled once one ends. */
  function poll(): Promise<void> {
    if (closed) return Promise.resolve();
    polling = true;
    if (current) return current.then(poll);
    clock.clearTimeout(timer);
    current = tick().finally(() => {
      current = undefined;
      if (!closed) timer = clock.setTimeout(() => void poll(), intervalMs);
    });
    return current;
  }

  return {
    start() {
      if (!polling) void poll();
    },
    onEvents(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    health: () => ({ ok: started && error === undefined && lastReadAt !== undefined, lastReadAt, error }),
    poll,
    async close() {
      closed = true;
      clock.clearTimeout(timer);
      await current;
    },
  };
}
