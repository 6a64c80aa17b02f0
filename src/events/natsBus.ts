// The NATS bus: every event on core NATS `<prefix>.<runId>.<type>`, escalations on `retrace.escalations.<level>`; what NATS missed while down goes out in order when it returns.
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EscalationLevel } from '../policy/escalationLevel.js';
import type { EventStore, StorePosition } from '../store/eventStore.js';
import { compactCursor, cursorAtEnd, readBusCursor, writeBusCursor, type BusCursor } from './busCursor.js';
import type { EventEnvelope } from './envelope.js';
import { DEFAULT_NATS_SERVERS, connectNats } from './natsConnect.js';
import {
  DEFAULT_ESCALATION_SUBJECT_PREFIX,
  DEFAULT_EVENT_SUBJECT_PREFIX,
  assertDottedSubject,
  assertSubjectSafeRunId,
  eventSubject,
} from './natsSubjects.js';
import { subscribeEvents } from './natsBusSubscription.js';
import type { EscalationRecord } from './toolCallEvents.js';

export interface NatsBusOptions {
  servers?: string | string[];
  subjectPrefix?: string;
  escalationPrefix?: string;
  /**
   * Events held while NATS is down (sent but unconfirmed, plus not yet sent). Past it, with a `store`, the
   * backlog is dropped and the log re-read from the cursor when NATS returns; without one, the oldest are
   * dropped, with a warning.
   */
  maxBacklog?: number;
  /** Where warnings go; defaults to `process.emitWarning`. */
  warn?: (message: string) => void;
  /** Wait between reconnect attempts (default 250 ms); the client reconnects forever. */
  reconnectTimeWaitMs?: number;
  /** The log the published events were appended to: what overflows the backlog is re-read from it. */
  store?: Pick<EventStore, 'readAll' | 'runs'>;
  /** With `store`: where the cursor is saved, so a restarted process publishes what a dead one missed. */
  cursorFile?: string;
  /** With `cursorFile`: how often the cursor is saved while events go out (default 10 s); also after a catch-up and on close. */
  cursorSaveIntervalMs?: number;
  /** How long `close()` waits for NATS to confirm what is pending (default 2 s). */
  closeTimeoutMs?: number;
  /** Fail with the connection error when NATS is down at start (a subscriber), instead of waiting for it (a publisher). */
  requireConnection?: boolean;
}

export interface NatsBus {
  /** Never throws for a NATS outage: the event waits in the backlog. `position` is the event's place in the durable log. */
  publish(event: EventEnvelope, position?: StorePosition): void;
  publishEscalation(level: EscalationLevel, escalation: EscalationRecord): void;
  /** The log position of the last event the server confirmed (a flush round trip): re-read the log after it to fill a drop. */
  lastPublishedPosition(): StorePosition | undefined;
  /** Events waiting for NATS in memory (unconfirmed or not yet sent); not those left to re-read from the log. */
  backlogSize(): number;
  /** Whether the backlog overflowed and what it dropped is yet to be re-read from the log. */
  behind(): boolean;
  /** Resolves once everything published so far (and everything left to re-read from the log) is confirmed by the server. */
  flush(): Promise<void>;
  /** Live events (one run's, or all), each once and in seq order per run, until the signal aborts. */
  subscribe(options?: BusSubscribeOptions): AsyncIterable<EventEnvelope>;
  /** Like `subscribe`, but resolves only once the server has the subscription: nothing published after that is missed. */
  listen(options?: BusSubscribeOptions): Promise<AsyncIterable<EventEnvelope>>;
  close(): Promise<void>;
}

export interface BusSubscribeOptions {
  runId?: string;
  signal?: AbortSignal;
}

interface Outgoing {
  subject: string;
  payload: Uint8Array;
  position: StorePosition | undefined;
  /** Events only (not escalations). */
  runId?: string;
  seq?: number;
}

/** During a catch-up, how many re-read events may wait for the server's confirmation before reading on. */
const CATCH_UP_WINDOW = 1_000;
/** Past this many runs in the cursor, a save first compacts it (one read of the log after its position). */
const COMPACT_CURSOR_RUNS = 1_000;

const encoder = new TextEncoder();

