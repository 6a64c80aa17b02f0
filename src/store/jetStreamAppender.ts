// Appending to the JetStream log with one writer per run: each run's events chained on acknowledged sequences, runs in parallel.
import type { JetStreamManager } from '@nats-io/jetstream';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import { decodeStoredEvent, encodeEvent, EVENT_TYPE_HEADER } from './jetStreamCodec.js';
import type { PipelinedPublisher, PublishOutcome } from './jetStreamPublisher.js';

/** nats-server's error code when an expected last (subject) sequence does not hold. */
const WRONG_LAST_SEQUENCE = 10071;
/*
 * Why each run's events are chained one ack at a time (runs side by side). Every message expects the
 * run's last stream sequence *as acknowledged to this writer*: a sequence only this writer's own message
 * can hold, so any other writer's message on the run makes the next one refused. Pipelining on
 * predicted sequences was tried and is unsafe: another writer's message can land exactly on a
 * predicted sequence, so a losing writer's later events were accepted after the winner's (seen in the
 * racing-writers test under load).
 */
export class JetStreamAppender {
  /** The stream sequence of each run's last event, as acknowledged to this writer. */
  private readonly lastStreamSeq = new Map<string, number>();
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
    await this.exactRounds(events);
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
          const outcome = await this.publish(event, this.lastStreamSeq.get(runId) ?? 0);
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

  private publish(event: EventEnvelope, expectedLastSubjectSequence: number): Promise<PublishOutcome> {
    return this.publisher.publish({
      subject: this.subjectFor(event.runId),
      payload: encodeEvent(event),
      msgId: event.id,
      expectedLastSubjectSequence,
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
