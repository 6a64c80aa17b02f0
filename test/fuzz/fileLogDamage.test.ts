// Fuzz: random byte damage (flips, zeroed ranges, truncation, inserted garbage) in real file log segments and index
// files: opening and reading never crash or hang, damage is reported by file and byte, and nothing before it is lost.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { indexFileName } from '../../src/store/fileLogIndexFile.js';
import { parsePosition, segmentFileName } from '../../src/store/fileLogSegment.js';
import { envelope } from '../store/fileLogEvents.js';
import { fuzzParameters, fuzzTimeout } from './fuzzSupport.js';

/** A log as files, and where each of its events is: the baseline the damage is applied to. */
interface Baseline {
  name: string;
  files: Map<string, Buffer>;
  events: { event: EventEnvelope; segment: string; offset: number; end: number }[];
}

let root: string;
const baselines: Baseline[] = [];
let scratch = 0;

/** `count` events of three interleaved runs (data with tabs, newlines and non-ASCII, as the file log tests use). */
function events(count: number): EventEnvelope[] {
  const seqs = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const runId = `run-${'abc'[i % 3] ?? 'a'}`;
    const seq = (seqs.get(runId) ?? 0) + 1;
    seqs.set(runId, seq);
    return envelope(runId, seq);
  });
}

async function makeBaseline(name: string, count: number, segmentBytes: number, crashed: boolean): Promise<Baseline> {
  const dir = join(root, `baseline-${name}`);
  const log = await createFileLog({ dir, segmentBytes, durability: 'none' });
  for (const event of events(count)) await log.append([event]);
  const stored: Baseline['events'] = [];
  for await (const { position, event } of log.readAll()) {
    const at = parsePosition(position);
    if (!at) throw new Error(`bad position ${position}`);
    const frame = Buffer.byteLength(JSON.stringify(event)) + 21;
    stored.push({ event, segment: segmentFileName(at.segment), offset: at.offset, end: at.offset + frame });
  }
  await log.close();
  const names = (await readdir(dir)).filter((file) => file !== 'LOCK').sort();
  const files = new Map<string, Buffer>();
  for (const file of names) files.set(file, await readFile(join(dir, file)));
  // A crash leaves the last segment without the index file a close writes.
  if (crashed) {
    const last = names.filter((file) => file.endsWith('.log')).at(-1) ?? '';
    files.delete(indexFileName(Number(/\d+/.exec(last)?.[0])));
  }
  return { name, files, events: stored };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'retrace-fuzz-filelog-'));
  baselines.push(await makeBaseline('one-segment', 24, 64 * 1024 * 1024, false));
  baselines.push(await makeBaseline('sealed-segments', 30, 1_600, false));
  baselines.push(await makeBaseline('crashed', 30, 1_600, true));
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

type Damage =
  | { kind: 'flip'; at: number[]; xor: number }
  | { kind: 'zero'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  /** A number written in the file (a length field, an offset of an index file) replaced by another. */
  | { kind: 'number'; which: number; value: string };

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.array(fraction, { minLength: 1, maxLength: 3 }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ kind: fc.constant('zero' as const), at: fraction, length: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fraction,
    bytes: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc
        .constantFrom('\n', '0000000002\t00000000\t{}\n', '9999999999\t', '\t\t\n', '{"v":1}\n')
        .map((text) => Buffer.from(text)),
    ),
  }),
  fc.record({
    kind: fc.constant('number' as const),
    which: fc.nat(),
    value: fc.oneof(
      fc.constantFrom('0', '1', '-1', '1.5', '1e12', '99999999999999999999', '"x"', 'null', '[]'),
      fc.nat().map(String),
    ),
  }),
);

/** The damaged bytes, and the first offset the damage touched. */
function applyDamage(bytes: Buffer, change: Damage): { bytes: Buffer; from: number } {
  const at = (position: number) => Math.floor(position * bytes.length);
  switch (change.kind) {
    case 'flip': {
      const copy = Buffer.from(bytes);
      const offsets = change.at.map(at);
      for (const offset of offsets) copy[offset] = (copy[offset] ?? 0) ^ change.xor;
      return { bytes: copy, from: Math.min(...offsets) };
    }
    case 'zero': {
      const copy = Buffer.from(bytes);
      copy.fill(0, at(change.at), Math.min(copy.length, at(change.at) + change.length));
      return { bytes: copy, from: at(change.at) };
    }
    case 'truncate':
      return { bytes: bytes.subarray(0, at(change.at)), from: at(change.at) };
    case 'number': {
      const text = bytes.toString('latin1');
      const numbers = [...text.matchAll(/\d+/g)];
      const picked = numbers[change.which % Math.max(1, numbers.length)];
      if (picked?.index === undefined) return { bytes, from: bytes.length };
      const replaced = text.slice(0, picked.index) + change.value + text.slice(picked.index + picked[0].length);
      return { bytes: Buffer.from(replaced, 'latin1'), from: picked.index };
    }
    case 'insert':
      return {
        bytes: Buffer.concat([bytes.subarray(0, at(change.at)), change.bytes, bytes.subarray(at(change.at))]),
        from: at(change.at),
      };
  }
}

