// The file log's own error codes and its trust in the event writer: E_LOG_LOCKED, E_LOG_CORRUPT, validation once.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, systemRandom } from '../../src/common/clock.js';
import { isRetraceError, type RetraceError } from '../../src/common/errors.js';
import { createEventWriter, isValidatedOnWrite } from '../../src/events/eventWriter.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { indexFileName } from '../../src/store/fileLogIndexFile.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

async function caught(promise: Promise<unknown>): Promise<RetraceError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isRetraceError(error)) throw new Error(`expected a RetraceError, got ${String(error)}`);
  return error;
}

/** Two sealed segments of run `run-a` (events 1–6 and 7–12), and the byte offset of event 3 in the first. */
async function sealedLog(): Promise<{ damagedAt: number }> {
  const log = await createFileLog({ dir, segmentBytes: 1_600 });
  for (let seq = 1; seq <= 14; seq += 1) await log.append([envelope('run-a', seq)]);
  await log.close();
  const bytes = await readFile(join(dir, segmentFileName(1)));
  let newlines = 0;
  let damagedAt = 0;
  for (let i = 0; i < bytes.length && newlines < 2; i += 1) {
    if (bytes[i] === 0x0a) {
      newlines += 1;
      damagedAt = i + 1;
    }
  }
  return { damagedAt };
}

describe('file log errors', () => {
  it('refuses a second opener with E_LOG_LOCKED naming the lock file, the holder and what to do', async () => {
    const log = await createFileLog({ dir });
    const error = await caught(createFileLog({ dir }));
    expect(error.code).toBe('E_LOG_LOCKED');
    expect(error.message).toBe(
      `the file log in ${dir} is locked by process ${process.pid} (lock file ${join(dir, 'LOCK')}): one process ` +
        'writes a log at a time; wait for it to finish or stop it, or use another data directory',
    );
    await log.close();
    await (await createFileLog({ dir })).close();
  });

  it('fails a read that meets damage in a segment its index file vouched for with E_LOG_CORRUPT, then reports it at the next open', async () => {
    const { damagedAt } = await sealedLog();
    const path = join(dir, segmentFileName(1));
    const bytes = await readFile(path);
    const flipped = damagedAt + 45;
    bytes[flipped] = (bytes[flipped] ?? 0) ^ 0x01;
    await writeFile(path, bytes);

    // Same size, so the index file is trusted at open and the damage shows only when the record is read.
    const log = await createFileLog({ dir });
    expect(log.recoveryReport.corrupt).toEqual([]);
    const error = await caught(log.read('run-a'));
    expect(error.code).toBe('E_LOG_CORRUPT');
    expect(error.message).toMatch(
      new RegExp(
        `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte ${damagedAt}: checksum mismatch \\(\\d+ bytes damaged\\); ` +
          "kept: every other record; the segment's index file is dropped",
      ),
    );
    await expect(readFile(join(dir, indexFileName(1)))).rejects.toMatchObject({ code: 'ENOENT' });
    await log.close();

    const reopened = await createFileLog({ dir });
    expect(reopened.recoveryReport.corrupt).toEqual([
      expect.objectContaining({ segment: segmentFileName(1), offset: damagedAt, reason: 'checksum mismatch' }),
    ]);
    const seqs = (await reopened.read('run-a')).map((event) => event.seq);
    expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i + 1).filter((seq) => seq !== 3));
    await reopened.close();
  });

  it('reports damage in the segment being written at every open, not only the first (closing writes it no index file)', async () => {
    const log = await createFileLog({ dir });
    for (let seq = 1; seq <= 5; seq += 1) await log.append([envelope('run-a', seq)]);
    await log.close();
    const path = join(dir, segmentFileName(1));
    const bytes = await readFile(path);
    const flipped = bytes.indexOf('"seq":3') + 2;
    bytes[flipped] = (bytes[flipped] ?? 0) ^ 0x01;
    await writeFile(path, bytes);

    for (let open = 1; open <= 3; open += 1) {
      const reopened = await createFileLog({ dir });
      expect(reopened.recoveryReport.corrupt, `open ${open}`).toEqual([
        expect.objectContaining({ segment: segmentFileName(1), reason: 'checksum mismatch' }),
      ]);
      expect((await reopened.read('run-a')).map((event) => event.seq)).toEqual([1, 2, 4, 5]);
      await reopened.close();
    }
  });

  it('fails readAll on unreported damage with E_LOG_CORRUPT too', async () => {
    const { damagedAt } = await sealedLog();
    const path = join(dir, segmentFileName(1));
    const bytes = await readFile(path);
    bytes[damagedAt + 45] = (bytes[damagedAt + 45] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
    const log = await createFileLog({ dir });
    const reading = (async () => {
      for await (const _stored of log.readAll());
    })();
    expect((await caught(reading)).message).toContain(`${path} at byte ${damagedAt}: checksum mismatch`);
    await log.close();
  });
});

describe('validation on write, once', () => {
  const writer = () => createEventWriter({ clock: systemClock, random: systemRandom });
  const started = {
    type: 'toolcall.attempt.started',
    callId: 'call-1',
    server: 'db',
    tool: 'query',
    at: 1_700_000_000_000,
    n: 1,
    route: 'primary',
  } as const;

  it('trusts the envelopes the event writer made, which nobody can change afterwards', async () => {
    const made = writer().toEnvelope('run-w', started);
    expect(isValidatedOnWrite(made)).toBe(true);
    expect(() => Object.assign(made, { seq: 0 })).toThrow(TypeError);
    const log = await createFileLog({ dir });
    await log.append([made]);
    expect(await log.read('run-w')).toEqual([{ ...made }]);
    await log.close();
  });

  it('still validates a copy or a hand-made envelope, and refuses a bad one', async () => {
    const made = writer().toEnvelope('run-w', started);
    const copy = { ...made, seq: 0 };
    expect(isValidatedOnWrite(copy)).toBe(false);
    expect(isValidatedOnWrite(envelope('run-h', 1))).toBe(false);
    const log = await createFileLog({ dir });
    const error = await caught(log.append([envelope('run-h', 1), copy]));
    expect(error.describe()).toMatch(/^seq: event 1 of the append \(run run-w, seq 0\): /);
    expect(await log.runs()).toEqual([]);
    await log.close();
  });

  it('writes every record of concurrent appends in order, several batches per fsync when they pile up', async () => {
    const log = await createFileLog({ dir });
    const appends = Array.from({ length: 2_000 }, (_, i) => log.append([envelope('piled', i + 1)]));
    await Promise.all(appends);
    const stats = log.writeStats();
    expect(stats.records).toBe(2_000);
    expect(stats.writes).toBeGreaterThanOrEqual(8);
    expect(stats.syncs).toBeLessThanOrEqual(stats.writes);
    expect((await log.read('piled')).map((event) => event.seq)).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
    await log.close();
  });
});
