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
  await writeFile(`${path}.tmp`, JSON.stringify(content));
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
  return content.runs.map(([runId, offsets, frameBytes, seqs, firstTs, lastTs, lastType, terminal]) => [
    runId,
    { offsets, frameBytes, seqs, summary: { firstTs, lastTs, lastType, terminal: terminal ?? undefined } },
  ]);
}

export async function removeIndexFile(dir: string, segment: number): Promise<void> {
  await unlink(join(dir, indexFileName(segment))).catch(() => undefined);
}
