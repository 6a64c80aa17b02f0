// Opening a file log: scan every segment, rebuild the index, cut a torn tail, report damage in the middle.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { indexedRecordEnds, readIndexFile } from './fileLogIndexFile.js';
import { decodeRecord, resyncOffset } from './fileLogRecord.js';
import { FileLogIndex, indexedFieldsAt } from './fileLogIndex.js';
import { listSegments, segmentFileName } from './fileLogSegment.js';

export interface DamagedRecord {
  segment: string;
  offset: number;
  bytes: number;
  reason: string;
}

/**
 * The error for damage in the middle of the log: which segment file, which byte, and what is kept. `atOpen`: the scan
 * at open found it and reads step over it; otherwise a read met it in a segment its index file vouched for.
 */
export function corruptionError(dir: string, damaged: DamagedRecord, atOpen: boolean): RetraceError {
  const file = join(dir, damaged.segment);
  const what = `${file} at byte ${damaged.offset}: ${damaged.reason} (${damaged.bytes} bytes damaged)`;
  const kept = atOpen
    ? 'kept: every record before and after it, which read as usual; the damaged bytes stay in place, uncut'
    : "kept: every other record; the segment's index file is dropped, so the next open scans the segment, " +
      'reports this damage and reads around it';
  return new RetraceError(ErrorCode.logCorrupt, `${what}; ${kept}`);
}

export interface RecoveryReport {
  segments: number;
  events: number;
  /** The partial record cut from the end of the last segment (a write torn by a crash). */
  tornTail?: DamagedRecord;
  /** Damage anywhere else: left in place, skipped by every read, and listed here. */
  corrupt: DamagedRecord[];
}

export interface RecoveredLog {
  index: FileLogIndex;
  report: RecoveryReport;
  segments: number[];
  /**
   * Sealed segments the scan read whole, without damage, for want of an index file: with their size and CRC32, so
   * that the writer can write their index file (and let go of their finished runs' positions).
   */
  unindexed: { segment: number; size: number; crc: number }[];
  /** Bytes of the last segment after any cut (where appends continue), and their CRC32. */
  lastSegmentBytes: number;
  lastSegmentCrc: number;
}

export interface WalkVisitor {
  /** Returns false when the record, although its checksum holds, is not an event (reported as damage). */
  record(offset: number, jsonStart: number, jsonEnd: number, next: number): boolean;
  damage(offset: number, bytes: number, reason: string, trailing: boolean): void;
}

/** Walks the frames of one segment's bytes; damage is skipped to the next frame that checks out. */
export function walkRecords(bytes: Buffer, start: number, end: number, visitor: WalkVisitor): void {
  let offset = start;
  while (offset < end) {
    const decoded = decodeRecord(bytes, offset, end);
    if (decoded.kind === 'record') {
      if (!visitor.record(offset, decoded.jsonStart, decoded.jsonEnd, decoded.next)) {
        visitor.damage(offset, decoded.next - offset, 'checksum holds but the record is not an event', false);
      }
      offset = decoded.next;
      continue;
    }
    if (decoded.kind === 'incomplete') {
      visitor.damage(offset, end - offset, 'partial record', true);
      return;
    }
    if (decoded.next !== undefined) {
      // A whole frame with a wrong checksum (a flipped bit, not a torn write): damage to report, even at the tail.
      visitor.damage(offset, decoded.next - offset, decoded.reason, false);
      offset = decoded.next;
      continue;
    }
    let probe = resyncOffset(bytes, offset, end);
    while (probe < end && decodeRecord(bytes, probe, end).kind !== 'record') probe = resyncOffset(bytes, probe, end);
    visitor.damage(offset, probe - offset, decoded.reason, probe >= end);
    offset = probe;
  }
}

/**
 * How much of the log is checked at open. `tail`: a sealed segment whose index file matches its size is trusted
 * (each record's checksum is still checked when it is read); the last segment is always checked. `full`: every
 * segment's bytes are checked against the CRC in its index file, and scanned record by record when it differs.
 */
export type VerifyMode = 'tail' | 'full';

export interface ScannedBytes {
  /** Damage followed by a whole record: reported, stepped over. */
  corrupt: DamagedRecord[];
  /** What runs into the end of the bytes: a torn write, or one still being written. */
  partial: DamagedRecord | undefined;
}

/**
 * Indexes the records of `bytes`, which hold segment `segment` from file offset `base`. Positions in the index and
 * in the damage reported are file offsets.
 */
