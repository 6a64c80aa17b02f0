// A finished run's positions in a sealed segment, which the in-memory index no longer holds: read from the segment's
// index file (the last two parsed are kept), or, when that file is gone or does not vouch for the segment, found by
// scanning the segment's record headers.
import { readIndexFile } from './fileLogIndexFile.js';
import { indexedFieldsAt } from './fileLogIndex.js';
import type { PinnedSegment } from './fileLogReaders.js';
import { walkRecords } from './fileLogRecovery.js';

export interface Positions {
  offsets: ArrayLike<number>;
  frameBytes: ArrayLike<number>;
  seqs: ArrayLike<number>;
}

/** How many parsed index files are kept: reading the runs of one segment one by one parses its file once. */
const CACHED_INDEX_FILES = 2;

const NONE: Positions = { offsets: [], frameBytes: [], seqs: [] };

export interface OnDiskPositions {
  /** The run's positions in the pinned sealed segment. */
  of(pin: PinnedSegment, runId: string): Promise<Positions>;
  /** Forgets what was read (a retention rewrote segments). */
  clear(): void;
}

export function onDiskPositions(dir: string): OnDiskPositions {
  /** Parsed index files by segment and size, the most recently used last. */
  const cache = new Map<string, Map<string, Positions> | undefined>();

  const indexFile = async (segment: number, size: number): Promise<Map<string, Positions> | undefined> => {
    const key = `${String(segment)}:${String(size)}`;
    if (cache.has(key)) {
      const hit = cache.get(key);
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const listed = await readIndexFile(dir, segment, size, undefined);
    const runs = listed && new Map<string, Positions>(listed);
    cache.set(key, runs);
    while (cache.size > CACHED_INDEX_FILES) cache.delete(cache.keys().next().value as string);
    return runs;
  };

  /** The run's records found by walking the segment's headers: the index file is missing or damaged. */
  const scan = async (pin: PinnedSegment, runId: string): Promise<Positions> => {
    const { size } = await pin.handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    const { bytesRead } = await pin.handle.read(bytes, 0, size, 0);
    const found = { offsets: [] as number[], frameBytes: [] as number[], seqs: [] as number[] };
    walkRecords(bytes, 0, bytesRead, {
      record(offset, jsonStart, jsonEnd, next) {
        const fields = indexedFieldsAt(bytes, jsonStart, jsonEnd);
        if (fields?.runId === runId) {
          found.offsets.push(offset);
          found.frameBytes.push(next - offset);
          found.seqs.push(fields.seq);
        }
        return true;
      },
      // Damage is not this lookup's to report: a read of a record in it reports it with segment and byte.
      damage() {},
    });
    return found;
  };

  return {
    async of(pin, runId) {
      const { size } = await pin.handle.stat();
      const runs = await indexFile(pin.segment, size);
      if (runs) return runs.get(runId) ?? NONE;
      return scan(pin, runId);
    },
    clear: () => cache.clear(),
  };
}
