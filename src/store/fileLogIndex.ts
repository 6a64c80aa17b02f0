// The file log's in-memory index: per run, where each event sits (segment, offset, frame length) and its summary.
import { terminalStatus, type RunSummary } from './eventStore.js';

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

export interface RunEntries {
  summary: RunSummary;
  bySegment: Map<number, SegmentRunSummary>;
  segments: number[];
  offsets: number[];
  frameBytes: number[];
  seqs: number[];
}

export interface SegmentChunk {
  offsets: number[];
  frameBytes: number[];
  seqs: number[];
  summary: SegmentRunSummary;
}

export class FileLogIndex {
  readonly runs = new Map<string, RunEntries>();
  eventCount = 0;

  add(fields: IndexedFields, segment: number, offset: number, frameBytes: number): void {
    let entries = this.runs.get(fields.runId);
    if (!entries) {
      entries = {
        summary: {
          runId: fields.runId,
          status: 'running',
          events: 0,
          lastSeq: 0,
          firstTs: fields.ts,
          lastTs: fields.ts,
          lastType: fields.type,
        },
        bySegment: new Map(),
        segments: [],
        offsets: [],
        frameBytes: [],
        seqs: [],
      };
      this.runs.set(fields.runId, entries);
    }
    entries.segments.push(segment);
    entries.offsets.push(offset);
    entries.frameBytes.push(frameBytes);
    entries.seqs.push(fields.seq);
    const terminal = terminalStatus(fields.type);
    const inSegment = entries.bySegment.get(segment);
    if (inSegment) {
      inSegment.firstTs = Math.min(inSegment.firstTs, fields.ts);
      inSegment.lastTs = Math.max(inSegment.lastTs, fields.ts);
      inSegment.lastType = fields.type;
      inSegment.terminal = terminal ?? inSegment.terminal;
    } else {
      entries.bySegment.set(segment, { firstTs: fields.ts, lastTs: fields.ts, lastType: fields.type, terminal });
    }
    const summary = entries.summary;
    summary.events += 1;
    summary.lastSeq = Math.max(summary.lastSeq, fields.seq);
    summary.firstTs = Math.min(summary.firstTs, fields.ts);
    summary.lastTs = Math.max(summary.lastTs, fields.ts);
    summary.lastType = fields.type;
    summary.status = terminal ?? summary.status;
    this.eventCount += 1;
  }

  /** Adds what an index file says one segment holds of a run (segments are added in log order). */
  addSegment(runId: string, segment: number, chunk: SegmentChunk): void {
    const { offsets, frameBytes, seqs, summary: inSegment } = chunk;
    let entries = this.runs.get(runId);
    if (!entries) {
      entries = {
        summary: {
          runId,
          status: 'running',
          events: 0,
          lastSeq: 0,
          firstTs: inSegment.firstTs,
          lastTs: inSegment.lastTs,
          lastType: inSegment.lastType,
        },
        bySegment: new Map(),
        segments: [],
        offsets: [],
        frameBytes: [],
        seqs: [],
      };
      this.runs.set(runId, entries);
    }
    entries.bySegment.set(segment, { ...inSegment });
    for (let i = 0; i < offsets.length; i += 1) {
      entries.segments.push(segment);
      entries.offsets.push(offsets[i] ?? 0);
      entries.frameBytes.push(frameBytes[i] ?? 0);
      const seq = seqs[i] ?? 0;
      entries.seqs.push(seq);
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

  /** Everything one segment holds, run by run: the content of its index file. */
  segmentChunks(segment: number): [string, SegmentChunk][] {
    const chunks: [string, SegmentChunk][] = [];
    for (const [runId, entries] of this.runs) {
      const inSegment = entries.bySegment.get(segment);
      if (!inSegment) continue;
      const chunk: SegmentChunk = { offsets: [], frameBytes: [], seqs: [], summary: inSegment };
      for (let i = 0; i < entries.segments.length; i += 1) {
        if (entries.segments[i] !== segment) continue;
        chunk.offsets.push(entries.offsets[i] ?? 0);
        chunk.frameBytes.push(entries.frameBytes[i] ?? 0);
        chunk.seqs.push(entries.seqs[i] ?? 0);
      }
      chunks.push([runId, chunk]);
    }
    return chunks;
  }

  summaries(): RunSummary[] {
    return [...this.runs.values()].map((entries) => ({ ...entries.summary }));
  }
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
