// The NATS bus: every event on core NATS `<prefix>.<runId>.<type>`, escalations on `retrace.escalations.<level>`; what NATS missed while down goes out in order when it returns.
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EscalationLevel } from '../policy/escalationLevel.js';
import type { EventStore, StorePosition } from '../store/eventStore.js';
import { BusCursorSaver, openBusCursor } from './busCursor.js';
import type { EventEnvelope } from './envelope.js';
import { DEFAULT_NATS_SERVERS, connectNats } from './natsConnect.js';
import {
  DEFAULT_ESCALATION_SUBJECT_PREFIX,
  DEFAULT_EVENT_SUBJECT_PREFIX,
  assertDottedSubject,
  assertSubjectSafeRunId,
  eventSubject,
} from './natsSubjects.js';
import { catchUp, type CatchUpContext } from './natsBusCatchUp.js';
import { NatsBusOutbox, outgoingEscalation, outgoingEvent, type LogFollowing } from './natsBusOutbox.js';
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
  /** Whether the connection to NATS is up now (false before the first connection, during an outage, after close). */
  connected(): boolean;
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

/** Connects once; if NATS is down it warns and keeps trying, holding events in the backlog meanwhile. */
export async function createNatsBus(options: NatsBusOptions = {}): Promise<NatsBus> {
  const prefix = options.subjectPrefix ?? DEFAULT_EVENT_SUBJECT_PREFIX;
  const escalationPrefix = options.escalationPrefix ?? DEFAULT_ESCALATION_SUBJECT_PREFIX;
  assertDottedSubject(prefix, 'subjectPrefix');
  assertDottedSubject(escalationPrefix, 'escalationPrefix');
  const servers = options.servers ?? DEFAULT_NATS_SERVERS;
  const warn = options.warn ?? emitWarning;
  const retryMs = options.reconnectTimeWaitMs ?? 250;
  const opened = options.store ? await openBusCursor(options.store, options.cursorFile) : undefined;
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
      options.store && opened
        ? {
            store: options.store,
            cursor: opened.cursor,
            behind: opened.behind,
            catchingUp: false,
            rereadAgain: false,
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

/** The bus: the connection and the public API over the outbox (sending), the catch-up (re-reading) and the cursor saver. */
class NatsBusImpl implements NatsBus {
  private readonly outbox: NatsBusOutbox;
  private readonly catchUpContext: CatchUpContext | undefined;
  private readonly saver: BusCursorSaver | undefined;
  /** Resolves with the connection once there is one (undefined if closed first). */
  private readonly ready: Promise<NatsConnection | undefined>;
  private becomeReady: (nc: NatsConnection | undefined) => void = () => undefined;
  private readonly settings: BusSettings;

  constructor(settings: BusSettings) {
    this.settings = settings;
    const log = settings.log;
    this.saver = log?.file
      ? new BusCursorSaver(log, {
          file: log.file,
          saveIntervalMs: log.saveIntervalMs,
          warn: settings.warn,
          compacted: (position, forgottenRunIds) => this.outbox.compacted(position, forgottenRunIds),
        })
      : undefined;
    this.outbox = new NatsBusOutbox({
      maxBacklog: settings.maxBacklog,
      warn: settings.warn,
      log,
      catchUp: () => {
        if (this.catchUpContext) void catchUp(this.catchUpContext);
      },
      confirmed: () => this.saver?.schedule(),
    });
    this.catchUpContext = log
      ? {
          outbox: this.outbox,
          log,
          prefix: settings.prefix,
          retryMs: settings.connector.retryMs,
          warn: settings.warn,
        }
      : undefined;
    this.ready = new Promise((resolve) => (this.becomeReady = resolve));
    if (settings.connector.first) this.attach(settings.connector.first);
    else void this.keepConnecting(settings.connector);
  }

  private attach(nc: NatsConnection): void {
    this.outbox.nc = nc;
    this.becomeReady(nc);
    void this.watchStatus(nc);
    this.outbox.onConnected();
  }

  /** The client reconnects by itself once connected; before the first connection, this loop does. */
  private async keepConnecting(connector: Connector): Promise<void> {
    while (!this.outbox.closed) {
      await new Promise((resolve) => setTimeout(resolve, connector.retryMs));
      if (this.outbox.closed) return;
      try {
        const nc = await connector.connectOnce();
        if (this.outbox.closed) {
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

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.outbox.disconnected();
      else if (status.type === 'reconnect') this.outbox.onConnected();
    }
  }

  publish(event: EventEnvelope, position?: StorePosition): void {
    this.assertOpen();
    const subject = eventSubject(this.settings.prefix, event.runId, event.type);
    // Behind and not yet re-reading: the log has this event, and the re-read will send it.
    const log = this.settings.log;
    if (log?.behind && !log.catchingUp) return;
    this.outbox.enqueue(outgoingEvent(subject, event, position));
  }

  publishEscalation(level: EscalationLevel, escalation: EscalationRecord): void {
    this.assertOpen();
    this.outbox.enqueue(outgoingEscalation(`${this.settings.escalationPrefix}.${level}`, escalation));
  }

  lastPublishedPosition(): StorePosition | undefined {
    return this.outbox.confirmedPosition;
  }

  backlogSize(): number {
    return this.outbox.size();
  }

  behind(): boolean {
    return this.outbox.behind();
  }

  connected(): boolean {
    return this.outbox.connected && !this.outbox.closed;
  }

  flush(): Promise<void> {
    return this.outbox.flush();
  }

  async listen(options: BusSubscribeOptions = {}): Promise<AsyncIterable<EventEnvelope>> {
    this.assertOpen();
    if (options.runId !== undefined) assertSubjectSafeRunId(options.runId);
    const prefix = this.settings.prefix;
    const subject = options.runId === undefined ? `${prefix}.>` : `${prefix}.${options.runId}.>`;
    const nc = this.outbox.nc ?? (await this.ready);
    if (!nc || options.signal?.aborted) return (async function* () {})();
    return subscribeEvents(nc, subject, options.signal);
  }

  async *subscribe(options: BusSubscribeOptions = {}): AsyncIterable<EventEnvelope> {
    yield* await this.listen(options);
  }

  async close(): Promise<void> {
    const outbox = this.outbox;
    if (outbox.closed) return;
    if (outbox.connected) await this.flushWithin(this.settings.closeTimeoutMs);
    outbox.close();
    if (this.backlogSize() > 0 || this.behind()) {
      this.settings.warn(
        `NATS bus closed with ${this.backlogSize()} events unpublished${this.behind() ? ' and more to re-read from the log' : ''} (last published position: ${String(outbox.confirmedPosition)})`,
      );
    }
    this.becomeReady(undefined);
    try {
      // Everything confirmed: the cursor is clean, and the next process need not re-read after it.
      await this.saver?.close(outbox.connected && outbox.done());
    } finally {
      await outbox.nc?.close();
    }
  }

  private async flushWithin(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private assertOpen(): void {
    if (this.outbox.closed) throw new RetraceError(ErrorCode.closed, 'the NATS bus is closed');
  }
}
