// readAll streams: a segment is decoded a bounded chunk at a time, and every chunk size reads the same events,
// positions and damage as one read of the whole segment would.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import type { StoredEvent } from '../../src/store/eventStore.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { listSegments, parsePosition, segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

/** Chunk sizes from one byte (every record cut) to more than a segment. */
const chunkSizes = [1, 37, 300, 1_000, 4_096, 1 << 20];

/** Three runs interleaved over several segments, with some records far longer than the small chunks. */
async function writeLog(): Promise<void> {
  const log = await createFileLog({ dir, segmentBytes: 8_000 });
  for (let seq = 1; seq <= 40; seq += 1) {
    const long = seq % 7 === 0 ? { data: { blob: 'x'.repeat(2_500 + seq) } } : {};
    await log.append([envelope('run-a', seq, long), envelope('run-b', seq), envelope('run-c', seq)]);
  }
  await log.close();
}

/** Every event `readAll` gives with this chunk size; `reportedDamage`: how many damaged records the open must report. */
async function readAllWith(readChunkBytes: number, from?: string, reportedDamage = 0): Promise<StoredEvent[]> {
  const log = await createFileLog({ dir, readChunkBytes });
  expect(log.recoveryReport.corrupt).toHaveLength(reportedDamage);
  try {
    const stored: StoredEvent[] = [];
    for await (const each of log.readAll(from)) stored.push(each);
    return stored;
  } finally {
    await log.close();
  }
}

async function readAllError(readChunkBytes: number): Promise<string> {
  const log = await createFileLog({ dir, readChunkBytes });
  try {
    for await (const _stored of log.readAll());
  } catch (error) {
    if (isRetraceError(error)) return `${error.code}: ${error.message}`;
    throw error;
  } finally {
    await log.close();
  }
  throw new Error('readAll met no damage');
}

/** The offset of the `n`th record (from 0) of a segment. */
async function recordOffset(segment: number, n: number): Promise<number> {
  const bytes = await readFile(join(dir, segmentFileName(segment)));
  let offset = 0;
  for (let i = 0; i < n; i += 1) offset = bytes.indexOf(0x0a, offset) + 1;
  return offset;
}

async function flipByte(segment: number, at: number): Promise<void> {
  const path = join(dir, segmentFileName(segment));
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

describe('readAll in chunks', () => {
  it('reads the same events at the same positions, in log order, whatever the chunk size', async () => {
    await writeLog();
    expect((await listSegments(dir)).length).toBeGreaterThan(3);
    const whole = await readAllWith(1 << 30);
    expect(whole).toHaveLength(120);
    expect(whole.map((stored) => `${stored.event.runId}:${stored.event.seq}`).slice(0, 4)).toEqual([
      'run-a:1',
      'run-b:1',
      'run-c:1',
      'run-a:2',
    ]);
    expect([...whole.map((stored) => stored.position)].sort()).toEqual(whole.map((stored) => stored.position));
    for (const size of chunkSizes) expect(await readAllWith(size)).toEqual(whole);

    // From a position in the middle (a long record's), each chunk size goes on after it.
    const middle = whole.findIndex((stored) => stored.event.runId === 'run-a' && stored.event.seq === 21);
    const from = whole[middle]?.position ?? '';
    expect(parsePosition(from)?.offset).toBeGreaterThan(0);
    for (const size of chunkSizes) expect(await readAllWith(size, from)).toEqual(whole.slice(middle + 1));
  });

  it('yields a segment in batches as it decodes them, each from one chunk (or one record longer than it)', async () => {
    const log = await createFileLog({ dir, segmentBytes: 1 << 20, readChunkBytes: 4_096 });
    for (let seq = 1; seq <= 200; seq += 1) await log.append([envelope('run-a', seq)]);
    expect(await listSegments(dir)).toEqual([1]);
    const batches: number[] = [];
    let events = 0;
    for await (const batch of log.readAllBatches?.() ?? []) {
      batches.push(batch.length);
      events += batch.length;
    }
    const frames = (await readFile(join(dir, segmentFileName(1)), 'utf8')).split('\n');
    const smallestFrame = Math.min(...frames.slice(0, -1).map((frame) => Buffer.byteLength(frame) + 1));
    expect(events).toBe(200);
    expect(batches.length).toBeGreaterThan(5);
    expect(Math.max(...batches)).toBeLessThanOrEqual(Math.floor(4_096 / smallestFrame));
    await log.close();
  });

  it('steps over damage reported at open the same way whatever the chunk size', async () => {
    await writeLog();
    const last = (await listSegments(dir)).at(-1) ?? 0;
    // Damage in the last segment (always scanned at open): one record's JSON, and a checksum field two records on.
    await flipByte(last, (await recordOffset(last, 1)) + 30);
    await flipByte(last, (await recordOffset(last, 3)) + 12);
    const whole = await readAllWith(1 << 30, undefined, 2);
    expect(whole).toHaveLength(118);
    for (const size of chunkSizes) expect(await readAllWith(size, undefined, 2)).toEqual(whole);
  });

  it('fails on damage the open did not report with the same error whatever the chunk size', async () => {
    // A sealed segment vouched for by its index file (same size), so the damage shows only when it is read. The
    // first read drops the index file (the next open reports the damage), so each chunk size gets a fresh log.
    const damagedLog = async (): Promise<number> => {
      await remove();
      ({ dir, remove } = await scratchDir());
      await writeLog();
      const damagedAt = await recordOffset(2, 4);
      await flipByte(2, damagedAt + 45);
      return damagedAt;
    };
    const damagedAt = await damagedLog();
    const expected = (await readAllError(1 << 30)).replaceAll(dir, '<dir>');
    expect(expected).toContain(`<dir>/${segmentFileName(2)} at byte ${damagedAt}: checksum mismatch`);
    for (const size of chunkSizes) {
      await damagedLog();
      expect((await readAllError(size)).replaceAll(dir, '<dir>')).toBe(expected);
    }
  });
});
