// The file log as an EventStore: round trip, order, the lock, durability modes, segments, tail and retention.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { listSegments } from '../../src/store/fileLogSegment.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { envelope, runEvents, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;
const open: FileLog[] = [];

async function openLog(options: Partial<Parameters<typeof createFileLog>[0]> = {}): Promise<FileLog> {
  const log = await createFileLog({ dir, ...options });
  open.push(log);
  return log;
}

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((log) => log.close()));
  await remove();
});

describe('file log', () => {
  it('reads back what it appended, after a reopen too', async () => {
    const log = await openLog();
    const events = runEvents('run-a', 5);
    await log.append(events);
    expect(await log.read('run-a')).toEqual(events);
    await log.close();
    const reopened = await openLog();
    expect(await reopened.read('run-a')).toEqual(events);
    expect(await reopened.read('run-a', 4)).toEqual(events.slice(3));
    expect(await reopened.read('nobody')).toEqual([]);
    expect(reopened.recoveryReport).toMatchObject({ events: 5, corrupt: [] });
    expect(reopened.recoveryReport.tornTail).toBeUndefined();
  });

  it('keeps the order of concurrent appends and resolves them in order', async () => {
    const log = await openLog();
    const resolved: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        log.append([envelope(i % 2 === 0 ? 'even' : 'odd', Math.floor(i / 2) + 1)]).then(() => resolved.push(i)),
      ),
    );
    expect(resolved).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect((await log.read('even')).map((event) => event.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const all: EventEnvelope[] = [];
    for await (const stored of log.readAll()) all.push(stored.event);
    expect(all.map((event) => `${event.runId}:${event.seq}`)).toEqual(
      Array.from({ length: 200 }, (_, i) => `${i % 2 === 0 ? 'even' : 'odd'}:${Math.floor(i / 2) + 1}`),
    );
  });

  it('refuses an invalid envelope and appends nothing of its batch', async () => {
    const log = await openLog();
    const bad = { ...envelope('run-a', 2), seq: 0 };
    const error: unknown = await log.append([envelope('run-a', 1), bad]).catch((caught: unknown) => caught);
    expect(isRetraceError(error) && error.describe()).toMatch(/^seq: event 1 of the append \(run run-a, seq 0\): /);
    expect(await log.read('run-a')).toEqual([]);
  });

  it('lists runs with their status from the index', async () => {
    const log = await openLog();
    await log.append([...runEvents('done', 2), envelope('done', 3, { type: 'toolcall.succeeded', ts: 5 })]);
    await log.append(runEvents('busy', 1));
    const runs = await log.runs();
    expect(runs.find((run) => run.runId === 'done')).toMatchObject({
      status: 'succeeded',
      events: 3,
      lastSeq: 3,
      lastType: 'toolcall.succeeded',
    });
    expect(runs.find((run) => run.runId === 'busy')).toMatchObject({ status: 'running', events: 1 });
  });

  it('gives a second opener in this process a clear error naming the holder', async () => {
    await openLog();
    const second = createFileLog({ dir });
    await expect(second).rejects.toSatisfy(isRetraceError);
    await expect(createFileLog({ dir })).rejects.toMatchObject({
      code: 'E_LOG_LOCKED',
      message: expect.stringContaining(
        `the file log in ${dir} is locked by process ${process.pid} (lock file ${join(dir, 'LOCK')})`,
      ) as unknown,
    });
  });

  it('gives a second opener in another process the same clear error', async () => {
    await openLog();
    const script = `import { createFileLog } from ${JSON.stringify(new URL('../../src/store/fileLog.ts', import.meta.url).href)};
try { await createFileLog({ dir: ${JSON.stringify(dir)} }); console.log('opened'); }
catch (error) { console.log(error.code, error.message); }`;
    const child = spawn(process.execPath, [
      '--import',
      import.meta.resolve('tsx'),
      '--input-type=module',
      '-e',
      script,
    ]);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stdout.trim()).toMatch(
      `E_LOG_LOCKED the file log in ${dir} is locked by process ${process.pid} (lock file ${join(dir, 'LOCK')}): `,
    );
  });

  it('takes over a lock left by a dead process', async () => {
    const { writeFile } = await import('node:fs/promises');
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.on('close', resolve));
    await writeFile(join(dir, 'LOCK'), `${dead.pid}\n`);
    const log = await openLog();
    await log.append(runEvents('run-a', 1));
    expect(await log.read('run-a')).toHaveLength(1);
  });

  it.each(['always', 'batch', 'none'] as const)('appends and reads back with durability %s', async (durability) => {
    const log = await openLog({ durability });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append(runEvents(`run-${i % 5}`, 1, Math.floor(i / 5) + 1))),
    );
    await log.close();
    const reopened = await openLog({ durability });
    expect((await reopened.runs()).map((run) => run.events)).toEqual([10, 10, 10, 10, 10]);
  });

  it('rolls over to new segments and reads across them', async () => {
    const log = await openLog({ segmentBytes: 2_000 });
    for (let seq = 1; seq <= 60; seq += 1) await log.append([envelope('long', seq)]);
    expect((await listSegments(dir)).length).toBeGreaterThan(3);
    expect((await log.read('long')).map((event) => event.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const positions: string[] = [];
    for await (const stored of log.readAll()) positions.push(stored.position);
    expect(positions).toHaveLength(60);
    expect([...positions].sort()).toEqual(positions);
    const after: number[] = [];
    for await (const stored of log.readAll(positions[29])) after.push(stored.event.seq);
    expect(after).toEqual(Array.from({ length: 30 }, (_, i) => i + 31));
    await log.close();
    expect(await (await openLog({ segmentBytes: 2_000 })).read('long')).toHaveLength(60);
  });

  it('reads the whole log while appends are being written, never a half-written batch', async () => {
    const log = await openLog({ durability: 'none' });
    let writing = true;
    const appending = (async () => {
      for (let seq = 1; seq <= 300; seq += 1) await log.append(runEvents(`busy-${seq % 3}`, 1, Math.ceil(seq / 3)));
      writing = false;
    })();
    let passes = 0;
    while (writing || passes === 0) {
      const seen: string[] = [];
      for await (const stored of log.readAll()) seen.push(stored.position);
      expect([...seen].sort()).toEqual(seen);
      passes += 1;
    }
    await appending;
    expect((await log.runs()).reduce((sum, run) => sum + run.events, 0)).toBe(300);
  });

  it('tails newly appended events of one run until aborted', async () => {
    const log = await openLog();
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of log.tail({ runId: 'watched', signal: controller.signal })) {
        seen.push(`${event.runId}:${event.seq}`);
        if (seen.length === 3) controller.abort();
      }
    })();
    await log.append([envelope('watched', 1), envelope('other', 1)]);
    await log.append([envelope('watched', 2), envelope('watched', 3), envelope('watched', 4)]);
    await reading;
    expect(seen).toEqual(['watched:1', 'watched:2', 'watched:3']);
  });

  it('retains running runs and recent ones, and removes finished runs past the age', async () => {
    let now = 1_700_000_100_000;
    const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
    const log = await openLog({ clock, segmentBytes: 1_500 });
    const finished = (runId: string, ts: number): EventEnvelope[] => [
      envelope(runId, 1, { ts }),
      envelope(runId, 2, { ts, type: 'toolcall.failed' }),
    ];
    await log.append([...finished('old', 1_000), envelope('running', 1, { ts: 1_000 })]);
    await log.append(finished('recent', now - 10));
    await log.append([...finished('old-too', 2_000), envelope('running', 2, { ts: 2_000 })]);
    now += 1_000;
    expect(await log.retain(60_000)).toEqual({ removedRuns: 2 });
    expect((await log.runs()).map((run) => run.runId).sort()).toEqual(['recent', 'running']);
    expect(await log.read('old')).toEqual([]);
    expect((await log.read('running')).map((event) => event.seq)).toEqual([1, 2]);
    await log.append([envelope('running', 3)]);
    await log.close();
    const reopened = await openLog({ clock });
    expect((await reopened.read('running')).map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(await reopened.read('recent')).toHaveLength(2);
    expect(reopened.recoveryReport.corrupt).toEqual([]);
  });

  it('refuses appends after close', async () => {
    const log = await createFileLog({ dir });
    await log.close();
    await expect(log.append(runEvents('late', 1))).rejects.toThrow('is closed');
  });
});
