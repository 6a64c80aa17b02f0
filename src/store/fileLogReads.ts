// Reading the file log: one run's records by their indexed positions, or every record in store order, through pinned
// segment files. Shared by the writer's log and the read-only view, which differ only in what they say is committed.
import { removeIndexFile } from './fileLogIndexFile.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { StoredEvent } from './eventStore.js';
import { segmentsIn, type FileLogIndex } from './fileLogIndex.js';
import { decodeRecord } from './fileLogRecord.js';
import { corruptionError, walkRecords, type DamagedRecord } from './fileLogRecovery.js';
import { onDiskPositions, type Positions } from './fileLogOnDisk.js';
import { listSegmentsIfAny, parsePosition, segmentFileName } from './fileLogSegment.js';
import type { PinnedSegment, ReadGate, SegmentHandles } from './fileLogReaders.js';

/** Records of one run closer than this in a segment are fetched in one read. */
const COALESCE_GAP_BYTES = 32 * 1024;

export interface LogReadsDeps {
  dir: string;
  /** The index as it is now (a retention or a refresh replaces it). */
  index(): FileLogIndex;
  handles: SegmentHandles;
  gate: ReadGate;
  /** How many bytes of a segment are read and decoded at a time (a longer record is read whole). */
  readChunkBytes: number;
  /** How far a segment's records are committed: bytes past it may be a batch being written, and are not read. */
  committedEnd(segment: number): number;
  /** Damage the scan reported: reads step over it. */
  steppedOver(): readonly DamagedRecord[];
  /** Told of a segment a read found damaged (its index file is dropped): the writer must not write it one again. */
  distrust?(segment: number): void;
}

export interface LogReads {
  readRun(runId: string, fromSeq: number): Promise<EventEnvelope[]>;
  readAll(fromPosition?: string): AsyncGenerator<StoredEvent>;
  readAllBatches(fromPosition?: string): AsyncGenerator<StoredEvent[]>;
}

export function createLogReads(deps: LogReadsDeps): LogReads {
  const { dir, handles, gate, readChunkBytes } = deps;
  /** Finished runs' positions in sealed segments, which the index leaves to their index files. */
  const onDisk = onDiskPositions(dir);

  /**
   * Damage a read met that the scan at open did not report (a sealed segment trusted by its index file): an error
   * naming the segment and byte, and the index file is dropped so that the next open scans and reports it.
   */
  const damagedOnRead = async (segment: number, offset: number, bytes: number, reason: string): Promise<never> => {
    deps.distrust?.(segment);
    onDisk.clear();
    await removeIndexFile(dir, segment).catch(() => undefined);
    throw corruptionError(dir, { segment: segmentFileName(segment), offset, bytes, reason }, false);
  };

  /** The event framed at `offset` within `bytes`; the checksum vouches for it, so no re-validation. */
  const decodeAt = (bytes: Buffer, offset: number): EventEnvelope | { reason: string } => {
    const decoded = decodeRecord(bytes, offset);
    if (decoded.kind !== 'record') return { reason: decoded.kind === 'corrupt' ? decoded.reason : 'partial record' };
    return JSON.parse(bytes.toString('utf8', decoded.jsonStart, decoded.jsonEnd)) as EventEnvelope;
  };

  let readingIndex: FileLogIndex | undefined;

  const readRun = async (runId: string, fromSeq: number): Promise<EventEnvelope[]> => {
    // The run's positions and its segment files are taken together, so a retention cannot slip in between.
    const snapshot = await gate.shared(async () => {
      const index = deps.index();
      // A retention replaces the index after rewriting segments: index files read before describe other bytes.
      if (index !== readingIndex) onDisk.clear();
      readingIndex = index;
      const located = index.locate(runId);
      if (!located) return undefined;
      const pinned = new Map((await handles.pinAll(segmentsIn(located))).map((pin) => [pin.segment, pin]));
      const parts: { segment: number; positions: Positions }[] = [];
      try {
        for (const segment of located.onDisk) {
          const { positions, damage } = await onDisk.of(pinned.get(segment) as PinnedSegment, runId);
          // Damage a scan met that the scan at open did not report: its record may be this run's.
          const unreported = damage.find(
            (found) =>
              !deps.steppedOver().some((known) => known.segment === found.segment && known.offset === found.offset),
          );
          if (unreported) await damagedOnRead(segment, unreported.offset, unreported.bytes, unreported.reason);
          parts.push({ segment, positions });
        }
      } catch (error) {
        for (const pin of pinned.values()) pin.release();
        throw error;
      }
      for (const part of located.resident) parts.push({ segment: part.segment, positions: part });
      parts.sort((a, b) => a.segment - b.segment);
      const ranges: { segment: number; start: number; end: number; members: [number, number, number][] }[] = [];
      for (const { segment, positions } of parts) {
        const { offsets, frameBytes, seqs } = positions;
        for (let i = 0; i < seqs.length; i += 1) {
          const seq = seqs[i] ?? 0;
          if (seq < fromSeq) continue;
          const start = offsets[i] ?? 0;
          const bytes = frameBytes[i] ?? 0;
          const member: [number, number, number] = [start, bytes, seq];
          const last = ranges.at(-1);
          if (last && last.segment === segment && start >= last.end && start - last.end <= COALESCE_GAP_BYTES) {
            last.end = start + bytes;
            last.members.push(member);
          } else {
            ranges.push({ segment, start, end: start + bytes, members: [member] });
          }
        }
      }
      return { ranges, pinned };
    });
    if (!snapshot) return [];
    const { ranges, pinned } = snapshot;
    try {
      const chunks = await Promise.all(
        ranges.map(async (range) => {
          const handle = (pinned.get(range.segment) as PinnedSegment).handle;
          const buffer = Buffer.allocUnsafe(range.end - range.start);
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, range.start);
          const bytes = buffer.subarray(0, bytesRead);
          const events: EventEnvelope[] = [];
          for (const [offset, frameBytes, seq] of range.members) {
            const decoded = decodeAt(bytes, offset - range.start);
            if ('reason' in decoded) return damagedOnRead(range.segment, offset, frameBytes, decoded.reason);
            // A whole record, but another one than the index says (a damaged index file that still parsed).
            if (decoded.runId !== runId || decoded.seq !== seq) {
              const found = `run ${String(decoded.runId)} seq ${String(decoded.seq)}`;
              const reason = `the index says run ${runId} seq ${String(seq)} is here, the record is ${found}`;
              return damagedOnRead(range.segment, offset, frameBytes, reason);
            }
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
    gate.shared(async () => handles.pinAll((await listSegmentsIfAny(dir)).filter((segment) => segment > after)));

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
    const committed = deps.committedEnd(segment);
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
          if (deps.steppedOver().some((damaged) => damaged.segment === name && damaged.offset === at)) return;
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

  return { readRun, readAll, readAllBatches };
}
