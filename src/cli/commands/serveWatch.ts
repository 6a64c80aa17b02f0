// What `retrace serve` watches: the store opened read-only (no writer lock), followed for what other processes append,
// a NATS connection only to say whether NATS is up, and the readiness checks that say what they check.
import type { Logger } from '../../actors/logger.js';
import { createNatsBus, type NatsBus } from '../../events/natsBus.js';
import type { Check } from '../../server/http/readiness.js';
import type { EventStore } from '../../store/eventStore.js';
import { watchStore, type StoreWatch } from '../../store/storeWatch.js';
import { openStore, type Backends } from './store.js';

/** How often the log is read for what other processes appended. */
export const SERVE_WATCH_INTERVAL_MS = 250;

export interface WatchedBackends {
  store: EventStore;
  /** Not reading yet: add the listeners, then `watch.start()`. */
  watch: StoreWatch;
  /** Connected to NATS when it is configured, publishing nothing: the writers publish their own events. */
  probe: NatsBus | undefined;
  readinessChecks: Record<string, () => Check>;
  close(): Promise<void>;
}

function logCheck(backends: Backends, watch: StoreWatch): () => Check {
  const what =
    backends.store === 'jetstream'
      ? `the JetStream stream ${backends.nats?.stream ?? ''} is readable and followed (read-only)`
      : `the data dir ${backends.dataDir} and its log are readable and followed (read-only: no writer lock)`;
  return () => {
    const health = watch.health();
    if (health.ok) return { ok: true, what };
    const detail = health.error ? `reading the log failed: ${health.error.message}` : 'first read of the log under way';
    return { ok: false, what, detail };
  };
}

export async function openWatchedBackends(backends: Backends, logger: Logger): Promise<WatchedBackends> {
  const store = await openStore(backends, 'read');
  let probe: NatsBus | undefined;
  try {
    if (backends.nats) {
      probe = await createNatsBus({
        servers: backends.nats.url,
        subjectPrefix: backends.nats.subjectPrefix,
        // Its one warning here is NATS being down at start (it publishes nothing, so has no backlog to speak of).
        warn: (message) =>
          logger.warn({ detail: message }, 'NATS is not reachable yet: /readyz answers 503 until it is'),
      });
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const watch = watchStore(store, { intervalMs: SERVE_WATCH_INTERVAL_MS, includeRunning: true });
  const readinessChecks: Record<string, () => Check> = { log: logCheck(backends, watch) };
  const nats = backends.nats;
  if (probe && nats) {
    const connected = probe;
    readinessChecks['nats'] = () =>
      connected.connected()
        ? { ok: true, what: `connected to NATS at ${nats.url}` }
        : { ok: false, what: `connected to NATS at ${nats.url}`, detail: 'not connected to NATS' };
  }
  return {
    store,
    watch,
    probe,
    readinessChecks,
    async close() {
      try {
        await watch.close();
        await probe?.close();
      } finally {
        await store.close();
      }
    },
  };
}
