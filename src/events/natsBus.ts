// The NATS bus: every event on core NATS `<prefix>.<runId>.<type>`, escalations on `retrace.escalations.<level>`; what NATS missed while down goes out in order when it returns.
import type { NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EscalationLevel } from '../policy/escalationLevel.js';
import type { StorePosition } from '../store/eventStore.js';
import { EventEnvelope } from './envelope.js';
import { DEFAULT_NATS_SERVERS, connectNats } from './natsConnect.js';
import {
  DEFAULT_ESCALATION_SUBJECT_PREFIX,
  DEFAULT_EVENT_SUBJECT_PREFIX,
  assertDottedSubject,
  assertSubjectSafeRunId,
  eventSubject,
} from './natsSubjects.js';
import type { EscalationRecord } from './toolCallEvents.js';

export interface NatsBusOptions {
  servers?: string | string[];
  subjectPrefix?: string;
  escalationPrefix?: string;
  /** Events held while NATS is down (sent but unconfirmed, plus not yet sent); past it the oldest are dropped, with a warning. */
  maxBacklog?: number;
  /** Where the drop warning goes; defaults to `process.emitWarning`. */
  warn?: (message: string) => void;
  /** Wait between reconnect attempts (default 250 ms); the client reconnects forever. */
  reconnectTimeWaitMs?: number;
}

export interface NatsBus {
  /** Never throws for a NATS outage: the event waits in the backlog. `position` is the event's place in the durable log. */
  publish(event: EventEnvelope, position?: StorePosition): void;
  publishEscalation(level: EscalationLevel, escalation: EscalationRecord): void;
  /** The log position of the last event the server confirmed (a flush round trip): re-read the log after it to fill a drop. */
  lastPublishedPosition(): StorePosition | undefined;
  /** Events waiting for NATS (unconfirmed or not yet sent). */
  backlogSize(): number;
  /** Resolves once everything published so far is confirmed by the server. */
  flush(): Promise<void>;
  /** Live events (one run's, or all), each once and in seq order per run, until the signal aborts. */
  subscribe(options?: { runId?: string; signal?: AbortSignal }): AsyncIterable<EventEnvelope>;
  close(): Promise<void>;
}

interface Outgoing {
  subject: string;
  payload: Uint8Array;
  position: StorePosition | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Connects once; if NATS is down it warns and keeps trying, holding events in the backlog meanwhile. */
export async function createNatsBus(options: NatsBusOptions = {}): Promise<NatsBus> {
  const prefix = options.subjectPrefix ?? DEFAULT_EVENT_SUBJECT_PREFIX;
  const escalationPrefix = options.escalationPrefix ?? DEFAULT_ESCALATION_SUBJECT_PREFIX;
  assertDottedSubject(prefix, 'subjectPrefix');
  assertDottedSubject(escalationPrefix, 'escalationPrefix');
  const servers = options.servers ?? DEFAULT_NATS_SERVERS;
  const warn = options.warn ?? emitWarning;
  const retryMs = options.reconnectTimeWaitMs ?? 250;
  const connectOnce = (): Promise<NatsConnection> =>
    connectNats({ servers, name: 'retrace-bus', reconnectForever: true, reconnectTimeWaitMs: retryMs });
  let first: NatsConnection | undefined;
  try {
    first = await connectOnce();
  } catch (error) {
    // Down at start is an outage like any other: events wait in the backlog until NATS is there.
    warn(`${error instanceof Error ? error.message : String(error)}; events wait in the backlog until it is reachable`);
  }
  return new NatsBusImpl(
    { first, connectOnce, retryMs },
    prefix,
    escalationPrefix,
    options.maxBacklog ?? 100_000,
    warn,
  );
}

interface Connector {
  first: NatsConnection | undefined;
  connectOnce: () => Promise<NatsConnection>;
  retryMs: number;
}

function emitWarning(message: string): void {
  process.emitWarning(message, 'RetraceNatsBus');
}

/*
 * Core NATS is at-most-once, and bytes written to a socket that dies are lost silently. So an event
 * counts as published only when a flush (PING/PONG) after it returns. On a disconnect everything
 * unconfirmed moves back to the front of the backlog and is sent again, in order, on reconnect; a
 * copy the server did get before it died arrives twice, and `subscribe` drops it by its per-run seq.
 */
class NatsBusImpl implements NatsBus {
  private nc: NatsConnection | undefined;
  private connected = false;
  /** Resolves with the connection once there is one (undefined if closed first). */
  private readonly ready: Promise<NatsConnection | undefined>;
  private becomeReady: (nc: NatsConnection | undefined) => void = () => undefined;
  /** Bumped on every disconnect, so a flush from before it confirms nothing. */
  private generation = 0;
  private unconfirmed: Outgoing[] = [];
  private backlog: Outgoing[] = [];
  private flushing = false;
  private waiters: Array<() => void> = [];
  private confirmedPosition: StorePosition | undefined;
  private dropped = 0;
  private closed = false;

