// The NATS bus's sending side: the in-memory backlog of events and escalations, each counted as published only once the server confirms it.
import type { NatsConnection } from '@nats-io/transport-node';
import type { EventStore, StorePosition } from '../store/eventStore.js';
import type { BusCursor } from './busCursor.js';
import type { EventEnvelope } from './envelope.js';
import type { EscalationRecord } from './toolCallEvents.js';

export interface Outgoing {
  subject: string;
  payload: Uint8Array;
  position: StorePosition | undefined;
  /** Events only (not escalations). */
  runId?: string;
  seq?: number;
}

/** What a bus with a store keeps to re-read the log after an overflow. */
export interface LogFollowing {
  store: Pick<EventStore, 'readAll' | 'runs'>;
  /** What the server confirmed. */
  cursor: BusCursor;
  behind: boolean;
  /** A re-read of the log is in progress (see natsBusCatchUp.ts). */
  catchingUp: boolean;
  /** A live event was dropped during the catch-up: read the log once more before switching to live. */
  rereadAgain: boolean;
  file: string | undefined;
  saveIntervalMs: number;
}

export interface OutboxSettings {
  maxBacklog: number;
  warn: (message: string) => void;
  log: LogFollowing | undefined;
  /** Behind and connected: re-read the log from the cursor. */
  catchUp: () => void;
  /** The server confirmed some events: the cursor moved. */
  confirmed: () => void;
}

const encoder = new TextEncoder();

/** An event to send on `subject`; `position` is its place in the durable log, when known. */
export function outgoingEvent(subject: string, event: EventEnvelope, position: StorePosition | undefined): Outgoing {
  return { subject, payload: encoder.encode(JSON.stringify(event)), position, runId: event.runId, seq: event.seq };
}

export function outgoingEscalation(subject: string, escalation: EscalationRecord): Outgoing {
  return { subject, payload: encoder.encode(JSON.stringify(escalation)), position: undefined };
}

/*
 * Core NATS is at-most-once, and bytes written to a socket that dies are lost silently. So an event
 * counts as published only when a flush (PING/PONG) after it returns. On a disconnect everything
 * unconfirmed moves back to the front of the backlog and is sent again, in order, on reconnect; a
 * copy the server did get before it died arrives twice, and `subscribe` drops it by its per-run seq.
 */
export class NatsBusOutbox {
  /** The connection once there is one; the client reconnects it by itself. */
  nc: NatsConnection | undefined;
  connected = false;
  closed = false;
  /** Bumped on every disconnect (and drop), so a flush from before it confirms nothing. */
  generation = 0;
  confirmedPosition: StorePosition | undefined;
  private unconfirmed: Outgoing[] = [];
  private backlog: Outgoing[] = [];
  private flushing = false;
  private waiters: Array<() => void> = [];
  /** Woken whenever a flush settles or the connection drops (the catch-up waits on them). */
  private settled: Array<() => void> = [];
  private dropped = 0;
  private readonly log: LogFollowing | undefined;
  /** Per run, the last seq sent on this connection or confirmed: a later copy of it is not sent again. */
  private sentSeqs = new Map<string, number>();
  private readonly settings: OutboxSettings;

  constructor(settings: OutboxSettings) {
    this.settings = settings;
    this.log = settings.log;
    this.confirmedPosition = this.log?.cursor.position;
    if (this.log) this.sentSeqs = new Map(this.log.cursor.seqs);
  }

  /** Events waiting for NATS in memory (unconfirmed or not yet sent). */
  size(): number {
    return this.unconfirmed.length + this.backlog.length;
  }

  /** Events sent and not yet confirmed. */
  unconfirmedCount(): number {
    return this.unconfirmed.length;
  }

  behind(): boolean {
    return this.log?.behind ?? false;
  }

  done(): boolean {
    return this.size() === 0 && !this.behind();
  }

