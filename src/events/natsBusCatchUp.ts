// The NATS bus's catch-up: after an overflow, re-reading the log from the cursor and handing over to the live backlog without gap or repeat.
import { eventSubject } from './natsSubjects.js';
import { outgoingEvent, type LogFollowing, type NatsBusOutbox } from './natsBusOutbox.js';

/** During a catch-up, how many re-read events may wait for the server's confirmation before reading on. */
const CATCH_UP_WINDOW = 1_000;

export interface CatchUpContext {
  outbox: NatsBusOutbox;
  log: LogFollowing;
  prefix: string;
  /** The wait before a failed re-read is tried again (at least 1 s). */
  retryMs: number;
  warn: (message: string) => void;
}

/*
 * With a store, an overflowing backlog is dropped instead: the bus is then "behind", ignores live events
 * (the log has them), and on reconnect re-reads the log from its cursor, sending each event not yet
 * confirmed in log order; live events arriving meanwhile wait in the backlog and go out after the
 * re-read, skipping what it already sent (per run by seq), so the switch back to live has no gap and
 * no repeat on the sending side.
 */

/**
 * Re-reads the log from the cursor and sends what the server has not confirmed, in log order, a window
 * at a time; then the live events that waited meanwhile, skipping those the re-read sent. A lost
 * connection ends it (the next connection starts another from the cursor).
 */
export async function catchUp(context: CatchUpContext): Promise<void> {
  const { outbox, log } = context;
  if (log.catchingUp || !outbox.connected || outbox.closed) return;
  log.catchingUp = true;
  const generation = outbox.generation;
  const current = (): boolean => generation === outbox.generation && !outbox.closed;
  let failed = false;
  try {
    let from = outbox.confirmedPosition;
    do {
      log.rereadAgain = false;
      for await (const stored of log.store.readAll(from)) {
        if (!current()) return;
        from = stored.position;
        const { event } = stored;
        outbox.send(outgoingEvent(eventSubject(context.prefix, event.runId, event.type), event, stored.position));
        // Two windows in flight: one being confirmed while the next is sent.
        if (outbox.unconfirmedCount() % CATCH_UP_WINDOW === 0) outbox.scheduleFlush();
        if (outbox.unconfirmedCount() >= 2 * CATCH_UP_WINDOW) await outbox.confirmSent(generation, CATCH_UP_WINDOW);
      }
    } while (log.rereadAgain && current());
    if (!current()) return;
    // Live from here: what waited goes out after the re-read, without what the re-read already sent.
    log.behind = false;
    outbox.sendBacklog();
  } catch (error) {
    failed = true;
    context.warn(
      `NATS bus could not re-read the log after position ${String(outbox.confirmedPosition)}: ${error instanceof Error ? error.message : String(error)}; it tries again`,
    );
  } finally {
    log.catchingUp = false;
    outbox.settleWaiters();
    if (log.behind && outbox.connected && !outbox.closed) {
      // A reconnect while this one was still reading found it running: start over for the new connection.
      if (generation !== outbox.generation) void catchUp(context);
      else if (failed) setTimeout(() => void catchUp(context), Math.max(context.retryMs, 1_000)).unref();
    }
  }
}
