// The EventStore on NATS JetStream: one stream is the log, one subject per run, a single writer per run enforced by the server.
import {
  DeliverPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import { DEFAULT_NATS_SERVERS, connectNats } from '../events/natsConnect.js';
import { DEFAULT_EVENT_SUBJECT_PREFIX, assertDottedSubject, assertSubjectSafeRunId } from '../events/natsSubjects.js';
import type { EventStore, RunSummary, StorePosition, StoredEvent } from './eventStore.js';
import { terminalStatus } from './eventStore.js';
import { JetStreamAppender } from './jetStreamAppender.js';
import { decodeStoredEvent } from './jetStreamCodec.js';
import { PipelinedPublisher } from './jetStreamPublisher.js';

export const DEFAULT_EVENT_STREAM = 'RETRACE_EVENTS';

export interface JetStreamStoreOptions {
  servers?: string | string[];
  stream?: string;
  subjectPrefix?: string;
  /** How long an append waits for each acknowledgement. */
  ackTimeoutMs?: number;
  /** The dedupe window (by event id) the stream is created with. */
  duplicateWindowMs?: number;
}

export interface JetStreamStore extends EventStore {
  readonly stream: string;
  /** The subject a run's events are stored on: `<subjectPrefix>.<runId>`. */
  subjectFor(runId: string): string;
}

/*
 * Subjects: `<prefix>.<runId>`, the event type only in the payload (nothing read a type header) — not
 * `<prefix>.<runId>.<type>`.
 * nats-server 2.9 applies `Nats-Expected-Last-Subject-Sequence` to the exact subject of the message (a
 * wildcard-scoped expectation arrived only in 2.11), so a per-type subject would let a second writer
 * of the same run slip in between. One subject per run makes the expectation per run. Core NATS
 * (the bus) still publishes `<prefix>.<runId>.<type>`; the stream binds `<prefix>.*`, which does not
 * match those, so the two never mix.
 *
 * Single writer: a run's first event in a burst expects the run's acknowledged last stream sequence, the
 * rest of the burst chain on `Nats-Expected-Last-Msg-Id` (see jetStreamAppender.ts for why that is safe and
 * pipelined), all acks gathered by one reply subscription (jetStreamPublisher.ts).
 */
export async function createJetStreamStore(options: JetStreamStoreOptions = {}): Promise<JetStreamStore> {
  const servers = options.servers ?? DEFAULT_NATS_SERVERS;
  const stream = options.stream ?? DEFAULT_EVENT_STREAM;
  const prefix = options.subjectPrefix ?? DEFAULT_EVENT_SUBJECT_PREFIX;
  assertDottedSubject(prefix, 'subjectPrefix');
  const nc = await connectNats({ servers, name: `retrace-store-${stream}` });
  try {
    const jsm = await openManager(nc, servers);
    await ensureStream(jsm, stream, prefix, options.duplicateWindowMs ?? 120_000);
    return new JetStreamEventStore(nc, jsm, jetstream(nc), stream, prefix, options.ackTimeoutMs ?? 10_000);
  } catch (error) {
    await nc.close();
    throw error;
  }
}

async function openManager(nc: NatsConnection, servers: string | string[]): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc);
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'JetStreamNotEnabled' || /not enabled/i.test(message)) {
      throw new RetraceError(
        ErrorCode.connection,
        `the NATS server at ${String(servers)} does not have JetStream enabled (start nats-server with -js)`,
        { cause: error },
      );
    }
    throw new RetraceError(ErrorCode.connection, `cannot use JetStream at ${String(servers)}: ${message}`, {
      cause: error,
    });
  }
}