/** Connects once; if NATS is down it warns and keeps trying, holding events in the backlog meanwhile. */
export async function createNatsBus(options: NatsBusOptions = {}): Promise<NatsBus> {
  const prefix = options.subjectPrefix ?? DEFAULT_EVENT_SUBJECT_PREFIX;
  const escalationPrefix = options.escalationPrefix ?? DEFAULT_ESCALATION_SUBJECT_PREFIX;
  assertDottedSubject(prefix, 'subjectPrefix');
  assertDottedSubject(escalationPrefix, 'escalationPrefix');
  const servers = options.servers ?? DEFAULT_NATS_SERVERS;
  const warn = options.warn ?? emitWarning;
  const retryMs = options.reconnectTimeWaitMs ?? 250;
  // A cursor not closed clean means a process before this one may have died with events unpublished: start behind, re-read.
  const saved = options.store && options.cursorFile ? await readBusCursor(options.cursorFile) : undefined;
  const cursor = saved ?? (options.store ? await cursorAtEnd(options.store) : undefined);
  if (cursor && options.cursorFile) await writeBusCursor(options.cursorFile, { ...cursor, clean: false });
  const connectOnce = (): Promise<NatsConnection> =>
    connectNats({ servers, name: 'retrace-bus', reconnectForever: true, reconnectTimeWaitMs: retryMs });
  let first: NatsConnection | undefined;
  try {
    first = await connectOnce();
  } catch (error) {
    if (options.requireConnection) throw error;
    // Down at start is an outage like any other: events wait in the backlog until NATS is there.
    warn(`${error instanceof Error ? error.message : String(error)}; events wait in the backlog until it is reachable`);
  }
  return new NatsBusImpl({
    connector: { first, connectOnce, retryMs },
    prefix,
    escalationPrefix,
    maxBacklog: options.maxBacklog ?? 100_000,
    warn,
    log:
      options.store && cursor
        ? {
            store: options.store,
            cursor,
            behind: saved !== undefined && saved.clean !== true,
            file: options.cursorFile,
            saveIntervalMs: options.cursorSaveIntervalMs ?? 10_000,
          }
        : undefined,
    closeTimeoutMs: options.closeTimeoutMs ?? 2_000,
  });
}

interface Connector {
  first: NatsConnection | undefined;
  connectOnce: () => Promise<NatsConnection>;
  retryMs: number;
}

/** What a bus with a store keeps to re-read the log after an overflow. */
interface LogFollowing {
  store: Pick<EventStore, 'readAll' | 'runs'>;
  /** What the server confirmed. */
  cursor: BusCursor;
  behind: boolean;
  file: string | undefined;
  saveIntervalMs: number;
}

interface BusSettings {
  connector: Connector;
  prefix: string;
  escalationPrefix: string;
  maxBacklog: number;
  warn: (message: string) => void;
  log: LogFollowing | undefined;
  closeTimeoutMs: number;
}

function emitWarning(message: string): void {
  process.emitWarning(message, 'RetraceNatsBus');
}

/*
 * Core NATS is at-most-once, and bytes written to a socket that dies are lost silently. So an event
 * counts as published only when a flush (PING/PONG) after it returns. On a disconnect everything
 * unconfirmed moves back to the front of the backlog and is sent again, in order, on reconnect; a
 * copy the server did get before it died arrives twice, and `subscribe` drops it by its per-run seq.
 *
 * With a store, an overflowing backlog is dropped instead: the bus is then "behind", ignores live events
 * (the log has them), and on reconnect re-reads the log from its cursor, sending each event not yet
 * confirmed in log order; live events arriving meanwhile wait in the backlog and go out after the
 * re-read, skipping what it already sent (per run by seq), so the switch back to live has no gap and
 * no repeat on the sending side.
 */
class NatsBusImpl implements NatsBus {
  private nc: NatsConnection | undefined;
  private connected = false;
  /** Resolves with the connection once there is one (undefined if closed first). */
  private readonly ready: Promise<NatsConnection | undefined>;
  private becomeReady: (nc: NatsConnection | undefined) => void = () => undefined;
  /** Bumped on every disconnect (and drop), so a flush from before it confirms nothing. */
  private generation = 0;
  private unconfirmed: Outgoing[] = [];
  private backlog: Outgoing[] = [];
  private flushing = false;
  private waiters: Array<() => void> = [];
  /** Woken whenever a flush settles or the connection drops (the catch-up waits on them). */
  private settled: Array<() => void> = [];
  private confirmedPosition: StorePosition | undefined;
  private dropped = 0;
  private closed = false;
  private readonly log: LogFollowing | undefined;
  /** Per run, the last seq sent on this connection or confirmed: a later copy of it is not sent again. */
  private sentSeqs = new Map<string, number>();
  private catchingUp = false;
  /** A live event was dropped during the catch-up: read the log once more before switching to live. */
  private rereadAgain = false;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly settings: BusSettings;

