// The file log's in-memory index: per run, where each event sits (segment, offset, frame length) and its summary.
import { terminalStatus, type RunSummary } from './eventStore.js';
import { ColdRuns } from './fileLogColdRuns.js';

/** What the index needs of an event: its header fields, never its data. */
export interface IndexedFields {
  runId: string;
  seq: number;
  ts: number;
  type: string;
}

/** What one segment holds of one run, beyond the positions: enough to rebuild the run's summary from index files. */
export interface SegmentRunSummary {
  firstTs: number;
  lastTs: number;
  lastType: string;
  /** The last terminal status an event in this segment gave the run. */
  terminal: RunSummary['status'] | undefined;
}

/**
 * One run's records in one segment, held in memory: the active segment's, and a running run's. A finished run's are
 * packed into typed arrays (16 bytes a record) until the segment's index file takes them.
 */
export interface ResidentPart {
  segment: number;
  summary: SegmentRunSummary;
  offsets: number[] | Float64Array;
  frameBytes: number[] | Uint32Array;
  seqs: number[] | Uint32Array;
}

export interface RunEntries {
  summary: RunSummary;
  /**
   * Sealed segments whose index file lists this run's positions, which memory then no longer holds: a finished
   * run costs its summary and these numbers, however many events it had. Reads fetch them from the index file.
   */
  onDisk: number[];
  /** Positions held here, in segment order; undefined once every part is on disk. */
  resident: ResidentPart[] | undefined;
}

export interface SegmentChunk {
  offsets: number[];
  frameBytes: number[];
  seqs: number[];
  summary: SegmentRunSummary;
}

export interface FileLogIndexStats {
  runs: number;
  /** Finished runs in sealed segments, kept as a packed summary and a segment range. */
  packedRuns: number;
  /** Records whose positions memory holds (the active segment's, running runs'); the rest are in index files. */
  residentRecords: number;
}

/** Where one run's records are: parts held in memory, and segments whose index file holds the rest. */
export interface RunLocation {
  resident: readonly ResidentPart[];
  onDisk: readonly number[];
}

/**
 * The file log's in-memory index. Memory grows with the runs, not with their events: once a segment's index file is
 * written, the positions of the finished runs in it are dropped here and read from that file when the run is read.
 * Running runs keep theirs (they are read on resume), and so does the active segment (its index file is not written).
 */
export class FileLogIndex {
  private readonly runs = new Map<string, RunEntries>();
  /** Segments whose index file is written and vouches for them. */
  private readonly segmentsOnDisk = new Set<number>();
  /** Runs that hold positions in memory: where a sealed segment's finished runs are looked for. */
  private readonly residentRuns = new Set<RunEntries>();
  /** Finished runs wholly in a contiguous range of segments on disk: their summary and that range, packed. */
  private readonly cold = new ColdRuns();
  eventCount = 0;

  private entriesFor(runId: string, first: { ts: number; type: string }): RunEntries {
    let entries = this.runs.get(runId);
    const cold = entries ? undefined : this.cold.take(runId);
    if (cold) {
      entries = { summary: cold.summary, onDisk: segmentRange(cold), resident: undefined };
      this.runs.set(runId, entries);
    }
    if (!entries) {
      entries = {
        summary: {
          runId,
          status: 'running',
          events: 0,
          lastSeq: 0,
          firstTs: first.ts,
          lastTs: first.ts,
          lastType: first.type,
        },
        onDisk: [],
        resident: undefined,
      };
      this.runs.set(runId, entries);
    }
    return entries;
  }

  private residentPart(entries: RunEntries, segment: number, summary: SegmentRunSummary): ResidentPart {
    const last = entries.resident?.at(-1);
    if (last?.segment === segment) return last;
    const part: ResidentPart = { segment, summary, offsets: [], frameBytes: [], seqs: [] };
    (entries.resident ??= []).push(part);
    this.residentRuns.add(entries);
    return part;
  }

  add(fields: IndexedFields, segment: number, offset: number, frameBytes: number): void {
    const entries = this.entriesFor(fields.runId, fields);
    const terminal = terminalStatus(fields.type);
    const fresh: SegmentRunSummary = { firstTs: fields.ts, lastTs: fields.ts, lastType: fields.type, terminal };
    const part = this.residentPart(entries, segment, fresh);
    if (part.summary !== fresh) {
      const inSegment = part.summary;
      inSegment.firstTs = Math.min(inSegment.firstTs, fields.ts);
      inSegment.lastTs = Math.max(inSegment.lastTs, fields.ts);
      inSegment.lastType = fields.type;
      inSegment.terminal = terminal ?? inSegment.terminal;
    }
    appendTo(part, offset, frameBytes, fields.seq);
    const summary = entries.summary;
    summary.events += 1;
    summary.lastSeq = Math.max(summary.lastSeq, fields.seq);
    summary.firstTs = Math.min(summary.firstTs, fields.ts);
    summary.lastTs = Math.max(summary.lastTs, fields.ts);
    summary.lastType = fields.type;
    summary.status = terminal ?? summary.status;
    this.eventCount += 1;
    if (terminal !== undefined && terminal !== 'running') this.release(entries);
  }

