// The embedded event store: an append-only, checksummed, group-committed file log with an in-memory run index.
import { mkdir } from 'node:fs/promises';
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { EventEnvelope } from '../events/envelope.js';
import { isValidatedOnWrite } from '../events/eventWriter.js';
import type { Durability, EventStore, RunSummary, StoredEvent } from './eventStore.js';
import type { FileLogIndex } from './fileLogIndex.js';
import { removeIndexFile, writeIndexFile } from './fileLogIndexFile.js';
import { acquireLock } from './fileLogLock.js';
import { decodeRecord } from './fileLogRecord.js';
import { corruptionError, recoverLog, walkRecords, type RecoveryReport, type VerifyMode } from './fileLogRecovery.js';
import { compactSegments } from './fileLogRetention.js';
import { listSegments, parsePosition, segmentFileName } from './fileLogSegment.js';
import { ReadGate, SegmentHandles, type PinnedSegment } from './fileLogReaders.js';
import { createTailHub } from './fileLogTail.js';
import { SegmentWriter } from './fileLogWriter.js';

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
}

export interface FileLogWriteStats {
  records: number;
  writes: number;
  syncs: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How much of a segment readAll reads and decodes at a time (a record longer than this is read whole). */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Records of one run closer than this in a segment are fetched in one read. */
const COALESCE_GAP_BYTES = 32 * 1024;

export async function createFileLog(options: FileLogOptions): Promise<FileLog> {
  const { dir, durability = 'batch', maxBatchWaitMs = 2, segmentBytes = DEFAULT_SEGMENT_BYTES } = options;
  const clock = options.clock ?? systemClock;
  const readChunkBytes = Math.max(1, options.readChunkBytes ?? READ_CHUNK_BYTES);
  await mkdir(dir, { recursive: true });
  const lock = await acquireLock(dir);
  let recovered;
  try {
    recovered = await recoverLog(dir, options.verify);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const recoveryReport = recovered.report;
  let index: FileLogIndex = recovered.index;
  const tails = createTailHub<EventEnvelope>();
  const handles = new SegmentHandles(dir);
  const gate = new ReadGate();
  /** Damage reads step over: what the scan at open reported, and after a retention what its rescan found. */
  let steppedOver = recoveryReport.corrupt;
  const writer = await SegmentWriter.open<EventEnvelope>({
    dir,
    durability,
    maxBatchWaitMs,
    segmentBytes,
    segment: recovered.segments.at(-1) ?? 1,
    segmentSize: recovered.lastSegmentBytes,
    segmentCrc: recovered.lastSegmentCrc,
    // A segment with damage the scan reported gets no index file: the next open must scan it and report it again.
    onSegmentClosed: (segment, size, crc) =>
      steppedOver.some((damaged) => damaged.segment === segmentFileName(segment))
        ? Promise.resolve()
        : writeIndexFile(dir, segment, size, crc, index),
    onRecord(event, segment, offset, frameBytes) {
      index.add(event, segment, offset, frameBytes);
    },
    onBatch(batch) {
      if (tails.active()) for (const pending of batch) tails.publish(pending.events);
    },
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

  /**
   * Damage a read met that the scan at open did not report (a sealed segment trusted by its index file): an error
   * naming the segment and byte, and the index file is dropped so that the next open scans and reports it.
   */
  const damagedOnRead = async (segment: number, offset: number, bytes: number, reason: string): Promise<never> => {
    await removeIndexFile(dir, segment).catch(() => undefined);
    throw corruptionError(dir, { segment: segmentFileName(segment), offset, bytes, reason }, false);
  };

  /** The event framed at `offset` within `bytes`; the checksum vouches for it, so no re-validation. */
  const decodeAt = (bytes: Buffer, offset: number): EventEnvelope | { reason: string } => {
    const decoded = decodeRecord(bytes, offset);
    if (decoded.kind !== 'record') return { reason: decoded.kind === 'corrupt' ? decoded.reason : 'partial record' };
    return JSON.parse(bytes.toString('utf8', decoded.jsonStart, decoded.jsonEnd)) as EventEnvelope;
  };

  const readRun = async (runId: string, fromSeq: number): Promise<EventEnvelope[]> => {
    // The run's positions and its segment files are taken together, so a retention cannot slip in between.
    const snapshot = await gate.shared(async () => {
      const entries = index.runs.get(runId);
      if (!entries) return undefined;
      const picked: number[] = [];
      for (const [i, seq] of entries.seqs.entries()) if (seq >= fromSeq) picked.push(i);
      const ranges: { segment: number; start: number; end: number; members: number[] }[] = [];
      for (const i of picked) {
        const segment = entries.segments[i] ?? 0;
        const start = entries.offsets[i] ?? 0;
        const end = start + (entries.frameBytes[i] ?? 0);
        const last = ranges.at(-1);
        if (last && last.segment === segment && start >= last.end && start - last.end <= COALESCE_GAP_BYTES) {
          last.end = end;
          last.members.push(i);
        } else {
          ranges.push({ segment, start, end, members: [i] });
        }
      }
      const pinned = await handles.pinAll([...new Set(ranges.map((range) => range.segment))]);
      return { entries, ranges, pinned: new Map(pinned.map((pin) => [pin.segment, pin])) };
    });
    if (!snapshot) return [];
    const { entries, ranges, pinned } = snapshot;
    try {
      const chunks = await Promise.all(
        ranges.map(async (range) => {
          const handle = (pinned.get(range.segment) as PinnedSegment).handle;
          const buffer = Buffer.allocUnsafe(range.end - range.start);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, range.start);
          const bytes = buffer.subarray(0, bytesRead);
          const events: EventEnvelope[] = [];
          for (const i of range.members) {
            const offset = entries.offsets[i] ?? 0;
            const decoded = decodeAt(bytes, offset - range.start);
            if ('reason' in decoded)
              return damagedOnRead(range.segment, offset, entries.frameBytes[i] ?? 0, decoded.reason);
            events.push(decoded);
          }
          return events;
        }),
      );
      return chunks.flat().sort((a, b) => a.seq - b.seq);
    } finally {
      for (const pin of pinned.values()) pin.release();
    }
  };

  /** The segments after `after`, pinned: what the directory holds now, however retention changes it later. */
  const pinSegmentsAfter = (after: number): Promise<PinnedSegment[]> =>
    gate.shared(async () => handles.pinAll((await listSegments(dir)).filter((segment) => segment > after)));

  /**
   * A pinned segment's events (after `from` in its segment), never past what the writer had committed, in batches
   * decoded from one bounded chunk of the file at a time: a batch is yielded as soon as it is decoded, so a whole
   * segment of events is never held at once. A record (or damage) cut by a chunk's end is read again with the next.
   */
  async function* segmentBatches(
    pin: PinnedSegment,
    from: { segment: number; offset: number } | undefined,
  ): AsyncGenerator<StoredEvent[]> {
    const { segment, handle } = pin;
    // A batch being written is not there yet: the active segment is read up to the bytes committed before the
    // read begins (the file's size may already count part of a batch the writer is writing).
    const committed = segment === writer.segment ? writer.committedSize : Infinity;
    const { size } = await handle.stat();
    const end = Math.min(size, committed);
    const skipThrough = from && segment === from.segment ? from.offset : -1;
    const name = segmentFileName(segment);
    const prefix = `${String(segment).padStart(10, '0')}:`;
    let buffer = Buffer.allocUnsafe(Math.min(end, readChunkBytes));
    /** The file offset of `buffer[0]`, and how many bytes of the buffer hold file bytes. */
    let base = 0;
    let filled = 0;
    while (base + filled < end) {
      const { bytesRead } = await handle.read(
        buffer,
        filled,
        Math.min(buffer.length, end - base) - filled,
        base + filled,
      );
      filled += bytesRead;
      // A file shorter than it was (never while pinned) ends the segment where its bytes end.
      const atEnd = bytesRead === 0 || base + filled >= end;
      const found: StoredEvent[] = [];
      let carryFrom = filled;
      let damage: { offset: number; bytes: number; reason: string } | undefined;
      const chunk = buffer;
      const chunkBase = base;
      walkRecords(chunk, 0, filled, {
        record(offset, jsonStart, jsonEnd) {
          const at = chunkBase + offset;
          if (at <= skipThrough) return true;
          const event = JSON.parse(chunk.toString('utf8', jsonStart, jsonEnd)) as EventEnvelope;
          found.push({ position: prefix + String(at).padStart(12, '0'), event });
          return true;
        },
        damage(offset, bytes, reason, trailing) {
          // What runs into the chunk's end may be whole in the file: it is decoded again with the next chunk.
          if (trailing && !atEnd) {
            carryFrom = offset;
            return;
          }
          // Damage reported at open is stepped over; damage found only now (a segment trusted by its index) is an error.
          const at = chunkBase + offset;
          if (steppedOver.some((damaged) => damaged.segment === name && damaged.offset === at)) return;
          damage ??= { offset: at, bytes, reason };
        },
      });
      if (found.length > 0) yield found;
      if (damage) await damagedOnRead(segment, damage.offset, damage.bytes, damage.reason);
      if (atEnd) break;
      // The carried bytes move to the front; a record longer than the buffer gets a buffer twice as long.
      const carried = filled - carryFrom;
      if (carried >= buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, end - (base + carryFrom)));
        buffer.copy(grown, 0, carryFrom, filled);
        buffer = grown;
      } else {
        buffer.copy(buffer, 0, carryFrom, filled);
      }
      base += carryFrom;
      filled = carried;
    }
  }

  /** Every event after `fromPosition`, in store order, in batches of one read chunk each (see `segmentBatches`). */
  async function* readAllBatches(fromPosition?: string): AsyncGenerator<StoredEvent[]> {
    const from = fromPosition === undefined ? undefined : parsePosition(fromPosition);
    if (fromPosition !== undefined && !from) {
      throw new RetraceError(ErrorCode.badArguments, `not a file log position: ${fromPosition}`);
    }
    let after = from ? from.segment - 1 : 0;
    // Every segment there when the iteration begins is pinned at once: a retention meanwhile neither removes
    // nor rewrites what this iteration still has to read. Segments started later are pinned when reached.
    let pinned = await pinSegmentsAfter(after);
    try {
      while (pinned.length > 0) {
        for (;;) {
          const pin = pinned.shift();
          if (!pin) break;
          after = pin.segment;
          try {
            yield* segmentBatches(pin, from);
          } finally {
            pin.release();
          }
        }
        pinned = await pinSegmentsAfter(after);
      }
    } finally {
      for (const pin of pinned) pin.release();
    }
  }

  async function* readAll(fromPosition?: string): AsyncGenerator<StoredEvent> {
    for await (const batch of readAllBatches(fromPosition)) yield* batch;
  }

  return {
    recoveryReport,
    writeStats: () => ({ ...writer.stats }),
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
          writer.enqueue({ events: accepted, jsons, resolve, reject });
        });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    read(runId, fromSeq = 1) {
      return readRun(runId, fromSeq);
    },
    readAll,
    readAllBatches,
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
          for (const runId of removed)
            for (const segment of index.runs.get(runId)?.segments ?? []) affected.add(segment);
          const sealed = [...affected].filter((segment) => segment !== writer.segment);
          const rewritten = await compactSegments(dir, sealed, removed);
          handles.retire();
          const rescanned = await recoverLog(dir);
          index = rescanned.index;
          steppedOver = rescanned.report.corrupt;
          for (const { segment, size, crc } of rewritten) await writeIndexFile(dir, segment, size, crc, index);
        } finally {
          release();
        }
      });
      return { removedRuns: removed.size };
    },
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      tails.end();
      handles.retire();
      await lock.release();
    },
  };
}
