// The index holds positions for running runs and the active segment only: a finished run in a sealed segment is
// read from that segment's index file (or, without one, by scanning the segment), and reads the same either way.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { openFileLogView } from '../../src/store/fileLogView.js';
import { FileLogIndex } from '../../src/store/fileLogIndex.js';
import { indexFileName } from '../../src/store/fileLogIndexFile.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

const fields = (runId: string, seq: number, type = 'toolcall.attempt.started') => ({ runId, seq, ts: seq, type });

describe('the file log index', () => {
  it('lets a finished run’s positions go once its segment is on disk, and keeps a running run’s', () => {
    const index = new FileLogIndex();
    for (let seq = 1; seq <= 40; seq += 1) {
      index.add(fields('done', seq, seq === 40 ? 'toolcall.succeeded' : undefined), 1, seq * 100, 90);
      index.add(fields('busy', seq), 1, seq * 100 + 50, 40);
    }
    expect(index.locate('done')?.resident[0]?.offsets).toHaveLength(40);
    index.add(fields('busy', 41), 2, 0, 40);

    index.segmentsOnDiskNow([1]);
    expect(index.locate('done')).toEqual({ resident: [], onDisk: [1] });
    expect(index.locate('busy')?.resident.map((part) => [part.segment, part.seqs.length])).toEqual([
      [1, 40],
      [2, 1],
    ]);
    expect(index.segmentsOf('busy')).toEqual([1, 2]);
    expect(index.summaries()).toContainEqual(
      expect.objectContaining({ runId: 'done', events: 40, status: 'succeeded' }),
    );

    // Finishing lets go of the parts on disk, not of the active segment's (its index file is still to be written).
    index.add(fields('busy', 42, 'toolcall.failed'), 2, 40, 40);
    expect(index.locate('busy')?.onDisk).toEqual([1]);
    expect(index.locate('busy')?.resident.map((part) => part.segment)).toEqual([2]);
    expect(index.segmentChunks(2).map(([runId, chunk]) => [runId, chunk.seqs])).toEqual([['busy', [41, 42]]]);
  });

  it('keeps a finished run’s summary exact when it is packed, and takes it out again when the run goes on', () => {
    const index = new FileLogIndex();
    for (let seq = 1; seq <= 30; seq += 1) {
      index.add(fields('escalated', seq, seq === 30 ? 'workflow.escalated' : undefined), seq <= 20 ? 1 : 2, seq, 9);
    }
    index.add(fields('other', 1), 3, 0, 9);
    index.segmentsOnDiskNow([1, 2]);
    const packed = { runId: 'escalated', status: 'escalated', events: 30, lastSeq: 30, firstTs: 1, lastTs: 30 };
    expect(index.summaries()).toContainEqual({ ...packed, lastType: 'workflow.escalated' });
    expect(index.locate('escalated')).toEqual({ resident: [], onDisk: [1, 2] });

    // A resolution later: the run is running again, its old records still found on disk, the new one in memory.
    index.add(fields('escalated', 31, 'workflow.resolved'), 3, 9, 9);
    expect(index.summaries()).toContainEqual({
      ...packed,
      status: 'running',
      events: 31,
      lastSeq: 31,
      lastTs: 31,
      lastType: 'workflow.resolved',
    });
    expect(index.locate('escalated')?.onDisk).toEqual([1, 2]);
    expect(index.locate('escalated')?.resident.map((part) => part.seqs)).toEqual([[31]]);
    expect(index.segmentsOf('escalated')).toEqual([1, 2, 3]);
  });
});

