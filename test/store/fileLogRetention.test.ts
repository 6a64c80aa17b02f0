// Retention beside readers: a read, a readAll iteration or a tail under way is neither failed nor torn by it.
import { readdir, readlink } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { listSegments } from '../../src/store/fileLogSegment.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;
let now = 1_700_000_100_000;
const clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
  now = 1_700_000_100_000;
});
afterEach(() => remove());

/** A finished run of `count` events at `ts`. */
function finished(runId: string, count: number, ts: number): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) =>
    envelope(runId, i + 1, { ts, ...(i === count - 1 ? { type: 'toolcall.failed' } : {}) }),
  );
}

/** Old finished runs filling the first segments, then a recent one and a running one: retention empties the former. */
async function filledLog(): Promise<{ log: FileLog; all: string[] }> {
  const log = await createFileLog({ dir, clock, segmentBytes: 2_000 });
  for (let run = 0; run < 6; run += 1) await log.append(finished(`old-${run}`, 5, 1_000 + run));
  await log.append(finished('recent', 3, now - 10));
  await log.append([envelope('running', 1, { ts: 1_000 })]);
  const all: string[] = [];
  for await (const { event } of log.readAll()) all.push(`${event.runId}:${event.seq}`);
  return { log, all };
}

/** Open descriptors of this process on files that were deleted (or replaced) under `dir`. */
async function deletedFilesHeldOpen(): Promise<string[]> {
  const held: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir) && target.endsWith('(deleted)')) held.push(target);
  }
  return held;
}

describe('retention beside readers', () => {
  it('lets a readAll iteration begun before it deliver every event, and the segments are gone afterwards', async () => {
    const { log, all } = await filledLog();
    const before = await listSegments(dir);
    expect(before.length).toBeGreaterThan(3);

    const iterator = log.readAll()[Symbol.asyncIterator]();
    const seen: string[] = [];
    const first = await iterator.next();
    if (!first.done) seen.push(`${first.value.event.runId}:${first.value.event.seq}`);

    // Removes the six old runs: segments the iteration has not reached yet are unlinked or rewritten.
    expect(await log.retain(60_000)).toEqual({ removedRuns: 6 });
    const after = await listSegments(dir);
    expect(after.filter((segment) => before.includes(segment)).length).toBeLessThan(before.length);
    expect(await deletedFilesHeldOpen()).not.toEqual([]);

    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      seen.push(`${next.value.event.runId}:${next.value.event.seq}`);
    }
    expect(seen).toEqual(all);
    // Released: no descriptor keeps a removed or replaced segment alive any more.
    expect(await deletedFilesHeldOpen()).toEqual([]);

    const remaining: string[] = [];
    for await (const { event } of log.readAll()) remaining.push(`${event.runId}:${event.seq}`);
    expect(remaining).toEqual(all.filter((key) => !key.startsWith('old-')));
    await log.close();
  });

  it('releases the pinned segments of an iteration abandoned early', async () => {
    const { log } = await filledLog();
    for await (const _stored of log.readAll()) break;
    await log.retain(60_000);
    expect(await deletedFilesHeldOpen()).toEqual([]);
    await log.close();
  });

  it('gives a read(runId) under way the whole run it asked for while retention removes that run', async () => {
    const { log } = await filledLog();
    const reading = log.read('old-2');
    const retaining = log.retain(60_000);
    expect((await reading).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await retaining).toEqual({ removedRuns: 6 });
    expect(await log.read('old-2')).toEqual([]);
    expect((await log.read('recent')).map((event) => event.seq)).toEqual([1, 2, 3]);
    expect(await deletedFilesHeldOpen()).toEqual([]);
    await log.close();
  });

  it('keeps a tail going across a retention', async () => {
    const { log } = await filledLog();
    const controller = new AbortController();
    const seen: number[] = [];
    const tailing = (async () => {
      for await (const event of log.tail({ runId: 'running', signal: controller.signal })) {
        seen.push(event.seq);
        if (seen.length === 2) controller.abort();
      }
    })();
    await log.append([envelope('running', 2, { ts: 1_000 })]);
    await log.retain(60_000);
    await log.append([envelope('running', 3, { ts: 1_000 })]);
    await tailing;
    expect(seen).toEqual([2, 3]);
    await log.close();
  });
});