  flush(): Promise<void> {
    if (this.done()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.settleWaiters();
    });
  }

  /** No more connecting or re-reading; whoever waits is let go. */
  close(): void {
    this.closed = true;
    for (const resolve of [...this.waiters, ...this.settled]) resolve();
    this.waiters = [];
    this.settled = [];
  }

  enqueue(item: Outgoing): void {
    if (this.connected && !this.log?.behind) {
      this.send(item);
      this.scheduleFlush();
    } else {
      this.backlog.push(item);
    }
    this.bound();
  }

  /** Sends unless this run's seq already went out (a re-read and a live copy of one event). */
  send(item: Outgoing): void {
    if (this.log && item.runId !== undefined && item.seq !== undefined) {
      if (item.seq <= (this.sentSeqs.get(item.runId) ?? 0)) return;
      this.sentSeqs.set(item.runId, item.seq);
    }
    this.nc?.publish(item.subject, item.payload);
    this.unconfirmed.push(item);
  }

  /** Sends what waited, in order, and asks the server to confirm it. */
  sendBacklog(): void {
    const pending = this.backlog;
    this.backlog = [];
    for (const item of pending) this.send(item);
    this.scheduleFlush();
  }

  /** Over the bound: with a store, fall behind (the log keeps the events); without, drop the oldest and say so. */
  private bound(): void {
    const held = this.log?.catchingUp ? this.backlog.length : this.size();
    const excess = held - this.settings.maxBacklog;
    if (excess <= 0) return;
    if (this.log) {
      this.fallBehind(this.log);
      return;
    }
    const fromUnconfirmed = Math.min(excess, this.unconfirmed.length);
    this.unconfirmed.splice(0, fromUnconfirmed);
    this.backlog.splice(0, excess - fromUnconfirmed);
    if (this.dropped === 0) {
      this.settings.warn(
        `NATS bus backlog is full (${this.settings.maxBacklog} events): dropping the oldest; re-read the log after position ${String(this.confirmedPosition)} to publish them`,
      );
    }
    this.dropped += excess;
  }

  /** Drops the events held in memory (escalations stay: the log does not have them; connected, so do those in flight) and re-reads the log. */
  private fallBehind(log: LogFollowing): void {
    if (log.catchingUp) {
      // The re-read in progress goes round once more and picks up what this drops.
      this.backlog = this.backlog.filter((item) => item.runId === undefined);
      log.rereadAgain = true;
      this.dropOldestEscalations();
    } else if (this.connected) {
      // Connected: what was sent is on the live connection, and the flush in flight confirms it. Keep it
      // (and its seqs, so the re-read skips it); dropping it would send it twice without any disconnect.
      this.backlog = this.backlog.filter((item) => item.runId === undefined);
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
      this.settings.warn(
        `NATS bus backlog is full (${this.settings.maxBacklog} events): the rest is re-read from the log after position ${String(this.confirmedPosition)} once NATS confirms again`,
      );
    }
    this.dropped += 1;
    log.behind = true;
    if (this.connected) this.settings.catchUp();
  }

  /** Escalations are not in the log, so past the bound the oldest are lost; say so. */
  private dropOldestEscalations(): void {
    const excess = this.backlog.length - this.settings.maxBacklog;
    if (excess <= 0) return;
    this.backlog.splice(0, excess);
    this.settings.warn(
      `NATS bus backlog is full of escalations (${this.settings.maxBacklog}): dropped the ${excess} oldest`,
    );
  }

  scheduleFlush(): void {
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
    if (confirmed.length > 0) this.settings.confirmed();
  }

  /** Waits until fewer than `below` sent events await confirmation, or the connection is gone. */
  async confirmSent(generation: number, below: number): Promise<void> {
    this.scheduleFlush();
    while (this.unconfirmed.length >= below && generation === this.generation && !this.closed) {
      await new Promise<void>((resolve) => this.settled.push(resolve));
    }
  }

  /** The cursor was compacted: its position moved on and these runs left it. */
  compacted(position: StorePosition | undefined, forgottenRunIds: readonly string[]): void {
    this.confirmedPosition = position;
    for (const runId of forgottenRunIds) this.sentSeqs.delete(runId);
  }

  settleWaiters(): void {
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

  /** What was sent but not confirmed goes back to the front of the backlog (behind, only escalations: the log has the events). */
  disconnected(): void {
    this.connected = false;
    this.generation++;
    const unconfirmed = this.log?.behind
      ? this.unconfirmed.filter((item) => item.runId === undefined)
      : this.unconfirmed;
    this.backlog = [...unconfirmed, ...this.backlog];
    this.unconfirmed = [];
    if (this.log) this.sentSeqs = new Map(this.log.cursor.seqs);
    this.wakeSettled();
  }

  /** Sends what waited, in order; behind, re-reads the log first. */
  onConnected(): void {
    this.connected = true;
    this.dropped = 0;
    if (this.log?.behind) {
      this.settings.catchUp();
      return;
    }
    this.sendBacklog();
  }
}