  constructor(settings: BusSettings) {
    this.settings = settings;
    this.log = settings.log;
    this.confirmedPosition = this.log?.cursor.position;
    if (this.log) this.sentSeqs = new Map(this.log.cursor.seqs);
    this.ready = new Promise((resolve) => (this.becomeReady = resolve));
    if (settings.connector.first) this.attach(settings.connector.first);
    else void this.keepConnecting(settings.connector);
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.becomeReady(nc);
    void this.watchStatus(nc);
    this.onConnected();
  }

  /** The client reconnects by itself once connected; before the first connection, this loop does. */
  private async keepConnecting(connector: Connector): Promise<void> {
    while (!this.closed) {
      await new Promise((resolve) => setTimeout(resolve, connector.retryMs));
      if (this.closed) return;
      try {
        const nc = await connector.connectOnce();
        if (this.closed) {
          await nc.close();
          return;
        }
        this.attach(nc);
        return;
      } catch {
        // still down: try again
      }
    }
  }

  publish(event: EventEnvelope, position?: StorePosition): void {
    this.assertOpen();
    const subject = eventSubject(this.settings.prefix, event.runId, event.type);
    // Behind and not yet re-reading: the log has this event, and the re-read will send it.
    if (this.log?.behind && !this.catchingUp) return;
    this.enqueue({
      subject,
      payload: encoder.encode(JSON.stringify(event)),
      position,
      runId: event.runId,
      seq: event.seq,
    });
  }

  publishEscalation(level: EscalationLevel, escalation: EscalationRecord): void {
    this.assertOpen();
    this.enqueue({
      subject: `${this.settings.escalationPrefix}.${level}`,
      payload: encoder.encode(JSON.stringify(escalation)),
      position: undefined,
    });
  }

  lastPublishedPosition(): StorePosition | undefined {
    return this.confirmedPosition;
  }

  backlogSize(): number {
    return this.unconfirmed.length + this.backlog.length;
  }

  behind(): boolean {
    return this.log?.behind ?? false;
  }

