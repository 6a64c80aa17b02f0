// Segment files of the file log: names that sort in log order, and positions (`segment:offset`) that do too.
import { readdir } from 'node:fs/promises';

const SEGMENT_PATTERN = /^segment-(\d{10})\.log$/;

export function segmentFileName(segment: number): string {
  return `segment-${String(segment).padStart(10, '0')}.log`;
}

/** The segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const segments: number[] = [];
  for (const name of names) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match?.[1] !== undefined) segments.push(Number(match[1]));
  }
  return segments.sort((a, b) => a - b);
}

/** The segment numbers in `dir`, none while it does not exist (a read-only view of a data directory not made yet). */
export function listSegmentsIfAny(dir: string): Promise<number[]> {
  return listSegments(dir).catch((error: unknown) =>
    (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : Promise.reject(error as Error),
  );
}

/** A store position: zero-padded so that positions compare as strings in log order. */
export function formatPosition(segment: number, offset: number): string {
  return `${String(segment).padStart(10, '0')}:${String(offset).padStart(12, '0')}`;
}

export function parsePosition(position: string): { segment: number; offset: number } | undefined {
  const match = /^(\d+):(\d+)$/.exec(position);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { segment: Number(match[1]), offset: Number(match[2]) };
}
