// The embedded event store: an append-only, checksummed, group-committed file log with an in-memory run index.
import { mkdir } from 'node:fs/promises';
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { EventEnvelope } from '../events/envelope.js';
import { isValidatedOnWrite } from '../events/eventWriter.js';
import type { Durability, EventStore, RunSummary } from './eventStore.js';
import type { FileLogIndex, FileLogIndexStats } from './fileLogIndex.js';
import { writeIndexFile } from './fileLogIndexFile.js';
import { fileLogIoError } from './fileLogIoError.js';
import { acquireLock } from './fileLogLock.js';
import { recoverLog, type RecoveryReport, type VerifyMode } from './fileLogRecovery.js';
import { compactSegments } from './fileLogRetention.js';
import { segmentFileName } from './fileLogSegment.js';
import { ReadGate, SegmentHandles } from './fileLogReaders.js';
import { createTailHub } from './fileLogTail.js';
import { createLogReads } from './fileLogReads.js';
import { SegmentWriter, type PendingAppend } from './fileLogWriter.js';

export interface FileLogOptions {
  dir: string;
  durability?: Durability;
  /** Under concurrent appends, how long a small batch may wait for companions before its fsync. */
  maxBatchWaitMs?: number;
  /** A segment is sealed and a new one started once it would grow past this. */
  segmentBytes?: number;
  /** The clock `retain` measures age by. */
  clock?: Clock;
  /** How much is checked at open (see `VerifyMode`); `tail` by default. */
  verify?: VerifyMode;
  /** How many bytes of a segment `readAll` reads and decodes at a time (1 MiB by default; a longer record is read whole). */
  readChunkBytes?: number;
}

export interface FileLog extends EventStore {
  /** Removes finished runs whose last event is older than `olderThanMs`, rewriting the segments that held them. */
  retain(olderThanMs: number): Promise<{ removedRuns: number }>;
  /** What the scan at open found: a cut torn tail, damaged records left in place. */
  readonly recoveryReport: RecoveryReport;
  /** Records and batches written and fsyncs completed since the log opened (the group commit's cadence). */
  writeStats(): FileLogWriteStats;
  /** Called once per batch made durable (one write): its record count and how long each of its appends waited. */
  watchWrites(listener: (batch: CommittedBatch) => void): () => void;
  /** What the in-memory index holds now (see `FileLogIndexStats`). */
  indexStats(): FileLogIndexStats;
  /** Whether an append would be accepted now: not after `close()` or a failed write or fsync. */
  writable(): { writable: true } | { writable: false; reason: string };
}

export interface CommittedBatch {
  records: number;
  /** Per `append()` call in the batch: from the call to the moment it became durable. */
  appendLatenciesMs: readonly number[];
}

