// Compaction for retention: rewrites sealed segments without the removed runs, each replaced by an atomic rename.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { walkRecords } from './fileLogRecovery.js';
import { indexedFieldsAt } from './fileLogIndex.js';
import { removeIndexFile } from './fileLogIndexFile.js';
import { segmentFileName } from './fileLogSegment.js';

/** Rewrites each of `segments` without the records of `removedRuns`; damaged bytes are kept so they stay reported. */
/** Returns each segment that was rewritten (not removed) with its new size and CRC32, for its index file. */
export async function compactSegments(
  dir: string,
  segments: readonly number[],
  removedRuns: ReadonlySet<string>,
): Promise<{ segment: number; size: number; crc: number }[]> {
  const rewritten: { segment: number; size: number; crc: number }[] = [];
  for (const segment of segments) {
    const path = join(dir, segmentFileName(segment));
    await removeIndexFile(dir, segment);
    const bytes = await readFile(path);
    const kept: Buffer[] = [];
    walkRecords(bytes, 0, bytes.length, {
      record(offset, jsonStart, jsonEnd, next) {
        const runId = indexedFieldsAt(bytes, jsonStart, jsonEnd)?.runId;
        if (runId === undefined || !removedRuns.has(runId)) kept.push(bytes.subarray(offset, next));
        return true;
      },
      damage(offset, length) {
        kept.push(bytes.subarray(offset, offset + length));
      },
    });
    if (kept.length === 0) {
      await unlink(path);
      continue;
    }
    const temporary = `${path}.compact`;
    const handle = await open(temporary, 'w');
    const compacted = Buffer.concat(kept);
    rewritten.push({ segment, size: compacted.length, crc: crc32(compacted) });
    try {
      await handle.writeFile(compacted);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }
  await syncDirectory(dir);
  return rewritten;
}

/** Makes renames and unlinks in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