  constructor(
    connector: Connector,
    private readonly prefix: string,
    private readonly escalationPrefix: string,
    private readonly maxBacklog: number,
    private readonly warn: (message: string) => void,
  ) {
    this.ready = new Promise((resolve) => (this.becomeReady = resolve));
    if (connector.first) this.attach(connector.first);
    else void this.keepConnecting(connector);
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
    const subject = eventSubject(this.prefix, event.runId, event.type);
    this.enqueue({ subject, payload: encoder.encode(JSON.stringify(event)), position });
  }

  publishEscalation(level: EscalationLevel, escalation: EscalationRecord): void {
    this.assertOpen();
    this.enqueue({
      subject: `${this.escalationPrefix}.${level}`,
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

  flush(): Promise<void> {
    if (this.backlogSize() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.settleWaiters();
    });
  }

  async *subscribe(options: { runId?: string; signal?: AbortSignal } = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen();
    if (options.runId !== undefined) assertSubjectSafeRunId(options.runId);
    const subject = options.runId === undefined ? `${this.prefix}.>` : `${this.prefix}.${options.runId}.>`;
    const nc = this.nc ?? (await this.ready);
    if (!nc || options.signal?.aborted) return;
    const subscription = nc.subscribe(subject);
    const stop = (): void => subscription.unsubscribe();
    options.signal?.addEventListener('abort', stop, { once: true });
    const lastSeqByRun = new Map<string, number>();
    try {
      for await (const msg of subscription) {
        const event = parseBusEvent(msg.data);
        if (!event) continue;
        if ((lastSeqByRun.get(event.runId) ?? 0) >= event.seq) continue;
        lastSeqByRun.set(event.runId, event.seq);
        yield event;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      subscription.unsubscribe();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.connected) await this.flushWithin(2_000);
    this.closed = true;
    if (this.backlogSize() > 0) {
      this.warn(
        `NATS bus closed with ${this.backlogSize()} events unpublished (last published position: ${String(this.confirmedPosition)})`,
      );
    }
    for (const resolve of this.waiters) resolve();
    this.waiters = [];
    this.becomeReady(undefined);
    await this.nc?.close();
  }

  private async flushWithin(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  private enqueue(item: Outgoing): void {
    if (this.connected) {
      this.send(item);
      this.scheduleFlush();
    } else {
      this.backlog.push(item);
    }
    this.bound();
  }

  private send(item: Outgoing): void {
    this.nc?.publish(item.subject, item.payload);
    this.unconfirmed.push(item);
  }

  /** Drops the oldest when over the bound, and says so once per outage. */
  private bound(): void {
    const excess = this.backlogSize() - this.maxBacklog;
    if (excess <= 0) return;
    const fromUnconfirmed = Math.min(excess, this.unconfirmed.length);
    this.unconfirmed.splice(0, fromUnconfirmed);
    this.backlog.splice(0, excess - fromUnconfirmed);
    if (this.dropped === 0) {
      this.warn(
        `NATS bus backlog is full (${this.maxBacklog} events): dropping the oldest; re-read the log after position ${String(this.confirmedPosition)} to publish them`,
      );
    }
    this.dropped += excess;
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
          const confirmed = this.unconfirmed.splice(0, count);
          for (let i = confirmed.length - 1; i >= 0; i--) {
            const position = confirmed[i]?.position;
            if (position !== undefined) {
              this.confirmedPosition = position;
              break;
            }
          }
        },
        () => undefined,
      )
      .finally(() => {
        this.flushing = false;
        this.settleWaiters();
        this.scheduleFlush();
      });
  }

  private settleWaiters(): void {
    if (this.backlogSize() > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.generation++;
        this.backlog = [...this.unconfirmed, ...this.backlog];
        this.unconfirmed = [];
      } else if (status.type === 'reconnect') {
        this.onConnected();
      }
    }
  }

  /** Sends what waited, in order. */
  private onConnected(): void {
    this.connected = true;
    this.dropped = 0;
    const pending = this.backlog;
    this.backlog = [];
    for (const item of pending) this.send(item);
    this.scheduleFlush();
  }

  private assertOpen(): void {
    if (this.closed) throw new RetraceError(ErrorCode.closed, 'the NATS bus is closed');
  }
}

function parseBusEvent(data: Uint8Array): EventEnvelope | undefined {
  try {
    const parsed = EventEnvelope.safeParse(JSON.parse(decoder.decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