  flush(): Promise<void> {
    if (this.done()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.settleWaiters();
    });
  }

  async listen(options: BusSubscribeOptions = {}): Promise<AsyncIterable<EventEnvelope>> {
    this.assertOpen();
    if (options.runId !== undefined) assertSubjectSafeRunId(options.runId);
    const prefix = this.settings.prefix;
    const subject = options.runId === undefined ? `${prefix}.>` : `${prefix}.${options.runId}.>`;
    const nc = this.nc ?? (await this.ready);
    if (!nc || options.signal?.aborted) return (async function* () {})();
    return subscribeEvents(nc, subject, options.signal);
  }

  async *subscribe(options: BusSubscribeOptions = {}): AsyncIterable<EventEnvelope> {
    yield* await this.listen(options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.connected) await this.flushWithin(this.settings.closeTimeoutMs);
    this.closed = true;
    clearTimeout(this.saveTimer);
    if (this.backlogSize() > 0 || this.behind()) {
      this.warn(
        `NATS bus closed with ${this.backlogSize()} events unpublished${this.behind() ? ' and more to re-read from the log' : ''} (last published position: ${String(this.confirmedPosition)})`,
      );
    }
    for (const resolve of [...this.waiters, ...this.settled]) resolve();
    this.waiters = [];
    this.settled = [];
    this.becomeReady(undefined);
    try {
      // Everything confirmed: the cursor is clean, and the next process need not re-read after it.
      const clean = this.connected && this.done();
      await this.saveCursor({ compact: clean && (this.log?.cursor.seqs.size ?? 0) > COMPACT_CURSOR_RUNS, clean });
    } finally {
      await this.nc?.close();
    }
  }

  private warn(message: string): void {
    this.settings.warn(message);
  }

  private done(): boolean {
    return this.backlogSize() === 0 && !this.behind();
  }

  private async flushWithin(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private enqueue(item: Outgoing): void {
    if (this.connected && !this.log?.behind) {
      this.send(item);
      this.scheduleFlush();
    } else {
      this.backlog.push(item);
    }
    this.bound();
  }

  /** Sends unless this run's seq already went out (a re-read and a live copy of one event). */
  private send(item: Outgoing): void {
    if (this.log && item.runId !== undefined && item.seq !== undefined) {
      if (item.seq <= (this.sentSeqs.get(item.runId) ?? 0)) return;
      this.sentSeqs.set(item.runId, item.seq);
    }
    this.nc?.publish(item.subject, item.payload);
    this.unconfirmed.push(item);
  }

  /** Over the bound: with a store, fall behind (the log keeps the events); without, drop the oldest and say so. */
  private bound(): void {
    const held = this.catchingUp ? this.backlog.length : this.backlogSize();
    const excess = held - this.settings.maxBacklog;
    if (excess <= 0) return;
    if (this.log) {
      this.fallBehind();
      return;
    }
    const fromUnconfirmed = Math.min(excess, this.unconfirmed.length);
    this.unconfirmed.splice(0, fromUnconfirmed);
    this.backlog.splice(0, excess - fromUnconfirmed);
    if (this.dropped === 0) {
      this.warn(
        `NATS bus backlog is full (${this.settings.maxBacklog} events): dropping the oldest; re-read the log after position ${String(this.confirmedPosition)} to publish them`,
      );
    }
    this.dropped += excess;
  }

  /** Drops every event held in memory (escalations stay: the log does not have them) and re-reads the log later. */
  private fallBehind(): void {
    const log = this.log;
    if (!log) return;
    if (this.catchingUp) {
      // The re-read in progress goes round once more and picks up what this drops.
      this.backlog = this.backlog.filter((item) => item.runId === undefined);
      this.rereadAgain = true;
      this.dropOldestEscalations();
    } else {
      this.generation++;
      this.backlog = [...this.unconfirmed, ...this.backlog].filter((item) => item.runId === undefined);
      this.unconfirmed = [];
      this.sentSeqs = new Map(log.cursor.seqs);
      this.wakeSettled();
      this.dropOldestEscalations();
    }
    if (!log.behind && this.dropped === 0) {
      this.warn(
        `NATS bus backlog is full (${this.settings.maxBacklog} events): the rest is re-read from the log after position ${String(this.confirmedPosition)} once NATS confirms again`,
      );
    }
    this.dropped += 1;
    log.behind = true;
    if (this.connected) void this.catchUp();
  }

  /** Escalations are not in the log, so past the bound the oldest are lost; say so. */
  private dropOldestEscalations(): void {
    const excess = this.backlog.length - this.settings.maxBacklog;
    if (excess <= 0) return;
    this.backlog.splice(0, excess);
    this.warn(`NATS bus backlog is full of escalations (${this.settings.maxBacklog}): dropped the ${excess} oldest`);
  }

  private scheduleFlush(): void {
    const nc = this.nc;
    if (this.flushing || !this.connected || !nc || this.unconfirmed.length === 0) return;
    this.flushing = true;
    const generation = this.generation;
    const count = this.unconfirmed.length;
    nc.flush()
      .then(
        () => {
          if (generation !== this.generation) return;
          this.confirm(this.unconfirmed.splice(0, count));
        },
        () => undefined,
      )
      .finally(() => {
        this.flushing = false;
        this.wakeSettled();
        this.settleWaiters();
        this.scheduleFlush();
      });
  }

  private confirm(confirmed: readonly Outgoing[]): void {
    for (const item of confirmed) {
      if (item.position !== undefined) this.confirmedPosition = item.position;
      if (this.log && item.runId !== undefined && item.seq !== undefined) {
        this.log.cursor.seqs.set(item.runId, item.seq);
      }
    }
    if (this.log) this.log.cursor.position = this.confirmedPosition;
    if (confirmed.length > 0) this.scheduleSave();
  }

  private settleWaiters(): void {
    if (!this.done()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private wakeSettled(): void {
    const settled = this.settled;
    this.settled = [];
    for (const resolve of settled) resolve();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.generation++;
        const unconfirmed = this.log?.behind
          ? this.unconfirmed.filter((item) => item.runId === undefined)
          : this.unconfirmed;
        this.backlog = [...unconfirmed, ...this.backlog];
        this.unconfirmed = [];
        if (this.log) this.sentSeqs = new Map(this.log.cursor.seqs);
        this.wakeSettled();
      } else if (status.type === 'reconnect') {
        this.onConnected();
      }
    }
  }

  /** Sends what waited, in order; behind, re-reads the log first. */
  private onConnected(): void {
    this.connected = true;
    this.dropped = 0;
    if (this.log?.behind) {
      void this.catchUp();
      return;
    }
    const pending = this.backlog;
    this.backlog = [];
    for (const item of pending) this.send(item);
    this.scheduleFlush();
  }

  /**
   * Re-reads the log from the cursor and sends what the server has not confirmed, in log order, a window
   * at a time; then the live events that waited meanwhile, skipping those the re-read sent. A lost
   * connection ends it (the next connection starts another from the cursor).
   */
  private async catchUp(): Promise<void> {
    const log = this.log;
    if (!log || this.catchingUp || !this.connected || this.closed) return;
    this.catchingUp = true;
    const generation = this.generation;
    const current = (): boolean => generation === this.generation && !this.closed;
    let failed = false;
    try {
      let from = this.confirmedPosition;
      do {
        this.rereadAgain = false;
        for await (const stored of log.store.readAll(from)) {
          if (!current()) return;
          from = stored.position;
          const { event } = stored;
          this.send({
            subject: eventSubject(this.settings.prefix, event.runId, event.type),
            payload: encoder.encode(JSON.stringify(event)),
            position: stored.position,
            runId: event.runId,
            seq: event.seq,
          });
          // Two windows in flight: one being confirmed while the next is sent.
          if (this.unconfirmed.length % CATCH_UP_WINDOW === 0) this.scheduleFlush();
          if (this.unconfirmed.length >= 2 * CATCH_UP_WINDOW) await this.confirmSent(generation, CATCH_UP_WINDOW);
        }
      } while (this.rereadAgain && current());
      if (!current()) return;
      // Live from here: what waited goes out after the re-read, without what the re-read already sent.
      log.behind = false;
      const pending = this.backlog;
      this.backlog = [];
      for (const item of pending) this.send(item);
      this.scheduleFlush();
    } catch (error) {
      failed = true;
      this.warn(
        `NATS bus could not re-read the log after position ${String(this.confirmedPosition)}: ${error instanceof Error ? error.message : String(error)}; it tries again`,
      );
    } finally {
      this.catchingUp = false;
      this.settleWaiters();
      if (log.behind && this.connected && !this.closed) {
        // A reconnect while this one was still reading found it running: start over for the new connection.
        if (generation !== this.generation) void this.catchUp();
        else if (failed)
          setTimeout(() => void this.catchUp(), Math.max(this.settings.connector.retryMs, 1_000)).unref();
      }
    }
  }

  /** Waits until fewer than `below` sent events await confirmation, or the connection is gone. */
  private async confirmSent(generation: number, below: number): Promise<void> {
    this.scheduleFlush();
    while (this.unconfirmed.length >= below && generation === this.generation && !this.closed) {
      await new Promise<void>((resolve) => this.settled.push(resolve));
    }
  }

  private scheduleSave(): void {
    const log = this.log;
    if (!log?.file || this.saveTimer !== undefined || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.saveCursor({ compact: log.cursor.seqs.size > COMPACT_CURSOR_RUNS && !log.behind, clean: false });
    }, log.saveIntervalMs);
    this.saveTimer.unref();
  }

  /** One save at a time; a compacting save first reads the log after the cursor to shrink it. */
  private saveCursor(options: { compact: boolean; clean: boolean }): Promise<void> {
    const log = this.log;
    const file = log?.file;
    if (!log || !file) return Promise.resolve();
    this.saving = this.saving
      .then(async () => {
        if (options.compact && !log.behind) {
          const positionBefore = this.confirmedPosition;
          const compacted = await compactCursor(log.store, log.cursor);
          // A re-read that moved the position meanwhile knows better.
          if (!log.behind && this.confirmedPosition === positionBefore) {
            this.confirmedPosition = compacted.position;
            log.cursor.position = compacted.position;
            for (const runId of log.cursor.seqs.keys()) {
              if (!compacted.seqs.has(runId)) {
                log.cursor.seqs.delete(runId);
                this.sentSeqs.delete(runId);
              }
            }
          }
        }
        await writeBusCursor(file, { ...log.cursor, clean: options.clean });
      })
      .catch((error: unknown) => {
        this.warn(
          `NATS bus could not save its cursor to ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    return this.saving;
  }

  private assertOpen(): void {
    if (this.closed) throw new RetraceError(ErrorCode.closed, 'the NATS bus is closed');
  }
}
