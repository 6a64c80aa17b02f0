// Appending to the JetStream log with one writer per run: pipelined on a chain of message ids while this writer has the stream to itself.
import type { JetStreamManager } from '@nats-io/jetstream';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import { decodeStoredEvent, encodeEvent } from './jetStreamCodec.js';
import type { PipelinedPublisher, PublishOutcome } from './jetStreamPublisher.js';

/** nats-server's error code when `Nats-Expected-Last-Msg-Id` does not hold. */
const WRONG_LAST_MSG_ID = 10070;
/** nats-server's error code when an expected last (subject) sequence does not hold. */
const WRONG_LAST_SEQUENCE = 10071;
/** Messages in flight at most: enough to fill the round trip, few enough that a broken chain wastes little. */
const MAX_IN_FLIGHT = 1024;
/** How long appends go one acknowledgement per run at a time after another writer broke the chain (doubling). */
const FIRST_COOLDOWN_MS = 250;
const MAX_COOLDOWN_MS = 8_000;

/*
 * Why this is safe. A run's event is stored only if nothing of another writer sits on the run's subject
 * between it and the run's previous event. Two ways to make the server check that, per message:
 * - Independent: `Nats-Expected-Last-Subject-Sequence` = the run's last stream sequence as acknowledged to
 *   this writer, a sequence only this writer's own message can hold. Exact, but one message per run in
 *   flight (one run: ~5,500 events/s here). Pipelining on *predicted* sequences is unsafe: another
 *   writer's message can land exactly on a predicted sequence (seen in the racing-writers test).
 * - Chained: an epoch starts when nothing is in flight. Each message of the epoch but the first expects
 *   `Nats-Expected-Last-Msg-Id` = the id of the message this writer sent just before it (event ids are
 *   unique), so an accepted message sits directly after its predecessor in the whole stream; a run's
 *   first message in the epoch also carries the exact subject check above. Then every accepted message
 *   of the epoch follows an unbroken line of this writer's messages back to its run's exactly checked
 *   one. A refused or foreign message breaks the line, and every later message of the epoch is refused
 *   (its predecessor is not the last stored): nothing more is sent until all answers are in, then the
 *   events refused for the chain alone go again in a new epoch. nats-server 2.9.10 resets the last msg
 *   id on a stored message without one, checks duplicates first and the subject sequence before the
 *   msg id (verified by hand); a duplicate is stored already and reported as such.
 * While another writer uses the stream, chains keep breaking: then independent mode for a cool-down.
 */
interface PendingEvent {
  event: EventEnvelope;
  subject: string;
  payload: Uint8Array;
  /** Append order, to put events refused for the chain alone back in their place. */
  order: number;
  settle: (failure: RetraceError | undefined) => void;
}

