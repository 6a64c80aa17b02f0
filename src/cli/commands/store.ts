// The event store a command works on: the file log under --data-dir (default .retrace/), or JetStream with --nats.
import { resolve } from 'node:path';
import { isRetraceError } from '../../common/errors.js';
import type { EventStore } from '../../store/eventStore.js';
import { createFileLog } from '../../store/fileLog.js';
import { createJetStreamStore } from '../../store/jetStreamStore.js';
import type { GlobalOptions } from '../main.js';

export const DEFAULT_DATA_DIR = '.retrace';

/** How long a command waits for another retrace process to let go of the file log (one writer at a time). */
const LOCK_WAIT_MS = 15_000;
const LOCK_POLL_MS = 50;

export async function openStore(globals: GlobalOptions): Promise<EventStore> {
  if (globals.nats !== undefined) return createJetStreamStore({ servers: globals.nats });
  const dir = resolve(globals.dataDir ?? DEFAULT_DATA_DIR);
  for (let waitedMs = 0; ; waitedMs += LOCK_POLL_MS) {
    try {
      return await createFileLog({ dir });
    } catch (error) {
      const locked = isRetraceError(error) && error.location?.file?.endsWith('LOCK') === true;
      if (!locked || waitedMs >= LOCK_WAIT_MS) throw error;
      await new Promise((wake) => setTimeout(wake, LOCK_POLL_MS));
    }
  }
}

/** Runs `work` with the store open, and closes it whatever happens. */
export async function withStore<T>(globals: GlobalOptions, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openStore(globals);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