export function indexSegmentBytes(bytes: Buffer, base: number, segment: number, index: FileLogIndex): ScannedBytes {
  const name = segmentFileName(segment);
  const scanned: ScannedBytes = { corrupt: [], partial: undefined };
  walkRecords(bytes, 0, bytes.length, {
    record(offset, jsonStart, jsonEnd, next) {
      const fields = indexedFieldsAt(bytes, jsonStart, jsonEnd);
      if (!fields) return false;
      index.add(fields, segment, base + offset, next - offset);
      return true;
    },
    damage(offset, length, reason, trailing) {
      const damaged = { segment: name, offset: base + offset, bytes: length, reason };
      if (trailing) scanned.partial = damaged;
      else scanned.corrupt.push(damaged);
    },
  });
  return scanned;
}

/**
 * A segment shorter than its index file says: records that were durable are gone (the file was cut or replaced),
 * which a scan of what is left cannot see. Reported at the end of what is left, with how many records are missing.
 */
async function truncation(dir: string, segment: number, size: number): Promise<DamagedRecord | undefined> {
  const ends = await indexedRecordEnds(dir, segment);
  const missing = ends?.filter((end) => end > size) ?? [];
  if (missing.length === 0) return undefined;
  const end = Math.max(...missing);
  return {
    segment: segmentFileName(segment),
    offset: size,
    bytes: end - size,
    reason: `segment truncated: ${missing.length} record(s) its index file lists end past its last byte`,
  };
}

/** `repair` (the writer): a torn tail is cut. `readOnly` (a view beside a live writer): nothing is changed. */
export type RecoveryMode = 'repair' | 'readOnly';

/** Scans `dir`'s segments into an index; the writer's scan (`repair`) truncates a torn tail of the last segment. */
export async function recoverLog(
  dir: string,
  verify: VerifyMode = 'tail',
  mode: RecoveryMode = 'repair',
): Promise<RecoveredLog> {
  const segments = await listSegments(dir);
  const index = new FileLogIndex();
  const report: RecoveryReport = { segments: segments.length, events: 0, corrupt: [] };
  let lastSegmentBytes = 0;
  let lastSegmentCrc = 0;
  /** Sealed segments whose index file vouches for them: what memory need not hold of their finished runs. */
  const onDisk: number[] = [];
  const unindexed: RecoveredLog['unindexed'] = [];
  for (const [position, segment] of segments.entries()) {
    const isLast = position === segments.length - 1;
    const name = segmentFileName(segment);
    if (!isLast && verify === 'tail') {
      const size = (await stat(join(dir, name))).size;
      const trusted = await readIndexFile(dir, segment, size, undefined);
      if (trusted) {
        for (const [runId, chunk] of trusted) index.addSegment(runId, segment, chunk);
        onDisk.push(segment);
        continue;
      }
    }
    const bytes = await readFile(join(dir, name));
    const wholeCrc = crc32(bytes);
    const listed = await readIndexFile(dir, segment, bytes.length, wholeCrc);
    if (listed) {
      for (const [runId, chunk] of listed) index.addSegment(runId, segment, chunk);
      // The last segment is appended to again: its index file will be rewritten from what memory holds.
      if (!isLast) onDisk.push(segment);
      if (isLast) {
        lastSegmentBytes = bytes.length;
        lastSegmentCrc = wholeCrc;
      }
      continue;
    }
    const scanned = indexSegmentBytes(bytes, 0, segment, index);
    report.corrupt.push(...scanned.corrupt);
    const truncated = await truncation(dir, segment, bytes.length);
    if (truncated) report.corrupt.push(truncated);
    if (!isLast && scanned.corrupt.length === 0 && !scanned.partial && !truncated) {
      unindexed.push({ segment, size: bytes.length, crc: wholeCrc });
    }
    let cutAt: number | undefined;
    if (scanned.partial) {
      if (isLast) {
        cutAt = scanned.partial.offset;
        // Read-only, the partial record may be a batch the writer is writing: the scan stops before it, cuts nothing.
        if (mode === 'repair') report.tornTail = scanned.partial;
      } else {
        report.corrupt.push(scanned.partial);
      }
    }
    if (isLast) {
      lastSegmentBytes = cutAt ?? bytes.length;
      lastSegmentCrc = crc32(bytes.subarray(0, lastSegmentBytes));
      if (cutAt !== undefined && mode === 'repair') {
        const handle = await open(join(dir, name), 'r+');
        try {
          await handle.truncate(cutAt);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
    }
  }
  index.segmentsOnDiskNow(onDisk);
  report.events = index.eventCount;
  return { index, report, segments, unindexed, lastSegmentBytes, lastSegmentCrc };
}