/** First in, first out, without `Array.shift` (which moves every element of a long array). */
class EventQueue {
  private items: PendingEvent[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  first(): PendingEvent | undefined {
    return this.items[this.head];
  }

  push(item: PendingEvent): void {
    this.items.push(item);
  }

  shift(): PendingEvent {
    const item = this.items[this.head] as PendingEvent;
    this.head += 1;
    if (this.head === this.items.length) this.clear();
    return item;
  }

  /** Puts events back in front, in the order given. */
  putBack(items: readonly PendingEvent[]): void {
    this.items = [...items, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Takes the first `count` events out. */
  take(count: number): PendingEvent[] {
    const taken = this.items.slice(this.head, this.head + count);
    this.head += taken.length;
    if (this.head === this.items.length) this.clear();
    return taken;
  }

  takeAll(): PendingEvent[] {
    return this.take(this.length);
  }

  findIndex(predicate: (item: PendingEvent) => boolean): number {
    for (let index = this.head; index < this.items.length; index += 1) {
      if (predicate(this.items[index] as PendingEvent)) return index - this.head;
    }
    return -1;
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
  }
}

interface RunWriter {
  runId: string;
  /** The stream sequence of the run's last event as acknowledged to this writer; undefined until learned. */
  acked: number | undefined;
  learning: boolean;
  queue: EventQueue;
  inFlight: number;
  /** The epoch the run was last sent in: later events of the run in that epoch ride on the chain. */
  epoch: number;
  /** Set when the run was refused: its events still in flight or queued fail with it. */
  refusal: RetraceError | undefined;
}

export class JetStreamAppender {
  private readonly runs = new Map<string, RunWriter>();
  private readonly retries: { run: RunWriter; pending: PendingEvent }[] = [];
  private readonly appends = new Set<Promise<unknown>>();
  /** Runs with events held back only because the window was full. */
  private readonly waiting = new Set<RunWriter>();
  /** Runs with answers this turn, pumped together. */
  private readonly toPump = new Set<RunWriter>();
  private inFlight = 0;
  private nextOrder = 0;
  private epoch = 0;
  /** The id of the message sent last in this epoch. */
  private chainTail: string | undefined;
  /** The epoch is broken (or a mode switch is due): send nothing until every answer is in. */
  private draining = false;
  private chained = true;
  private independentUntilMs = 0;
  private cooldownMs = FIRST_COOLDOWN_MS;

  constructor(
    private readonly publisher: PipelinedPublisher,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly subjectFor: (runId: string) => string,
  ) {}

  /** Resolves once every event is acknowledged; rejects with the first failure once all have settled. */
  append(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    let pendings: PendingEvent[];
    const outcomes: Promise<RetraceError | undefined>[] = [];
    try {
      pendings = events.map((event) => {
        const pending = {
          event,
          subject: this.subjectFor(event.runId),
          payload: encodeEvent(event),
          order: this.nextOrder++,
        } as PendingEvent;
        outcomes.push(new Promise((resolve) => (pending.settle = resolve)));
        return pending;
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const touched = new Set<RunWriter>();
    for (const pending of pendings) {
      const run = this.runOf(pending.event.runId);
      if (run.refusal) pending.settle(run.refusal);
      else run.queue.push(pending);
      touched.add(run);
    }
    for (const run of touched) this.pumpRun(run);
    const done = Promise.all(outcomes).then((failures) => {
      const failure = failures.find((outcome) => outcome !== undefined);
      if (failure) throw failure;
    });
    this.appends.add(done);
    void done.then(
      () => this.appends.delete(done),
      () => this.appends.delete(done),
    );
    return done;
  }

  /** Resolves when every append so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.appends]);
  }

  private runOf(runId: string): RunWriter {
    let run = this.runs.get(runId);
    if (!run) {
      run = {
        runId,
        acked: undefined,
        learning: false,
        queue: new EventQueue(),
        inFlight: 0,
        epoch: -1,
        refusal: undefined,
      };
      this.runs.set(runId, run);
    }
    return run;
  }

  private pumpRun(run: RunWriter): void {
    if (run.queue.length === 0) {
      if (run.inFlight === 0 && !run.learning && run.acked === undefined) this.runs.delete(run.runId);
      return;
    }
    if (run.acked === undefined) {
      this.learn(run);
      return;
    }
    if (this.draining || run.learning) return;
    if (!this.chained && performance.now() >= this.independentUntilMs) {
      // Back to chains, which start only when nothing is in flight.
      this.draining = true;
      if (this.inFlight === 0) this.drained();
      return;
    }
    while (run.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT && (this.chained || run.inFlight === 0)) {
      this.send(run, run.queue.shift());
    }
    if (run.queue.length > 0 && this.inFlight >= MAX_IN_FLIGHT) this.waiting.add(run);
  }

  private send(run: RunWriter, pending: PendingEvent): void {
    const message: Parameters<PipelinedPublisher['send']>[0] = {
      subject: pending.subject,
      payload: pending.payload,
      msgId: pending.event.id,
    };
    if (!this.chained || run.epoch !== this.epoch) message.expectedLastSubjectSequence = run.acked ?? 0;
    if (this.chained) {
      if (this.chainTail !== undefined) message.expectedLastMsgId = this.chainTail;
      this.chainTail = pending.event.id;
      run.epoch = this.epoch;
    }
    this.inFlight += 1;
    run.inFlight += 1;
    this.publisher.send(message, (outcome) => this.answered(run, pending, outcome));
  }

  private answered(run: RunWriter, pending: PendingEvent, outcome: PublishOutcome | RetraceError): void {
    this.inFlight -= 1;
    run.inFlight -= 1;
    if (outcome instanceof RetraceError) {
      // Stored or not, nobody can say: the run's state is learned again from the stream.
      this.refuse(run, outcome);
      pending.settle(outcome);
      this.breakChain(false);
    } else if (outcome.ok) {
      if (!outcome.duplicate) run.acked = outcome.seq;
      // A duplicate was not stored now, so the chain's next message will likely be refused: not another writer's doing.
      else this.breakChain(false);
      pending.settle(undefined);
    } else if (run.refusal) {
      pending.settle(run.refusal);
    } else if (outcome.errCode === WRONG_LAST_MSG_ID) {
      this.retries.push({ run, pending });
      this.breakChain(true);
    } else {
      const refusal = refusalOf(pending.event, outcome);
      this.refuse(run, refusal);
      pending.settle(refusal);
      this.breakChain(false);
    }
    if (run.inFlight === 0 && run.refusal) {
      run.refusal = undefined;
      run.acked = undefined;
      run.epoch = -1;
    }
    if (this.inFlight === 0) {
      this.drained();
      return;
    }
    if (this.draining) return;
    this.toPump.add(run);
    // The sends of every answer read in this turn of the event loop go out in one socket write.
    if (this.toPump.size === 1) setImmediate(() => this.pumpAnswered());
  }

  private pumpAnswered(): void {
    const runs = [...this.toPump];
    this.toPump.clear();
    if (this.draining) return;
    for (const run of runs) this.pumpRun(run);
    for (const waiting of this.waiting) {
      if (this.inFlight >= MAX_IN_FLIGHT) break;
      this.waiting.delete(waiting);
      this.pumpRun(waiting);
    }
  }

  /** The run failed: its queued events fail with it; its events in flight do as their answers come. */
  private refuse(run: RunWriter, refusal: RetraceError): void {
    run.refusal ??= refusal;
    for (const queued of run.queue.takeAll()) queued.settle(run.refusal);
  }

  private breakChain(byAnotherWriter: boolean): void {
    if (this.draining) return;
    this.draining = true;
    if (byAnotherWriter && this.chained) {
      this.chained = false;
      this.independentUntilMs = performance.now() + this.cooldownMs;
      this.cooldownMs = Math.min(this.cooldownMs * 2, MAX_COOLDOWN_MS);
    }
  }

  /** Nothing in flight: a new epoch, the chain's casualties first, then everything waiting. */
  private drained(): void {
    if (this.chained && !this.draining) this.cooldownMs = FIRST_COOLDOWN_MS;
    this.draining = false;
    this.epoch += 1;
    this.chainTail = undefined;
    if (!this.chained && performance.now() >= this.independentUntilMs) this.chained = true;
    this.waiting.clear();
    const retried = new Map<RunWriter, PendingEvent[]>();
    for (const { run, pending } of this.retries.splice(0)) {
      if (run.refusal) pending.settle(run.refusal);
      else retried.set(run, [...(retried.get(run) ?? []), pending]);
    }
    for (const [run, pendings] of retried) run.queue.putBack(pendings.sort((a, b) => a.order - b.order));
    for (const run of [...this.runs.values()]) this.pumpRun(run);
  }

  /** A run this writer has not written yet (or must learn again): seq 1 expects an empty subject; later ones continue what is stored. */
  private learn(run: RunWriter): void {
    if (run.learning) return;
    const first = run.queue.first() as PendingEvent;
    if (first.event.seq === 1) {
      run.acked = 0;
      this.pumpRun(run);
      return;
    }
    run.learning = true;
    this.lookUp(run).then(
      (acked) => {
        run.learning = false;
        run.acked = acked;
        this.pumpRun(run);
      },
      (error: unknown) => {
        run.learning = false;
        const failure =
          error instanceof RetraceError
            ? error
            : new RetraceError(ErrorCode.connection, `run ${run.runId}: cannot read its last event: ${String(error)}`);
        for (const queued of run.queue.takeAll()) queued.settle(failure);
        this.pumpRun(run);
      },
    );
  }

  /** The stream sequence to continue from: the run's last stored event must be the one before the queued ones, or one of them. */
  private async lookUp(run: RunWriter): Promise<number> {
    const firstSeq = (run.queue.first() as PendingEvent).event.seq;
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subjectFor(run.runId) });
    if (!stored) return 0;
    const last = decodeStoredEvent(stored.data, this.stream, stored.seq);
    if (last.seq < firstSeq - 1) {
      throw new RetraceError(
        ErrorCode.connection,
        `run ${run.runId}: the stream holds up to seq ${last.seq}, this append starts at ${firstSeq} (a gap)`,
      );
    }
    if (last.seq >= firstSeq) {
      const index = run.queue.findIndex((pending) => pending.event.id === last.id);
      if (index < 0) {
        throw new RetraceError(
          ErrorCode.connection,
          `run ${run.runId}: another writer appended to it (the stream holds its seq ${last.seq}, this append starts at ${firstSeq}); a run has one writer`,
        );
      }
      // A retry of events stored already: they are done.
      for (const done of run.queue.take(index + 1)) done.settle(undefined);
    }
    return stored.seq;
  }
}

function refusalOf(event: EventEnvelope, outcome: Extract<PublishOutcome, { ok: false }>): RetraceError {
  if (outcome.errCode === WRONG_LAST_SEQUENCE) {
    return new RetraceError(
      ErrorCode.connection,
      `run ${event.runId}: another writer appended to it (event seq ${event.seq} refused: ${outcome.description}); a run has one writer`,
    );
  }
  return new RetraceError(
    ErrorCode.connection,
    `run ${event.runId}: JetStream refused event seq ${event.seq}: ${outcome.description} (${outcome.errCode})`,
  );
}