/** A RetraceError naming a file of the log and a byte in it. */
function expectLocatedLogError(error: unknown, dir: string): void {
  expect(isRetraceError(error), `not a RetraceError: ${String(error)}`).toBe(true);
  if (!isRetraceError(error)) return;
  expect(error.code).toBe('E_LOG_CORRUPT');
  expect(error.message).toMatch(
    new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/segment-\\d{10}\\.log at byte \\d+: `),
  );
}

async function readEverything(log: FileLog): Promise<{ all: EventEnvelope[]; runs: Map<string, EventEnvelope[]> }> {
  const all: EventEnvelope[] = [];
  for await (const { event } of log.readAll()) all.push(event);
  const runs = new Map<string, EventEnvelope[]>();
  for (const summary of await log.runs()) runs.set(summary.runId, await log.read(summary.runId));
  return { all, runs };
}

describe('file log byte damage, fuzzed', () => {
  it(
    'opens and reads any damaged log: damage reported by file and byte, every record before it kept',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(baselines.length - 1), fc.nat(), damage, async (which, fileChoice, change) => {
          const baseline = baselines[which] as Baseline;
          const names = [...baseline.files.keys()];
          const target = names[fileChoice % names.length] as string;
          const dir = join(root, `case-${(scratch += 1)}`);
          const original = baseline.files.get(target) as Buffer;
          const damaged = applyDamage(original, change);
          await rm(dir, { recursive: true, force: true });
          await mkdir(dir);
          for (const [name, bytes] of baseline.files)
            await writeFile(join(dir, name), name === target ? damaged.bytes : bytes);

          let log = await createFileLog({ dir });
          const reported = [
            ...log.recoveryReport.corrupt,
            ...(log.recoveryReport.tornTail ? [log.recoveryReport.tornTail] : []),
          ];
          let read: Awaited<ReturnType<typeof readEverything>> | undefined;
          let readErrors = 0;
          try {
            for (const entry of reported) {
              // Only the damaged file has damage to report, at a byte inside it, with a reason.
              expect(entry.segment).toBe(target);
              expect(entry.offset).toBeGreaterThanOrEqual(0);
              expect(entry.offset).toBeLessThanOrEqual(damaged.bytes.length);
              expect(entry.reason).not.toBe('');
            }
            // Damage a trusted index file hid shows when read: an error naming the segment and byte; the next open scans.
            for (let attempt = 0; attempt < 3 && !read; attempt += 1) {
              try {
                read = await readEverything(log);
              } catch (error) {
                expectLocatedLogError(error, dir);
                readErrors += 1;
                await log.close();
                log = await createFileLog({ dir });
              }
            }
            expect(read, 'reads succeed once the damage is known').toBeDefined();
            if (!read) return;

            // Nothing read that was not written, nothing read twice.
            const written = new Map(baseline.events.map(({ event }) => [event.id, event]));
            const ids = read.all.map((event) => event.id);
            expect(new Set(ids).size).toBe(ids.length);
            for (const event of read.all) expect(event).toEqual(written.get(event.id));
            // Every record the damage did not reach is read: other files, and records before the damage in its file.
            const got = new Set(ids);
            const lost = baseline.events.filter(({ event }) => !got.has(event.id));
            for (const { event, segment, end } of lost) {
              expect(
                segment === target && end > damaged.from,
                `lost ${event.id} at ${segment} before the damage at ${target}:${damaged.from}`,
              ).toBe(true);
            }
            // A record lost is never lost silently: the open reported damage in its file, or a read said where it was.
            // (Except a cut at a record boundary of a segment no index file describes: a crashed writer's last segment
            // looks the same, and nothing on disk says how long it was.)
            const undetectable = change.kind === 'truncate' && !baseline.files.has(target.replace(/\.log$/, '.idx'));
            if (lost.length > 0 && !undetectable) {
              expect(
                reported.length + readErrors,
                `lost ${lost.length} record(s) of ${target} without a report`,
              ).toBeGreaterThan(0);
            }
            // One run's reads agree with the whole log's, in seq order.
            for (const [runId, runEvents] of read.runs) {
              expect(runEvents).toEqual(
                read.all.filter((event) => event.runId === runId).sort((a, b) => a.seq - b.seq),
              );
            }
            // The log stays writable after the damage: an append is read back, here and after the next open.
            const next = envelope('run-after', 1);
            await log.append([next]);
            expect(await log.read('run-after')).toEqual([next]);
            await log.close();
            log = await createFileLog({ dir });
            expect(await log.read('run-after')).toEqual([next]);
          } finally {
            await log.close();
            await rm(dir, { recursive: true, force: true });
          }
        }),
        fuzzParameters(150, { timeout: 10_000 }),
      );
    },
    fuzzTimeout(90_000),
  );
});
