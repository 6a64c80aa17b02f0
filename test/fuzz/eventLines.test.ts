// Fuzz: random and damaged event lines into the event parsers, the import reader and the file log's record decoder.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import { EventEnvelope } from '../../src/events/envelope.js';
import { decodeTrustedEvent, parseEvent } from '../../src/events/parseEvent.js';
import { importRun } from '../../src/store/exportImport.js';
import { decodeRecord, encodeRecord } from '../../src/store/fileLogRecord.js';
import { walkRecords } from '../../src/store/fileLogRecovery.js';
import { backoffEnvelope } from '../support/eventFixtures.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { envelope } from '../store/fileLogEvents.js';
import { applyEdits, fuzzParameters, fuzzTimeout, textEdits } from './fuzzSupport.js';

/** Valid envelopes of a few types, to damage. */
const validEnvelopes = [
  backoffEnvelope,
  envelope('run-a', 1),
  {
    v: 1,
    id: '01JD0000000000000000000001',
    runId: 'run-2',
    actorId: 'call-9',
    seq: 1,
    ts: 1_700_000_000_000,
    type: 'toolcall.attempt.started',
    data: { server: 'db', tool: 'query', n: 1, route: 'primary' },
  },
];

/** A path into an envelope (existing or not) and a value to put there, or a key to drop. */
const mutation = fc.record({
  path: fc.array(
    fc.oneof(
      fc.constantFrom('v', 'id', 'runId', 'actorId', 'parentId', 'seq', 'ts', 'type', 'data', 'server', 'n'),
      fc.string({ maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 3 },
  ),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      undefined,
      0,
      -1,
      1.5,
      2,
      99,
      '',
      'toolcall.nope',
      'workflow.succeeded',
      Number.POSITIVE_INFINITY,
      null,
      [],
      {},
    ),
  ),
});

function mutate(value: unknown, path: readonly string[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string, ...string[]];
  const base = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  const copy: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  const next = mutate(copy[head], rest, replacement);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

/** Only a RetraceError saying what is wrong; a located one names a field path. */
function expectClearError(attempt: () => unknown): void {
  try {
    attempt();
  } catch (error) {
    expect(isRetraceError(error), `not a RetraceError: ${String(error)}`).toBe(true);
    if (!isRetraceError(error)) return;
    expect(error.message.trim()).not.toBe('');
    if (error.location !== undefined) expect(typeof error.location.path).toBe('string');
  }
}

const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }),
);

describe('event lines, fuzzed', () => {
  it(
    'parseEvent and the trusted decoder take damaged envelopes and any value with a clear error or a valid event',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc
              .tuple(fc.constantFrom(...validEnvelopes), fc.array(mutation, { maxLength: 3 }))
              .map(([base, changes]) =>
                changes.reduce<unknown>((value, change) => mutate(value, change.path, change.value), base),
              ),
            anyValue,
          ),
          (value) => {
            expectClearError(() => {
              const event = parseEvent(value);
              expect(EventEnvelope.safeParse(event).success).toBe(true);
            });
            expectClearError(() => decodeTrustedEvent(value, '0000000001:000000000000'));
          },
        ),
        fuzzParameters(3_000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'import reads damaged JSON Lines all or nothing, naming the line of the first bad one',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...validEnvelopes), { minLength: 1, maxLength: 5 }),
          textEdits(3),
          async (events, edits) => {
            const text = applyEdits(events.map((event) => JSON.stringify(event)).join('\n'), edits);
            const store = createMemoryStore();
            const lines = text.split(/\r?\n/).length;
            const imported = await importRun(store, Readable.from([text]), 'run.jsonl').then(
              (result) => ({ result }),
              (error: unknown) => ({ error }),
            );
            if ('result' in imported) {
              for (const event of store.events) expect(EventEnvelope.safeParse(event).success).toBe(true);
              return;
            }
            const { error } = imported;
            expect(isRetraceError(error), String(error)).toBe(true);
            if (!isRetraceError(error)) return;
            expect(store.events, 'a bad file imports nothing').toEqual([]);
            // A problem of a line names it; a clash with a run already stored, or a file with no events, names none.
            if (error.location?.line !== undefined) {
              expect(error.location.file).toBe('run.jsonl');
              expect(error.location.line).toBeGreaterThanOrEqual(1);
              expect(error.location.line).toBeLessThanOrEqual(lines);
            } else {
              expect(error.message).toMatch(/holds no events|already in the store/);
            }
          },
        ),
        fuzzParameters(500, { timeout: 5_000 }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'the record decoder reads any bytes as a record, an incomplete tail or corruption, and the walk always moves on',
    () => {
      const framed = (events: readonly object[]) =>
        Buffer.from(events.map((event) => encodeRecord(JSON.stringify(event))).join(''));
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc
          .tuple(
            fc.array(fc.constantFrom(...validEnvelopes), { minLength: 1, maxLength: 4 }),
            fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
          )
          .map(([events, flips]) => {
            const buffer = framed(events);
            for (const [at, byte] of flips) buffer[at % buffer.length] = byte;
            return buffer;
          }),
        fc
          .string({ maxLength: 80, unit: fc.constantFrom('0', '1', '9', '\t', '\n', 'a', 'f', '{', '}') })
          .map((text) => Buffer.from(text)),
      );
      fc.assert(
        fc.property(bytes, (buffer) => {
          // Plain checks in the loops (an `expect` per byte would be most of the run's time).
          const check = (ok: boolean, what: string) => {
            if (!ok) throw new Error(what);
          };
          for (let offset = 0; offset < buffer.length; offset += 1) {
            const decoded = decodeRecord(buffer, offset);
            if (decoded.kind === 'record') {
              check(decoded.jsonStart > offset, `record at ${offset} starts its JSON before its header ends`);
              check(decoded.next <= buffer.length, `record at ${offset} ends past the bytes`);
              check(decoded.next > decoded.jsonEnd, `record at ${offset} has no newline`);
            } else if (decoded.kind === 'corrupt') {
              check(decoded.reason !== '', `corruption at ${offset} without a reason`);
            }
          }
          // The walk covers every byte once, in order: records and damage side by side, nothing skipped or read twice.
          let covered = 0;
          walkRecords(buffer, 0, buffer.length, {
            record(offset, _jsonStart, _jsonEnd, next) {
              check(offset === covered, `record at ${offset}, expected ${covered}`);
              covered = next;
              return true;
            },
            damage(offset, length, reason) {
              check(
                offset === covered && length > 0 && reason !== '',
                `damage at ${offset} (${length} bytes, ${reason})`,
              );
              covered = offset + length;
            },
          });
          expect(covered).toBe(buffer.length);
        }),
        fuzzParameters(2_000),
      );
    },
    fuzzTimeout(60_000),
  );
});
