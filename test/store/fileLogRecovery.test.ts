// Recovery at open: a torn tail is cut and reported, damage in the middle is reported by segment and offset.
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLog } from '../../src/store/fileLog.js';
import { encodeRecord } from '../../src/store/fileLogRecord.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, runEvents, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;
const firstSegment = segmentFileName(1);

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

async function writeLog(count: number): Promise<void> {
  const log = await createFileLog({ dir });
  await log.append(runEvents('run-a', count));
  await log.close();
}

/** Byte offset of each record in the first segment. */
async function recordOffsets(): Promise<number[]> {
  const bytes = await readFile(join(dir, firstSegment));
  const offsets = [0];
  for (let i = 0; i < bytes.length - 1; i += 1) if (bytes[i] === 0x0a) offsets.push(i + 1);
  return offsets;
}

describe('file log recovery', () => {
  it('cuts a half-written last record, reports it, and appends after it', async () => {
    await writeLog(10);
    const path = join(dir, firstSegment);
    const size = (await stat(path)).size;
    const half = encodeRecord(JSON.stringify(envelope('run-a', 11)));
    await appendFile(path, half.slice(0, Math.floor(half.length / 2)));

    const log = await createFileLog({ dir });
    expect(log.recoveryReport.tornTail).toMatchObject({
      segment: firstSegment,
      offset: size,
      reason: 'partial record',
    });
    expect(log.recoveryReport.corrupt).toEqual([]);
    expect((await stat(path)).size).toBe(size);
    await log.append([envelope('run-a', 11)]);
    await log.close();

    const reopened = await createFileLog({ dir });
    expect((await reopened.read('run-a')).map((event) => event.seq)).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    expect(reopened.recoveryReport.tornTail).toBeUndefined();
    await reopened.close();
  });

  it('cuts a last record whose bytes were never fully written (zeros after a power cut)', async () => {
    await writeLog(3);
    const path = join(dir, firstSegment);
    const size = (await stat(path)).size;
    await appendFile(path, Buffer.alloc(100));
    const log = await createFileLog({ dir });
    expect(log.recoveryReport.tornTail).toMatchObject({ segment: firstSegment, offset: size, bytes: 100 });
    expect(await log.read('run-a')).toHaveLength(3);
    await log.close();
  });

  it('reports a bit flipped in the middle with segment and offset, and reads the rest', async () => {
    await writeLog(10);
    const path = join(dir, firstSegment);
    const offsets = await recordOffsets();
    const damagedAt = offsets[4] ?? 0;
    const bytes = await readFile(path);
    const target = damagedAt + 40;
    bytes[target] = (bytes[target] ?? 0) ^ 0x01;
    await writeFile(path, bytes);

    const log = await createFileLog({ dir });
    expect(log.recoveryReport.corrupt).toEqual([
      { segment: firstSegment, offset: damagedAt, bytes: (offsets[5] ?? 0) - damagedAt, reason: 'checksum mismatch' },
    ]);
    expect(log.recoveryReport.tornTail).toBeUndefined();
    expect((await log.read('run-a')).map((event) => event.seq)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    await log.append([envelope('run-a', 11)]);
    expect(await log.read('run-a', 11)).toHaveLength(1);
    await log.close();
  });

  it('reports a damaged length field in the middle and finds the next record', async () => {
    await writeLog(6);
    const path = join(dir, firstSegment);
    const offsets = await recordOffsets();
    const bytes = await readFile(path);
    bytes[offsets[2] ?? 0] = 0x78; // 'x' in place of the first digit
    await writeFile(path, bytes);
    const log = await createFileLog({ dir });
    expect(log.recoveryReport.corrupt).toEqual([
      {
        segment: firstSegment,
        offset: offsets[2],
        bytes: (offsets[3] ?? 0) - (offsets[2] ?? 0),
        reason: 'malformed length field',
      },
    ]);
    expect(await log.read('run-a')).toHaveLength(5);
    await log.close();
  });

  it('reports a torn end of a sealed segment instead of cutting it', async () => {
    const log = await createFileLog({ dir, segmentBytes: 1_000 });
    for (let seq = 1; seq <= 10; seq += 1) await log.append([envelope('run-a', seq)]);
    await log.close();
    const sealed = join(dir, firstSegment);
    const size = (await stat(sealed)).size;
    await appendFile(sealed, '123\tabc');
    const reopened = await createFileLog({ dir, segmentBytes: 1_000 });
    expect(reopened.recoveryReport.corrupt).toEqual([
      { segment: firstSegment, offset: size, bytes: 7, reason: 'partial record' },
    ]);
    expect(await reopened.read('run-a')).toHaveLength(10);
    await reopened.close();
  });
});