describe('reading finished runs from index files', () => {
  /** Runs of 12 events over segments of 2 KB; every other run ends, `late` ends and then gets one more event. */
  async function fill(): Promise<{
    log: Awaited<ReturnType<typeof createFileLog>>;
    appended: Map<string, EventEnvelope[]>;
  }> {
    const log = await createFileLog({ dir, segmentBytes: 2_000 });
    const appended = new Map<string, EventEnvelope[]>();
    const runIds = ['a', 'b', 'c', 'd', 'late'];
    for (let seq = 1; seq <= 12; seq += 1) {
      for (const [n, runId] of runIds.entries()) {
        const ends = seq === 12 && n % 2 === 0;
        const event = envelope(runId, seq, ends ? { type: 'toolcall.failed' } : {});
        appended.set(runId, [...(appended.get(runId) ?? []), event]);
        await log.append([event]);
      }
    }
    const afterEnd = envelope('late', 13, { type: 'toolcall.succeeded' });
    appended.get('late')?.push(afterEnd);
    // More segments after: the ones the finished runs sit in are sealed, their index files written.
    for (let seq = 1; seq <= 30; seq += 1) await log.append([envelope('filler', seq)]);
    await log.append([afterEnd]);
    return { log, appended };
  }

  it('reads each run whole while the writer is open, from index files and, without them, by scanning', async () => {
    const { log, appended } = await fill();
    const indexFiles = (await readdir(dir)).filter((name) => name.endsWith('.idx'));
    expect(indexFiles.length).toBeGreaterThan(2);
    for (const [runId, events] of appended) expect(await log.read(runId)).toEqual(events);
    expect((await log.read('a', 5)).map((event) => event.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);

    for (const name of indexFiles) await rm(join(dir, name));
    for (const [runId, events] of appended) expect(await log.read(runId)).toEqual(events);
    await log.close();

    const reopened = await createFileLog({ dir });
    for (const [runId, events] of appended) expect(await reopened.read(runId)).toEqual(events);
    await reopened.close();
  });

  it('writes the index files a reopened log lacks, and holds those segments’ finished runs packed', async () => {
    const { log, appended } = await fill();
    const held = log.indexStats();
    await log.close();
    const indexFiles = (await readdir(dir)).filter((name) => name.endsWith('.idx')).sort();
    for (const name of indexFiles) await rm(join(dir, name));

    const reopened = await createFileLog({ dir });
    expect(reopened.indexStats()).toEqual(held);
    // Every sealed segment's file is back (the last one's is written when the log closes).
    const rewritten = (await readdir(dir)).filter((name) => name.endsWith('.idx')).sort();
    expect(rewritten).toEqual(indexFiles.slice(0, -1));
    for (const [runId, events] of appended) expect(await reopened.read(runId)).toEqual(events);
    await reopened.close();
  });

  it('without index files, fails a read on damage the open did not report, and reads around it once reported', async () => {
    const { log, appended } = await fill();
    for (const name of (await readdir(dir)).filter((each) => each.endsWith('.idx'))) await rm(join(dir, name));
    const sealed = join(dir, segmentFileName(1));
    const bytes = await readFile(sealed);
    const secondRecord = bytes.indexOf(0x0a) + 1;
    bytes[secondRecord + 30] = (bytes[secondRecord + 30] ?? 0) ^ 0x04;
    await writeFile(sealed, bytes);
    // Run c's records in segment 1 are whole, but the damaged one might have been c's: the read says where it is.
    await expect(log.read('c')).rejects.toThrow(`${sealed} at byte ${secondRecord}: checksum mismatch`);
    await log.close();

    const reopened = await createFileLog({ dir });
    expect(reopened.recoveryReport.corrupt).toEqual([
      expect.objectContaining({ segment: segmentFileName(1), offset: secondRecord, reason: 'checksum mismatch' }),
    ]);
    expect(await reopened.read('c')).toEqual(appended.get('c'));
    expect((await reopened.read('b')).map((event) => event.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await reopened.close();
  });

  it('refuses an index file that points a finished run at another run’s records', async () => {
    const { log } = await fill();
    const path = join(dir, indexFileName(1));
    const content = JSON.parse(await readFile(path, 'utf8')) as { runs: [string, number[], ...unknown[]][] };
    const [first, second] = content.runs;
    if (!first || !second) throw new Error('segment 1 should hold two runs');
    [first[1], second[1]] = [second[1], first[1]];
    await writeFile(path, JSON.stringify(content));
    await expect(log.read('a')).rejects.toThrow(/the index says run a seq 1 is here, the record is run b seq 1/);
    await log.close();
  });

  it('holds positions only for the active segment and running runs, in the writer and in a view following it', async () => {
    const log = await createFileLog({ dir, segmentBytes: 2_000 });
    const view = await openFileLogView({ dir });
    try {
      await log.append([envelope('running', 1)]);
      // Twenty finished runs of five events, over many sealed segments, then a last one left in the active segment.
      for (let run = 0; run < 21; run += 1) {
        for (let seq = 1; seq <= 5; seq += 1) {
          await log.append([envelope(`done-${run}`, seq, seq === 5 ? { type: 'workflow.succeeded' } : {})]);
        }
      }
      await log.append([envelope('running', 2)]);
      const held = log.indexStats();
      expect(held.runs).toBe(22);
      // Packed: every finished run but those that touch the active segment.
      expect(held.packedRuns).toBeGreaterThanOrEqual(18);
      expect(held.residentRecords).toBeLessThan(20);

      await view.refresh();
      expect(view.indexStats()).toEqual(held);
      expect((await view.read('done-3')).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await view.read('running')).map((event) => event.seq)).toEqual([1, 2]);
      expect((await view.runs()).find((run) => run.runId === 'done-3')).toMatchObject({
        status: 'succeeded',
        events: 5,
      });
    } finally {
      await view.close();
      await log.close();
    }
  });
});