  /** Adds what an index file says one segment holds of a run (segments are added in log order). */
  addSegment(runId: string, segment: number, chunk: SegmentChunk): void {
    const { offsets, frameBytes, seqs, summary: inSegment } = chunk;
    const entries = this.entriesFor(runId, { ts: inSegment.firstTs, type: inSegment.lastType });
    const part = this.residentPart(entries, segment, { ...inSegment });
    for (let i = 0; i < offsets.length; i += 1) {
      const seq = seqs[i] ?? 0;
      appendTo(part, offsets[i] ?? 0, frameBytes[i] ?? 0, seq);
      if (seq > entries.summary.lastSeq) entries.summary.lastSeq = seq;
    }
    const summary = entries.summary;
    summary.events += offsets.length;
    summary.firstTs = Math.min(summary.firstTs, inSegment.firstTs);
    summary.lastTs = Math.max(summary.lastTs, inSegment.lastTs);
    summary.lastType = inSegment.lastType;
    summary.status = inSegment.terminal ?? summary.status;
    this.eventCount += offsets.length;
  }

  /**
   * The segments' index files are written (or were found trusted): the finished runs' positions in them leave memory.
   * Never for a segment still being appended to, whose index file would be written again from what is held here.
   */
  segmentsOnDiskNow(segments: Iterable<number>): void {
    for (const segment of segments) this.segmentsOnDisk.add(segment);
    for (const entries of this.residentRuns) this.release(entries);
  }

  /** Drops a finished run's parts that sit in segments on disk. */
  private release(entries: RunEntries): void {
    const resident = entries.resident;
    if (!resident || entries.summary.status === 'running') return;
    const kept = resident.filter((part) => !this.segmentsOnDisk.has(part.segment));
    for (const part of kept) pack(part);
    if (kept.length === resident.length) return;
    for (const part of resident) if (this.segmentsOnDisk.has(part.segment)) entries.onDisk.push(part.segment);
    entries.onDisk.sort((a, b) => a - b);
    if (kept.length > 0) {
      entries.resident = kept;
      return;
    }
    entries.resident = undefined;
    this.residentRuns.delete(entries);
    const onDisk = [...new Set(entries.onDisk)];
    const [firstSegment, lastSegment] = [onDisk[0] ?? 0, onDisk.at(-1) ?? 0];
    // A run with gaps between its segments keeps its list: a range would send its reads through segments without it.
    if (lastSegment - firstSegment + 1 !== onDisk.length) return;
    this.runs.delete(entries.summary.runId);
    this.cold.put({ summary: entries.summary, firstSegment, lastSegment });
  }

  /**
   * Where the run's records are now, or undefined for a run the log does not hold. Copies of the lists: a release
   * while a read waits for its files moves parts from one list to the other, and the read would take them twice.
   */
  locate(runId: string): RunLocation | undefined {
    const entries = this.runs.get(runId);
    if (entries) return { resident: [...(entries.resident ?? [])], onDisk: [...entries.onDisk] };
    const cold = this.cold.get(runId);
    return cold && { resident: [], onDisk: segmentRange(cold) };
  }

  /** The segments holding the run's records, in order. */
  segmentsOf(runId: string): number[] {
    const located = this.locate(runId);
    return located ? segmentsIn(located) : [];
  }

  /** Everything one segment holds, run by run: the content of its index file (never a segment already on disk). */
  segmentChunks(segment: number): [string, SegmentChunk][] {
    const chunks: [string, SegmentChunk][] = [];
    for (const entries of this.residentRuns) {
      const part = entries.resident?.find((candidate) => candidate.segment === segment);
      if (!part) continue;
      const { offsets, frameBytes, seqs, summary } = part;
      const chunk = { offsets: [...offsets], frameBytes: [...frameBytes], seqs: [...seqs], summary };
      chunks.push([entries.summary.runId, chunk]);
    }
    return chunks;
  }

  /** What the index holds: runs, the finished ones packed, and records whose positions memory keeps. */
  stats(): FileLogIndexStats {
    let residentRecords = 0;
    for (const entries of this.residentRuns)
      for (const part of entries.resident ?? []) residentRecords += part.seqs.length;
    return { runs: this.runs.size + this.cold.size, packedRuns: this.cold.size, residentRecords };
  }

  summaries(): RunSummary[] {
    // The cold runs finished first: listed first, close to the order the runs began in.
    return [...this.cold.summaries(), ...[...this.runs.values()].map((entries) => ({ ...entries.summary }))];
  }
}

/** The segments a location spans, each once, in order. */
export function segmentsIn(location: RunLocation): number[] {
  const segments = [...location.onDisk, ...location.resident.map((part) => part.segment)];
  return [...new Set(segments)].sort((a, b) => a - b);
}

function appendTo(part: ResidentPart, offset: number, frameBytes: number, seq: number): void {
  // A packed part grows again only when its finished run goes on (a resolution) within the same segment.
  if (!Array.isArray(part.offsets)) part.offsets = [...part.offsets];
  if (!Array.isArray(part.frameBytes)) part.frameBytes = [...part.frameBytes];
  if (!Array.isArray(part.seqs)) part.seqs = [...part.seqs];
  (part.offsets as number[]).push(offset);
  (part.frameBytes as number[]).push(frameBytes);
  (part.seqs as number[]).push(seq);
}

