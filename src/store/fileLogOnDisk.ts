// A finished run's positions in a sealed segment, which the in-memory index no longer holds: read from the segment's
// index file or, when that file is gone or does not vouch for the segment, found by scanning the segment's record
// headers (the last two segments read either way are kept).
import { readIndexFile } from './fileLogIndexFile.js';
import { FileLogIndex } from './fileLogIndex.js';
import type { PinnedSegment } from './fileLogReaders.js';
import { indexSegmentBytes, type DamagedRecord } from './fileLogRecovery.js';

export interface Positions {
  offsets: ArrayLike<number>;
  frameBytes: ArrayLike<number>;
  seqs: ArrayLike<number>;
}

/** How many segments' positions are kept (parsed index files or scans): reading a segment's runs one by one reads it once. */
const CACHED_SEGMENTS = 2;

const NONE: Positions = { offsets: [], frameBytes: [], seqs: [] };

/** Every run's positions in one segment, and the damage its scan met (none when an index file listed them). */
interface SegmentPositions {
  runs: Map<string, Positions>;
  /** What a scan met (none when an index file listed them): its record may be the one a read needs. */
  damage: DamagedRecord[];
}

export interface OnDiskPositions {
  /** The run's positions in the pinned sealed segment, with any damage found while looking for them. */
  of(pin: PinnedSegment, runId: string): Promise<{ positions: Positions; damage: readonly DamagedRecord[] }>;
  /** Forgets what was read (a retention rewrote segments, a read found damage). */
  clear(): void;
}

export function onDiskPositions(dir: string): OnDiskPositions {
  /** By segment and size, the most recently used last. */
  const cache = new Map<string, SegmentPositions>();

  /** Every run's records found by the open's own header walk, into an index of this segment alone. */
  const scan = async (pin: PinnedSegment, size: number): Promise<SegmentPositions> => {
    const bytes = Buffer.allocUnsafe(size);
    const { bytesRead } = await pin.handle.read(bytes, 0, size, 0);
    const index = new FileLogIndex();
    const { corrupt, partial } = indexSegmentBytes(bytes.subarray(0, bytesRead), 0, pin.segment, index);
    const runs = new Map<string, Positions>();
    for (const { runId } of index.summaries()) {
      const part = index.locate(runId)?.resident[0];
      if (part) runs.set(runId, part);
    }
    return { runs, damage: partial ? [...corrupt, partial] : corrupt };
  };

  const positionsOf = async (pin: PinnedSegment): Promise<SegmentPositions> => {
    const { size } = await pin.handle.stat();
    const key = `${String(pin.segment)}:${String(size)}`;
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const listed = await readIndexFile(dir, pin.segment, size, undefined);
    const found = listed ? { runs: new Map<string, Positions>(listed), damage: [] } : await scan(pin, size);
    cache.set(key, found);
    while (cache.size > CACHED_SEGMENTS) cache.delete(cache.keys().next().value as string);
    return found;
  };

  return {
    async of(pin, runId) {
      const { runs, damage } = await positionsOf(pin);
      return { positions: runs.get(runId) ?? NONE, damage };
    },
    clear: () => cache.clear(),
  };
}
