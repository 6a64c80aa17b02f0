// Readiness: the log accepts appends, NATS is connected when a bus is configured, the metrics have folded the log's
// history; a caller may put checks of its own in place of these (`retrace serve` watching a log it does not write).
import type { NatsBus } from '../../events/natsBus.js';
import type { EventStore } from '../../store/eventStore.js';
import type { FileLog } from '../../store/fileLog.js';
import type { ProjectedFacts } from '../metrics/projectedFacts.js';

export interface Check {
  ok: boolean;
  /** What the check checks, in words (the /readyz body says what it looked at). */
  what?: string;
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
  /** Checks by name, evaluated at each request; one named `log` or `nats` replaces the built-in one. */
  extra?: Readonly<Record<string, () => Check>> | undefined;
}

function hasWritability(store: EventStore): store is EventStore & Pick<FileLog, 'writable'> {
  return 'writable' in store && typeof store.writable === 'function';
}

function logCheck(store: EventStore): Check {
  // JetStream answers every append itself: a store without a writability check is taken at its word.
  if (!hasWritability(store)) return { ok: true, what: 'the log accepts appends', detail: 'not checked by this store' };
  const what = 'the log accepts appends (open, no failed write or fsync)';
  const state = store.writable();
  return state.writable ? { ok: true, what } : { ok: false, what, detail: state.reason };
}

export function checkReadiness({ store, bus, facts, extra = {} }: ReadinessSources): Readiness {
  const failure = facts.failure();
  const what = "the metrics have folded the log's stored events";
  const checks: Record<string, Check> = {
    log: logCheck(store),
    metrics: failure
      ? { ok: false, what, detail: `following the log failed: ${failure.message}` }
      : facts.caughtUp()
        ? { ok: true, what }
        : { ok: false, what, detail: 'folding the stored events' },
  };
  if (bus) {
    const nats = 'connected to NATS';
    checks['nats'] = bus.connected()
      ? { ok: true, what: nats }
      : { ok: false, what: nats, detail: 'not connected to NATS' };
  }
  for (const [name, check] of Object.entries(extra)) checks[name] = check();
  return { ready: Object.values(checks).every((check) => check.ok), checks };
}