function pack(part: ResidentPart): void {
  if (Array.isArray(part.offsets)) part.offsets = Float64Array.from(part.offsets);
  if (Array.isArray(part.frameBytes)) part.frameBytes = Uint32Array.from(part.frameBytes);
  if (Array.isArray(part.seqs)) part.seqs = Uint32Array.from(part.seqs);
}

function segmentRange({ firstSegment, lastSegment }: { firstSegment: number; lastSegment: number }): number[] {
  return Array.from({ length: lastSegment - firstSegment + 1 }, (_, i) => firstSegment + i);
}

/**
 * The index fields of a record's JSON without parsing its data: the writer puts `data` last, and the text
 * `,"data":` cannot occur inside a JSON string (its quote would be escaped), so what precedes it is the header.
 */
export function indexedFieldsOf(json: string): IndexedFields | undefined {
  const dataAt = json.indexOf(',"data":');
  const header: unknown = JSON.parse(dataAt === -1 ? json : `${json.slice(0, dataAt)}}`);
  if (typeof header !== 'object' || header === null) return undefined;
  const { runId, seq, ts, type } = header as Record<string, unknown>;
  if (typeof runId !== 'string' || typeof seq !== 'number' || typeof ts !== 'number' || typeof type !== 'string') {
    return undefined;
  }
  return { runId, seq, ts, type };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

/**
 * The index fields of the record in `bytes[jsonStart, jsonEnd)` by walking its top-level keys up to `data` without
 * building the event: opening a log must not parse every event. Anything unusual (an escape in a string, a nested
 * value before `data`) falls back to `JSON.parse` of the header text.
 */
export function indexedFieldsAt(bytes: Buffer, jsonStart: number, jsonEnd: number): IndexedFields | undefined {
  let runId: string | undefined;
  let type: string | undefined;
  let seq: number | undefined;
  let ts: number | undefined;
  let cursor = jsonStart + 1;
  if (bytes[jsonStart] !== 0x7b) return fallback(bytes, jsonStart, jsonEnd);
  while (cursor < jsonEnd) {
    if (bytes[cursor] !== QUOTE) return fallback(bytes, jsonStart, jsonEnd);
    const keyStart = cursor + 1;
    const keyEnd = bytes.indexOf(QUOTE, keyStart);
    if (keyEnd === -1 || keyEnd >= jsonEnd || bytes[keyEnd + 1] !== COLON) return fallback(bytes, jsonStart, jsonEnd);
    const keyLength = keyEnd - keyStart;
    const first = bytes[keyStart];
    const valueStart = keyEnd + 2;
    if (keyLength === 4 && first === 0x64 /* data */) break;
    let valueEnd: number;
    if (bytes[valueStart] === QUOTE) {
      valueEnd = valueStart + 1;
      while (valueEnd < jsonEnd && bytes[valueEnd] !== QUOTE) {
        if (bytes[valueEnd] === BACKSLASH) return fallback(bytes, jsonStart, jsonEnd);
        valueEnd += 1;
      }
      valueEnd += 1;
      if (keyLength === 5 && first === 0x72 /* runId */) runId = bytes.toString('utf8', valueStart + 1, valueEnd - 1);
      else if (keyLength === 4 && first === 0x74 /* type */)
        type = bytes.toString('utf8', valueStart + 1, valueEnd - 1);
    } else {
      valueEnd = valueStart;
      while (valueEnd < jsonEnd && bytes[valueEnd] !== COMMA && bytes[valueEnd] !== CLOSE_BRACE) valueEnd += 1;
      if (keyLength === 3 && first === 0x73 /* seq */) seq = Number(bytes.toString('latin1', valueStart, valueEnd));
      else if (keyLength === 2 && first === 0x74 /* ts */) ts = Number(bytes.toString('latin1', valueStart, valueEnd));
    }
    if (bytes[valueEnd] !== COMMA) break;
    cursor = valueEnd + 1;
  }
  if (runId === undefined || type === undefined || seq === undefined || ts === undefined) {
    return fallback(bytes, jsonStart, jsonEnd);
  }
  if (!Number.isFinite(seq) || !Number.isFinite(ts)) return undefined;
  return { runId, seq, ts, type };
}

const DATA_KEY = Buffer.from(',"data":');

function fallback(bytes: Buffer, jsonStart: number, jsonEnd: number): IndexedFields | undefined {
  // Searched within the record only: a record without `data` must not send the search through the whole segment.
  const dataAt = bytes.subarray(jsonStart, jsonEnd).indexOf(DATA_KEY);
  try {
    if (dataAt !== -1) return indexedFieldsOf(`${bytes.toString('utf8', jsonStart, jsonStart + dataAt)}}`);
    return indexedFieldsOf(bytes.toString('utf8', jsonStart, jsonEnd));
  } catch {
    return undefined;
  }
}
