// The read-only view of a file log: no lock, no byte changed, a partial last record left alone, and it follows the writer.
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLog } from '../../src/store/fileLog.js';
import { openFileLogView } from '../../src/store/fileLogView.js';
import { encodeRecord } from '../../src/store/fileLogRecord.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, runEvents, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

describe('file log view', () => {
  it('reads a log whose writer holds the lock, and sees what the writer appends later', async () => {
    const log = await createFileLog({ dir });
    try {
      await log.append(runEvents('run-a', 3));
      const view = await openFileLogView({ dir });
      expect((await view.runs()).map((run) => [run.runId, run.events])).toEqual([['run-a', 3]]);
      await log.append([...runEvents('run-a', 2, 4), ...runEvents('run-b', 1)]);
      expect((await view.read('run-a')).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
      expect((await view.runs()).map((run) => [run.runId, run.events])).toEqual([
        ['run-a', 5],
        ['run-b', 1],
      ]);
      await expect(view.append(runEvents('run-c', 1))).rejects.toThrow(/read-only/);
      await view.close();
    } finally {
      await log.close();
    }
  });

  it('stops before a partial last record without cutting it, and reads it once it is whole', async () => {
    const log = await createFileLog({ dir });
    await log.append(runEvents('run-a', 2));
    await log.close();
    const path = join(dir, segmentFileName(1));
    const record = encodeRecord(JSON.stringify(envelope('run-a', 3)));
    const half = Math.floor(record.length / 2);
    await appendFile(path, record.slice(0, half));
    const before = await readFile(path);

    const view = await openFileLogView({ dir });
    expect(view.recoveryReport.corrupt).toEqual([]);
    expect((await view.read('run-a')).map((event) => event.seq)).toEqual([1, 2]);
    expect(await readFile(path)).toEqual(before);
    expect(await stat(join(dir, 'LOCK')).catch(() => undefined)).toBeUndefined();

    await appendFile(path, record.slice(half));
    expect((await view.read('run-a')).map((event) => event.seq)).toEqual([1, 2, 3]);
    await view.close();
  });

  it('tails what is appended after the call, one run or all', async () => {
    const log = await createFileLog({ dir });
    try {
      await log.append(runEvents('run-a', 2));
      const view = await openFileLogView({ dir });
      const controller = new AbortController();
      const seen: string[] = [];
      const following = (async () => {
        for await (const event of view.tail({ runId: 'run-b', signal: controller.signal })) {
          seen.push(`${event.runId}#${event.seq}`);
          if (seen.length === 2) controller.abort();
        }
      })();
      await log.append([...runEvents('run-a', 1, 3), ...runEvents('run-b', 2)]);
      await following;
      expect(seen).toEqual(['run-b#1', 'run-b#2']);
      await view.close();
    } finally {
      await log.close();
    }
  });

  it('scans afresh when a retention rewrote the segments it had indexed', async () => {
    const log = await createFileLog({ dir, segmentBytes: 2_000 });
    try {
      const ended = (runId: string) => envelope(runId, 2, { type: 'toolcall.succeeded', ts: 1 });
      await log.append([envelope('old', 1, { ts: 1 }), ended('old')]);
      await log.append(runEvents('kept', 12));
      const view = await openFileLogView({ dir });
      expect((await view.runs()).map((run) => run.runId).sort()).toEqual(['kept', 'old']);
      expect(await log.retain(1_000)).toEqual({ removedRuns: 1 });
      expect((await view.runs()).map((run) => run.runId)).toEqual(['kept']);
      expect((await view.read('kept')).map((event) => event.seq)).toEqual(runEvents('kept', 12).map((e) => e.seq));
      await view.close();
    } finally {
      await log.close();
    }
  });

  it('opens a data directory that does not exist yet as an empty log, creating nothing', async () => {
    const view = await openFileLogView({ dir: join(dir, 'missing') });
    expect(await view.runs()).toEqual([]);
    await view.close();
    expect(await stat(join(dir, 'missing')).catch(() => undefined)).toBeUndefined();
  });
});
