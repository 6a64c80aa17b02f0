// The event store a command works on, and the NATS bus beside it: from --store / --nats / --data-dir and the config's `store:` and `nats:`.
import { join, resolve } from 'node:path';
import { ErrorCode, isRetraceError } from '../../common/errors.js';
import { loadConfig } from '../../config/loadConfig.js';
import type { RuntimeConfig, StoreKind } from '../../config/runtimeConfig.js';
import { createNatsBus, type NatsBus } from '../../events/natsBus.js';
import { DEFAULT_NATS_SERVERS } from '../../events/natsConnect.js';
import { DEFAULT_EVENT_SUBJECT_PREFIX } from '../../events/natsSubjects.js';
import type { EventStore } from '../../store/eventStore.js';
import { createFileLog } from '../../store/fileLog.js';
import { corruptionError, type DamagedRecord } from '../../store/fileLogRecovery.js';
import { openFileLogView } from '../../store/fileLogView.js';
import { DEFAULT_EVENT_STREAM, createJetStreamStore } from '../../store/jetStreamStore.js';
import type { GlobalOptions } from '../main.js';

export const DEFAULT_DATA_DIR = '.retrace';
/** Beside the file log's segments: how far the bus has published them. */
export const BUS_CURSOR_FILE = 'bus-cursor.json';

/**
 * How long a command waits for another retrace process to let go of the file log (one writer at a time) before it
 * gives up with E_LOG_LOCKED (exit 75); `RETRACE_LOCK_WAIT_MS` overrides it.
 */
const LOCK_WAIT_MS = 15_000;
const LOCK_POLL_MS = 50;

export interface Backends {
  store: StoreKind;
  /** The file log's directory (also where the bus keeps its cursor). */
  dataDir: string;
  /** Set when NATS is configured: the bus publishes there (and JetStream lives there with `store: jetstream`). */
  nats:
    | {
        url: string;
        stream: string;
        subjectPrefix: string;
        maxBacklog: number;
      }
    | undefined;
}

/**
 * `--store` wins over `store:`; then `--nats URL` alone keeps its old meaning (JetStream is the store);
 * otherwise the file log. NATS is configured by `--nats` or `nats:`; the bus runs whenever it is.
 */
export function chooseBackends(globals: GlobalOptions, config: RuntimeConfig): Backends {
  const store =
    (globals.store as StoreKind | undefined) ?? config.store ?? (globals.nats !== undefined ? 'jetstream' : 'file');
  const url = globals.nats ?? config.nats?.url ?? (store === 'jetstream' ? DEFAULT_NATS_SERVERS : undefined);
  return {
    store,
    dataDir: resolve(globals.dataDir ?? DEFAULT_DATA_DIR),
    nats:
      url === undefined
        ? undefined
        : {
            url,
            stream: config.nats?.stream ?? DEFAULT_EVENT_STREAM,
            subjectPrefix: config.nats?.subject_prefix ?? DEFAULT_EVENT_SUBJECT_PREFIX,
            maxBacklog: config.nats?.max_backlog ?? 100_000,
          },
  };
}

/** The config of `--config` (or the one found in the current directory). */
export function commandConfig(globals: GlobalOptions): Promise<RuntimeConfig> {
  return loadConfig(globals.config === undefined ? {} : { file: globals.config });
}

/**
 * `write`: the store a runtime records to (the file log's single-writer lock, waited for). `read`: for commands that
 * only read: the file log through a read-only view that takes no lock, so they work while `retrace run` is running.
 */
export type StoreMode = 'read' | 'write';

export async function openStore(backends: Backends, mode: StoreMode = 'write'): Promise<EventStore> {
  if (backends.store === 'jetstream') {
    const nats = backends.nats;
    return createJetStreamStore({
      servers: nats?.url ?? DEFAULT_NATS_SERVERS,
      ...(nats ? { stream: nats.stream, subjectPrefix: nats.subjectPrefix } : {}),
    });
  }
  if (mode === 'read') {
    const view = await openFileLogView({ dir: backends.dataDir });
    warnOfDamage(backends.dataDir, view.recoveryReport.corrupt);
    return view;
  }
  const waitMs = lockWaitMs();
  for (let waitedMs = 0; ; waitedMs += LOCK_POLL_MS) {
    try {
      const log = await createFileLog({ dir: backends.dataDir });
      warnOfDamage(backends.dataDir, log.recoveryReport.corrupt);
      return log;
    } catch (error) {
      const locked = isRetraceError(error) && error.code === ErrorCode.logLocked;
      if (!locked || waitedMs >= waitMs) throw error;
      await new Promise((wake) => setTimeout(wake, LOCK_POLL_MS));
    }
  }
}

/** Damage in the middle is stepped over, never silently: each damaged record is named on stderr. */
function warnOfDamage(dataDir: string, corrupt: readonly DamagedRecord[]): void {
  for (const damaged of corrupt) {
    process.stderr.write(`retrace: warning: ${corruptionError(dataDir, damaged, true).describe()}\n`);
  }
}

function lockWaitMs(): number {
  const configured = Number(process.env['RETRACE_LOCK_WAIT_MS']);
  return process.env['RETRACE_LOCK_WAIT_MS'] !== undefined && Number.isFinite(configured) && configured >= 0
    ? configured
    : LOCK_WAIT_MS;
}

/**
 * The bus beside `store`, or undefined without NATS. Over the file log it keeps a cursor in the data
 * directory and re-reads the log for whatever it could not publish (an outage past its backlog, a
 * process that died); over JetStream the stream already holds every event, so it only publishes live.
 */
export function openBus(backends: Backends, store: EventStore): Promise<NatsBus> | undefined {
  const nats = backends.nats;
  if (!nats) return undefined;
  return createNatsBus({
    servers: nats.url,
    subjectPrefix: nats.subjectPrefix,
    maxBacklog: nats.maxBacklog,
    ...(backends.store === 'file' ? { store, cursorFile: join(backends.dataDir, BUS_CURSOR_FILE) } : {}),
  });
}

/** Runs `work` with the store open (read-only unless `mode` says `write`), and closes it whatever happens. */
export async function withStore<T>(
  globals: GlobalOptions,
  work: (store: EventStore, backends: Backends) => Promise<T>,
  mode: StoreMode = 'read',
): Promise<T> {
  const backends = chooseBackends(globals, await commandConfig(globals));
  const store = await openStore(backends, mode);
  try {
    return await work(store, backends);
  } finally {
    await store.close();
  }
}