export interface FileLogWriteStats {
  records: number;
  writes: number;
  syncs: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How much of a segment readAll reads and decodes at a time (a record longer than this is read whole). */
const READ_CHUNK_BYTES = 1024 * 1024;

export async function createFileLog(options: FileLogOptions): Promise<FileLog> {
  const { dir, durability = 'batch', maxBatchWaitMs = 2, segmentBytes = DEFAULT_SEGMENT_BYTES } = options;
  const clock = options.clock ?? systemClock;
  const readChunkBytes = Math.max(1, options.readChunkBytes ?? READ_CHUNK_BYTES);
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw fileLogIoError(`cannot create the file log's data directory ${dir}`, error);
  });
  const lock = await acquireLock(dir);
  let recovered;
  try {
    recovered = await recoverLog(dir, options.verify);
  } catch (error) {
    await lock.release();
    throw fileLogIoError(`cannot open the file log in ${dir}`, error);
  }
  const recoveryReport = recovered.report;
  let index: FileLogIndex = recovered.index;
  // Sealed segments that had no index file (a full disk when they were sealed, a copied log): written now, so that
  // the next open reads them and this one lets go of their finished runs' positions. A failure only means a scan.
  const written: number[] = [];
  for (const { segment, size, crc } of recovered.unindexed) {
    await writeIndexFile(dir, segment, size, crc, index).then(
      () => written.push(segment),
      () => undefined,
    );
  }
  index.segmentsOnDiskNow(written);
  const tails = createTailHub<EventEnvelope>();
  const handles = new SegmentHandles(dir);
  const gate = new ReadGate();
  const writeWatchers = new Set<(batch: CommittedBatch) => void>();
  const reportBatch = (batch: readonly PendingAppend<EventEnvelope>[]): void => {
    const now = performance.now();
    let records = 0;
    const appendLatenciesMs = batch.map((pending) => {
      records += pending.events.length;
      return now - pending.queuedAt;
    });
    for (const watcher of writeWatchers) watcher({ records, appendLatenciesMs });
  };
  /** Damage reads step over: what the scan at open reported, and after a retention what its rescan found. */
  let steppedOver = recoveryReport.corrupt;
  /** Segments a read found damaged although their index file vouched for them: they get no index file again. */
  const distrusted = new Set<number>();
  const writer = await SegmentWriter.open<EventEnvelope>({
    dir,
    durability,
    maxBatchWaitMs,
    segmentBytes,
    segment: recovered.segments.at(-1) ?? 1,
    segmentSize: recovered.lastSegmentBytes,
    segmentCrc: recovered.lastSegmentCrc,
    // A segment with damage the scan reported gets no index file: the next open must scan it and report it again.
    // An index file is a shortcut for the next open: one that cannot be written (a full disk) means a scan instead.
    onSegmentClosed: (segment, size, crc) =>
      distrusted.has(segment) || steppedOver.some((damaged) => damaged.segment === segmentFileName(segment))
        ? Promise.resolve()
        : writeIndexFile(dir, segment, size, crc, index).then(
            () => index.segmentsOnDiskNow([segment]),
            () => undefined,
          ),
    onRecord(event, segment, offset, frameBytes) {
      index.add(event, segment, offset, frameBytes);
    },
    onBatch(batch) {
      if (tails.active()) for (const pending of batch) tails.publish(pending.events);
      if (writeWatchers.size > 0) reportBatch(batch);
    },
  }).catch(async (error: unknown) => {
    await lock.release();
    throw fileLogIoError(`cannot open the file log in ${dir} for appends`, error);
  });
  let closed = false;

  /** Validation on write: a bad envelope is refused with the event and field it concerns, and nothing of its call is written. */
  const validated = (event: EventEnvelope, position: number): EventEnvelope => {
    const result = EventEnvelope.safeParse(event);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const which = `event ${position} of the append (run ${String(event.runId)}, seq ${String(event.seq)})`;
    throw new RetraceError(ErrorCode.badArguments, `${which}: ${issue?.message ?? 'not an event envelope'}`, {
      location: { path: issue?.path.join('.') ?? '' },
    });
  };

  const ensureOpen = (): void => {
    if (closed) throw new RetraceError(ErrorCode.closed, `the file log in ${dir} is closed`);
  };

  const reads = createLogReads({
    dir,
    index: () => index,
    handles,
    gate,
    readChunkBytes,
    committedEnd: (segment) => (segment === writer.segment ? writer.committedSize : Infinity),
    steppedOver: () => steppedOver,
    distrust: (segment) => void distrusted.add(segment),
  });

  return {
    recoveryReport,
    writeStats: () => ({ ...writer.stats }),
    indexStats: () => index.stats(),
    watchWrites(listener) {
      writeWatchers.add(listener);
      return () => void writeWatchers.delete(listener);
    },
    writable() {
      if (closed) return { writable: false, reason: `the file log in ${dir} is closed` };
      const failure: unknown = writer.failed;
      if (failure === undefined) return { writable: true };
      return { writable: false, reason: failure instanceof Error ? failure.message : String(failure) };
    },
    append(events) {
      try {
        ensureOpen();
        if (events.length === 0) return Promise.resolve();
        // Validated on write, once: an envelope the event writer made is not checked again, any other is.
        const accepted: EventEnvelope[] = new Array<EventEnvelope>(events.length);
        const jsons: string[] = new Array<string>(events.length);
        for (let i = 0; i < events.length; i += 1) {
          const event = events[i] as EventEnvelope;
          const checked = isValidatedOnWrite(event) ? event : validated(event, i);
          accepted[i] = checked;
          // A validated envelope has the schema's key order, `data` last, as the index's header reader needs.
          jsons[i] = JSON.stringify(checked);
        }
        return new Promise<void>((resolve, reject) => {
          writer.enqueue({ events: accepted, jsons, queuedAt: performance.now(), resolve, reject });
        });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    read(runId, fromSeq = 1) {
      return reads.readRun(runId, fromSeq);
    },
    readAll: reads.readAll,
    readAllBatches: reads.readAllBatches,
    runs(): Promise<RunSummary[]> {
      return Promise.resolve(index.summaries());
    },
    tail(tailOptions = {}) {
      return tails.subscribe(tailOptions);
    },
    async retain(olderThanMs) {
      ensureOpen();
      const cutoff = clock.now() - olderThanMs;
      const removed = new Set<string>();
      for (const summary of index.summaries()) {
        if (summary.status !== 'running' && summary.lastTs < cutoff) removed.add(summary.runId);
      }
      if (removed.size === 0) return { removedRuns: 0 };
      // Readers keep the segment files they pinned (an open file outlives its rename or unlink); the gate makes
      // sure none is between taking its positions and pinning their files while segments are rewritten.
      await gate.exclusive(async () => {
        const release = await writer.pause();
        try {
          await writer.roll();
          const affected = new Set<number>();
          for (const runId of removed) for (const segment of index.segmentsOf(runId)) affected.add(segment);
          const sealed = [...affected].filter((segment) => segment !== writer.segment);
          const rewritten = await compactSegments(dir, sealed, removed);
          handles.retire();
          const rescanned = await recoverLog(dir);
          index = rescanned.index;
          steppedOver = rescanned.report.corrupt;
          for (const { segment, size, crc } of rewritten) await writeIndexFile(dir, segment, size, crc, index);
          index.segmentsOnDiskNow(rewritten.map(({ segment }) => segment));
        } finally {
          release();
        }
      });
      return { removedRuns: removed.size };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await writer.close();
      } finally {
        tails.end();
        handles.retire();
        await lock.release();
      }
    },
  };
}