async function ensureStream(jsm: JetStreamManager, stream: string, prefix: string, windowMs: number): Promise<void> {
  const subject = `${prefix}.*`;
  try {
    const info = await jsm.streams.info(stream);
    if (!info.config.subjects.includes(subject)) {
      throw new RetraceError(
        ErrorCode.config,
        `JetStream stream ${stream} exists but does not bind ${subject} (it binds ${info.config.subjects.join(', ')})`,
      );
    }
    return;
  } catch (error) {
    if (error instanceof RetraceError) throw error;
    if (!(error instanceof Error) || error.name !== 'StreamNotFoundError') {
      throw new RetraceError(ErrorCode.connection, `cannot read JetStream stream ${stream}: ${String(error)}`, {
        cause: error,
      });
    }
  }
  try {
    await jsm.streams.add({
      name: stream,
      subjects: [subject],
      storage: StorageType.File,
      duplicate_window: nanos(windowMs),
      allow_direct: true,
    });
  } catch (error) {
    throw new RetraceError(
      ErrorCode.config,
      `cannot create JetStream stream ${stream} on ${subject}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

class JetStreamEventStore implements JetStreamStore {
  private readonly publisher: PipelinedPublisher;
  private readonly appender: JetStreamAppender;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    readonly stream: string,
    private readonly prefix: string,
    ackTimeoutMs: number,
  ) {
    this.publisher = new PipelinedPublisher(nc, stream, ackTimeoutMs);
    this.appender = new JetStreamAppender(this.publisher, jsm, stream, (runId) => this.subjectFor(runId));
  }

  subjectFor(runId: string): string {
    assertSubjectSafeRunId(runId);
    return `${this.prefix}.${runId}`;
  }

  async append(events: readonly EventEnvelope[]): Promise<void> {
    this.assertOpen();
    await this.appender.append(events);
  }

  async read(runId: string, fromSeq = 1): Promise<EventEnvelope[]> {
    this.assertOpen();
    const subject = this.subjectFor(runId);
    const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
    if (!last) return [];
    const events: EventEnvelope[] = [];
    for await (const stored of this.consumeRange(subject, 1, last.seq)) {
      if (stored.event.seq >= fromSeq) events.push(stored.event);
    }
    return events;
  }

  async *readAll(fromPosition?: StorePosition): AsyncIterable<StoredEvent> {
    this.assertOpen();
    const after = fromPosition === undefined ? 0 : parsePosition(fromPosition);
    const info = await this.jsm.streams.info(this.stream);
    const lastSeq = info.state.last_seq;
    if (info.state.messages === 0 || lastSeq <= after) return;
    yield* this.consumeRange(`${this.prefix}.*`, after + 1, lastSeq);
  }

  async endPosition(): Promise<StorePosition | undefined> {
    this.assertOpen();
    const info = await this.jsm.streams.info(this.stream);
    return info.state.last_seq > 0 ? String(info.state.last_seq) : undefined;
  }

  async runs(): Promise<RunSummary[]> {
    this.assertOpen();
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.prefix}.*` });
    const subjects = Object.entries(info.state.subjects ?? {});
    const summaries: RunSummary[] = [];
    for (const [subject, count] of subjects) {
      const [firstMsg, lastMsg] = await Promise.all([
        this.jsm.direct.getMessage(this.stream, { seq: 0, next_by_subj: subject }),
        this.jsm.streams.getMessage(this.stream, { last_by_subj: subject }),
      ]);
      if (!firstMsg || !lastMsg) continue;
      const firstEvent = decodeStoredEvent(firstMsg.data, this.stream, firstMsg.seq);
      const lastEvent = decodeStoredEvent(lastMsg.data, this.stream, lastMsg.seq);
      summaries.push({
        runId: lastEvent.runId,
        status: terminalStatus(lastEvent.type) ?? 'running',
        events: count,
        lastSeq: lastEvent.seq,
        firstTs: firstEvent.ts,
        lastTs: lastEvent.ts,
        lastType: lastEvent.type,
      });
    }
    return summaries.sort((a, b) => a.firstTs - b.firstTs || a.runId.localeCompare(b.runId));
  }

  async *tail(options: { runId?: string; signal?: AbortSignal } = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen();
    const filter = options.runId === undefined ? `${this.prefix}.*` : this.subjectFor(options.runId);
    if (options.signal?.aborted) return;
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await consumer.consume({ max_messages: 256 });
    const stop = (): void => messages.stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const msg of messages) {
        yield decodeStoredEvent(msg.data, this.stream, msg.seq);
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      messages.stop();
      await consumer.delete().catch(() => false);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appender.settled();
    this.publisher.close();
    await this.nc.close();
  }

  /** Stream messages on `filter` from `startSeq` to `lastSeq` (inclusive), through an ordered consumer. */
  private async *consumeRange(filter: string, startSeq: number, lastSeq: number): AsyncGenerator<StoredEvent> {
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
    });
    const messages = await consumer.consume({ max_messages: 4096 });
    try {
      for await (const msg of messages) {
        yield { position: String(msg.seq), event: decodeStoredEvent(msg.data, this.stream, msg.seq) };
        if (msg.seq >= lastSeq) break;
      }
    } finally {
      messages.stop();
      await consumer.delete().catch(() => false);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RetraceError(ErrorCode.closed, `the JetStream store on ${this.stream} is closed`);
  }
}

function parsePosition(position: StorePosition): number {
  const seq = Number(position);
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new RetraceError(ErrorCode.config, `JetStream position ${JSON.stringify(position)} is not a stream sequence`);
  }
  return seq;
}
