// Readiness: the log accepts appends, NATS is connected when a bus is configured, the metrics have folded the log's history.
import type { NatsBus } from '../../events/natsBus.js';
import type { EventStore } from '../../store/eventStore.js';
import type { FileLog } from '../../store/fileLog.js';
import type { ProjectedFacts } from '../metrics/projectedFacts.js';

export interface Check {
  ok: boolean;
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, Check>;
}

export interface ReadinessSources {
  store: EventStore;
  bus?: Pick<NatsBus, 'connected'> | undefined;
  facts: Pick<ProjectedFacts, 'caughtUp' | 'failure'>;
}

function hasWritability(store: EventStore): store is EventStore & Pick<FileLog, 'writable'> {
  return 'writable' in store && typeof store.writable === 'function';
}

function logCheck(store: EventStore): Check {
  // JetStream answers every append itself: a store without a writability check is taken at its word.
  if (!hasWritability(store)) return { ok: true, detail: 'not checked by this store' };
  const state = store.writable();
  return state.writable ? { ok: true } : { ok: false, detail: state.reason };
}

export function checkReadiness({ store, bus, facts }: ReadinessSources): Readiness {
  const failure = facts.failure();
  const checks: Record<string, Check> = {
    log: logCheck(store),
    metrics: failure
      ? { ok: false, detail: `following the log failed: ${failure.message}` }
      : facts.caughtUp()
        ? { ok: true }
        : { ok: false, detail: 'folding the stored events' },
  };
  if (bus) checks['nats'] = bus.connected() ? { ok: true } : { ok: false, detail: 'not connected to NATS' };
  return { ready: Object.values(checks).every((check) => check.ok), checks };
}
