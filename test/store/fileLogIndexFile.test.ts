// Index files: a reopen reads them instead of every record, agrees with a full scan, and never hides damage.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

/** Three runs over several segments; one finishes, one has a run id that needs JSON escapes. */
async function writeSegments(): Promise<void> {
  const log = await createFileLog({ dir, segmentBytes: 3_000 });
  for (let seq = 1; seq <= 20; seq += 1) {
    await log.append([
      envelope('plain', seq),
      envelope('quoted "run"\\x', seq),
      envelope('done', seq, seq === 20 ? { type: 'toolcall.succeeded' } : {}),
    ]);
  }
  await log.close();
}

async function snapshot(log: FileLog): Promise<{ runs: unknown; reads: EventEnvelope[][] }> {
  const runs = (await log.runs()).sort((a, b) => a.runId.localeCompare(b.runId));
  return { runs, reads: await Promise.all(runs.map((run) => log.read(run.runId))) };
}

describe('file log index files', () => {
  it('reopens from index files with the same runs and reads as a full scan', async () => {
    await writeSegments();
    const names = await readdir(dir);
    expect(names.filter((name) => name.endsWith('.idx')).length).toBe(
      names.filter((name) => name.endsWith('.log')).length,
    );

    const fromIndex = await createFileLog({ dir });
    const indexed = await snapshot(fromIndex);
    await fromIndex.close();
    for (const name of await readdir(dir)) if (name.endsWith('.idx')) await rm(join(dir, name));
    const scanned = await createFileLog({ dir });
    expect(await snapshot(scanned)).toEqual(indexed);
    expect(indexed.reads[1]?.map((event) => event.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(indexed.runs).toContainEqual(expect.objectContaining({ runId: 'done', status: 'succeeded', events: 20 }));
    expect(indexed.runs).toContainEqual(expect.objectContaining({ runId: 'quoted "run"\\x', events: 20 }));
    await scanned.close();
  });

  it('finds a flipped bit in a sealed segment: at open with verify full, else when the record is read', async () => {
    await writeSegments();
    const sealed = join(dir, segmentFileName(1));
    const bytes = await readFile(sealed);
    const secondRecord = bytes.indexOf(0x0a) + 1;
    bytes[secondRecord + 30] = (bytes[secondRecord + 30] ?? 0) ^ 0x04;
    await writeFile(sealed, bytes);

    const trusting = await createFileLog({ dir });
    expect(trusting.recoveryReport.corrupt).toEqual([]);
    await expect(trusting.read('quoted "run"\\x')).rejects.toThrow(
      `${sealed} at byte ${secondRecord}: checksum mismatch`,
    );
    await expect(
      (async () => {
        for await (const stored of trusting.readAll()) void stored;
      })(),
    ).rejects.toThrow(`${sealed} at byte ${secondRecord}: checksum mismatch`);
    await trusting.close();

    const verifying = await createFileLog({ dir, verify: 'full' });
    expect(verifying.recoveryReport.corrupt).toEqual([
      expect.objectContaining({ segment: segmentFileName(1), offset: secondRecord, reason: 'checksum mismatch' }),
    ]);
    expect(await verifying.read('plain')).toHaveLength(20);
    let events = 0;
    for await (const stored of verifying.readAll()) if (stored.event.runId !== undefined) events += 1;
    expect(events).toBe(59);
    await verifying.close();
  });
});
