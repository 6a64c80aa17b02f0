// Appending to the JetStream log with one writer per run, pipelined: optimistic rounds first, exact per-run chaining as the fallback.
import type { JetStreamManager } from '@nats-io/jetstream';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import { decodeStoredEvent, encodeEvent, EVENT_TYPE_HEADER } from './jetStreamCodec.js';
import type { PipelinedPublisher, PublishOutcome } from './jetStreamPublisher.js';

/** nats-server's error code when an expected last (subject) sequence does not hold. */
const WRONG_LAST_SEQUENCE = 10071;
const OPTIMISTIC_ROUNDS = 2;
/** Messages sent at once; two chunks in flight hide the round trip and keep the client's buffers small. */
const IN_FLIGHT_CHUNK = 16_384;

/*
 * Why two expectations on every optimistic message. The next event of a run cannot expect the
 * previous one's stream sequence before its ack — unless that sequence is predicted. Each message
 * carries `Nats-Expected-Last-Sequence = predicted - 1` (the whole stream) and
 * `Nats-Expected-Last-Subject-Sequence = the run's previous predicted sequence` (the first event of a
 * run in a round: the run's last sequence as acknowledged). An accepted message therefore sits exactly
 * at its prediction, and once one event of a run is refused every later event of that run in the
 * round is refused too: the run's last stored sequence is an earlier prediction, never the later one
 * expected. So what is stored of each run is always a prefix, whatever another writer does.
 * A refusal only means "not as predicted" (another writer of the stream, a duplicate that took no
 * sequence, or another writer of this run); the refused rest is retried with a fresh prediction, then
 * event by event with only the exact per-run expectation, where a refusal means another writer.
 */
export class JetStreamAppender {
  /** The stream sequence of each run's last event, as acknowledged to this writer. */
  private readonly lastStreamSeq = new Map<string, number>();
  /** The stream's last sequence if every message since it was read went as predicted. */
  private streamLast: number | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly publisher: PipelinedPublisher,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly subjectFor: (runId: string) => string,
  ) {}

  /** Appends one batch at a time, in call order. */
  append(events: readonly EventEnvelope[]): Promise<void> {
    const next = this.queue.then(() => this.appendNow(events));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every append so far has settled. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async appendNow(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    for (const event of events) this.subjectFor(event.runId);
    await this.learnRuns(events);
    let remaining: readonly EventEnvelope[] = events;
    for (let round = 0; round < OPTIMISTIC_ROUNDS && remaining.length > 0; round++) {
      remaining = await this.optimisticRound(remaining);
    }
    if (remaining.length > 0) await this.exactRounds(remaining);
  }

  /** Runs this writer has not written yet: seq 1 expects an empty subject; later seqs continue what is stored. */
  private async learnRuns(events: readonly EventEnvelope[]): Promise<void> {
    const firstSeqOf = new Map<string, number>();
    for (const event of events) {
      if (!this.lastStreamSeq.has(event.runId) && !firstSeqOf.has(event.runId)) firstSeqOf.set(event.runId, event.seq);
    }
    await Promise.all(
      [...firstSeqOf].map(async ([runId, firstSeq]) => {
        this.lastStreamSeq.set(runId, firstSeq === 1 ? 0 : await this.lookUpRun(runId, firstSeq));
      }),
    );
  }

  private async lookUpRun(runId: string, firstSeq: number): Promise<number> {
    const stored = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subjectFor(runId) });
    if (!stored) return 0;
    const storedEvent = decodeStoredEvent(stored.data, this.stream, stored.seq);
    if (storedEvent.seq < firstSeq - 1) {
      throw new RetraceError(
        ErrorCode.connection,
        `run ${runId}: the stream holds up to seq ${storedEvent.seq}, this append starts at ${firstSeq} (a gap)`,
      );
    }
    return stored.seq;
  }

  /** Publishes everything at once on predicted sequences; returns what was refused, in order. */
  private async optimisticRound(events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
    const base = this.streamLast ?? (await this.jsm.streams.info(this.stream)).state.last_seq;
    this.streamLast = undefined;
    let predicted = base;
    const previousOfRun = new Map<string, number>();
    const outcomes: Array<Promise<PublishOutcome>> = [];
    let broken = false;
    for (const event of events) {
      // Sent in chunks, at most two in flight: the previous chunk's acks come in while this one goes out.
      if (outcomes.length % IN_FLIGHT_CHUNK === 0 && outcomes.length >= 2 * IN_FLIGHT_CHUNK) {
        await Promise.all(outcomes.slice(outcomes.length - 2 * IN_FLIGHT_CHUNK, outcomes.length - IN_FLIGHT_CHUNK));
      }
      // After a refusal every later prediction is off: stop sending, the rest goes to the next round.
      if (broken) break;
      const expectedSubject = previousOfRun.get(event.runId) ?? this.lastStreamSeq.get(event.runId) ?? 0;
      predicted++;
      previousOfRun.set(event.runId, predicted);
      const outcome = this.publish(event, expectedSubject, predicted - 1);
      void outcome.then(
        (settled) => {
          if (!settled.ok || settled.duplicate) broken = true;
        },
        () => undefined,
      );
      outcomes.push(outcome);
    }
    const settled = await Promise.all(outcomes);
    const refusedRuns = new Set<string>();
    const refused: EventEnvelope[] = [];
    let asPredicted = settled.length === events.length;
    let failure: RetraceError | undefined;
    events.forEach((event, index) => {
      const outcome = settled[index];
      if (!outcome || refusedRuns.has(event.runId)) {
        refusedRuns.add(event.runId);
        refused.push(event);
        return;
      }
      if (!outcome.ok) {
        if (outcome.errCode !== WRONG_LAST_SEQUENCE) failure ??= refusal(event, outcome);
        refusedRuns.add(event.runId);
        refused.push(event);
        asPredicted = false;
        return;
      }
      // A duplicate was stored before and took no sequence: later predictions are off by one.
      if (outcome.duplicate) asPredicted = false;
      else this.lastStreamSeq.set(event.runId, outcome.seq);
    });
    if (failure) throw failure;
    if (asPredicted) this.streamLast = predicted;
    return refused;
  }

  /** Event by event per run (runs side by side), each expecting its run's acknowledged last sequence. */
  private async exactRounds(events: readonly EventEnvelope[]): Promise<void> {
    const byRun = new Map<string, EventEnvelope[]>();
    for (const event of events) {
      const list = byRun.get(event.runId);
      if (list) list.push(event);
      else byRun.set(event.runId, [event]);
    }
    const results = await Promise.allSettled(
      [...byRun].map(async ([runId, runEvents]) => {
        for (const event of runEvents) {
          const outcome = await this.publish(event, this.lastStreamSeq.get(runId) ?? 0, undefined);
          if (!outcome.ok) {
            this.lastStreamSeq.delete(runId);
            throw refusal(event, outcome);
          }
          if (!outcome.duplicate) this.lastStreamSeq.set(runId, outcome.seq);
        }
      }),
    );
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private publish(
    event: EventEnvelope,
    expectedLastSubjectSequence: number,
    expectedLastSequence: number | undefined,
  ): Promise<PublishOutcome> {
    return this.publisher.publish({
      subject: this.subjectFor(event.runId),
      payload: encodeEvent(event),
      msgId: event.id,
      expectedLastSubjectSequence,
      ...(expectedLastSequence === undefined ? {} : { expectedLastSequence }),
      extraHeaders: { [EVENT_TYPE_HEADER]: event.type },
    });
  }
}

function refusal(event: EventEnvelope, outcome: Extract<PublishOutcome, { ok: false }>): RetraceError {
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
