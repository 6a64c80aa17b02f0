// Index files: what a segment holds, run by run, written when the segment is sealed or the log closes, so that
// opening a log reads positions instead of parsing every record. Trusted only while the segment's size (and, when checked, CRC) match.
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from './eventStore.js';
import type { FileLogIndex, SegmentChunk } from './fileLogIndex.js';
import { segmentFileName } from './fileLogSegment.js';

const INDEX_FILE_VERSION = 1;

/** One run in one segment: id, offsets, frame lengths, seqs, first and last ts, last type, terminal status. */
type IndexedRun = [string, number[], number[], number[], number, number, string, RunSummary['status'] | null];

/** The file's shape; read back with a cheap check (a full schema parse of a million numbers would undo the point). */
interface SegmentIndexFile {
  version: typeof INDEX_FILE_VERSION;
  segmentBytes: number;
  crc: number;
  runs: IndexedRun[];
}

export function indexFileName(segment: number): string {
  return segmentFileName(segment).replace(/\.log$/, '.idx');
}

export async function writeIndexFile(
  dir: string,
  segment: number,
  segmentBytes: number,
  crc: number,
  index: FileLogIndex,
): Promise<void> {
  const content: SegmentIndexFile = {
    version: INDEX_FILE_VERSION,
    segmentBytes,
    crc,
    runs: index
      .segmentChunks(segment)
      .map(([runId, chunk]) => [
        runId,
        chunk.offsets,
        chunk.frameBytes,
        chunk.seqs,
        chunk.summary.firstTs,
        chunk.summary.lastTs,
        chunk.summary.lastType,
        chunk.summary.terminal ?? null,
      ]),
  };
  const path = join(dir, indexFileName(segment));
  // A torn index file is harmless (it fails to parse and the segment is scanned), but rename keeps it whole.
  try {
    await writeFile(`${path}.tmp`, JSON.stringify(content));
  } catch (error) {
    // A partial temporary file (a full disk) would only take space.
    await unlink(`${path}.tmp`).catch(() => undefined);
    throw error;
  }
  await rename(`${path}.tmp`, path);
}

/** The runs an index file lists, or undefined when it is missing, unreadable or describes other bytes. */
export async function readIndexFile(
  dir: string,
  segment: number,
  segmentBytes: number,
  /** The segment's CRC32, or undefined to trust a file whose size matches. */
  crc: number | undefined,
): Promise<[string, SegmentChunk][] | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, indexFileName(segment)), 'utf8');
  } catch {
    return undefined;
  }
  let content: SegmentIndexFile;
  try {
    // The file is ours and small beside its segment; a cheap shape check guards against a foreign or stale format.
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version !== 1) {
      return undefined;
    }
    content = parsed as SegmentIndexFile;
  } catch {
    return undefined;
  }
  if (content.segmentBytes !== segmentBytes || (crc !== undefined && content.crc !== crc)) return undefined;
  if (!Array.isArray(content.runs) || !content.runs.every((run) => isIndexedRun(run, segmentBytes))) return undefined;
  return content.runs.map(([runId, offsets, frameBytes, seqs, firstTs, lastTs, lastType, terminal]) => [
    runId,
    { offsets, frameBytes, seqs, summary: { firstTs, lastTs, lastType, terminal: terminal ?? undefined } },
  ]);
}

const isPosition = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const terminals = new Set<unknown>([null, 'running', 'succeeded', 'failed', 'escalated', 'cancelled']);

/**
 * Whether `run` has the shape of an index file's run, with every record inside the segment: a damaged index file that
 * still parses is not trusted (the segment is scanned instead). One pass over numbers, far cheaper than the parse.
 */
function isIndexedRun(run: unknown, segmentBytes: number): run is IndexedRun {
  if (!Array.isArray(run) || run.length !== 8) return false;
  const [runId, offsets, frameBytes, seqs, firstTs, lastTs, lastType, terminal] = run as unknown[];
  if (typeof runId !== 'string' || runId === '' || typeof lastType !== 'string' || !terminals.has(terminal))
    return false;
  if (typeof firstTs !== 'number' || typeof lastTs !== 'number') return false;
  if (!Array.isArray(offsets) || !Array.isArray(frameBytes) || !Array.isArray(seqs)) return false;
  const count = offsets.length;
  if (count === 0 || frameBytes.length !== count || seqs.length !== count) return false;
  for (let i = 0; i < count; i += 1) {
    const offset: unknown = offsets[i];
    const bytes: unknown = frameBytes[i];
    const seq: unknown = seqs[i];
    if (!isPosition(offset) || !isPosition(bytes) || !isPosition(seq)) return false;
    if (bytes === 0 || seq === 0 || offset + bytes > segmentBytes) return false;
  }
  return true;
}

/**
 * Where each record the segment's index file lists ends, or undefined without a readable, well-formed index file. An
 * index file is written only for records that are durable, so a segment shorter than one of these lost records.
 */
export async function indexedRecordEnds(dir: string, segment: number): Promise<number[] | undefined> {
  let content: Partial<SegmentIndexFile>;
  try {
    content = JSON.parse(await readFile(join(dir, indexFileName(segment)), 'utf8')) as Partial<SegmentIndexFile>;
  } catch {
    return undefined;
  }
  const { segmentBytes, runs } = content ?? {};
  if (!isPosition(segmentBytes) || !Array.isArray(runs)) return undefined;
  if (!runs.every((run) => isIndexedRun(run, segmentBytes))) return undefined;
  return runs.flatMap(([, offsets, frameBytes]) => offsets.map((offset, i) => offset + (frameBytes[i] ?? 0)));
}

export async function removeIndexFile(dir: string, segment: number): Promise<void> {
  await unlink(join(dir, indexFileName(segment))).catch(() => undefined);
}
