import { describe, expect, it } from 'vitest';
import type { RetraceError } from '../../src/common/errors.js';
import { createTrustedEventDecoder, decodeTrustedEvent } from '../../src/events/parseEvent.js';
import { backoffEnvelope, retraceErrorOf } from '../support/eventFixtures.js';

const backoff = backoffEnvelope;

function errorOf(value: unknown, where?: string, decode = decodeTrustedEvent): RetraceError {
  return retraceErrorOf(() => decode(value, where));
}

describe('decodeTrustedEvent', () => {
  it('hands back a current envelope as it is, without running the schema', () => {
    expect(decodeTrustedEvent(backoff)).toBe(backoff);
    // The data is the writer's business: validated when written, vouched for by the checksum since.
    const odd = { ...backoff, data: { ...backoff.data, until: 'soon' } };
    expect(decodeTrustedEvent(odd)).toBe(odd);
  });

  it('lets a type it does not know through, for the projections to ignore', () => {
    const stranger = { ...backoff, type: 'workflow.noticed', data: {} };
    expect(decodeTrustedEvent(stranger)).toBe(stranger);
  });

  it('gives a located error for what is not an envelope at all', () => {
    expect(errorOf(null, '0000000001:000000000000').message).toBe(
      'event at 0000000001:000000000000: an event must be an object, not null',
    );
    expect(errorOf([backoff]).message).toBe('an event must be an object, not an array');
    expect(errorOf({ v: 1 }).describe()).toBe('type: event type must be a non-empty string, not undefined');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ id: '' }, 'id', 'id must be a non-empty string, not ""'],
      [{ runId: 7 }, 'runId', 'runId must be a non-empty string, not 7'],
      [{ actorId: null }, 'actorId', 'actorId must be a non-empty string, not null'],
      [{ parentId: '' }, 'parentId', 'parentId must be a non-empty string, not ""'],
      [{ seq: 0 }, 'seq', 'seq must be a whole number from 1, not 0'],
      [{ seq: 1.5 }, 'seq', 'seq must be a whole number from 1, not 1.5'],
      [{ ts: '2024' }, 'ts', 'ts must be a number, not "2024"'],
      [{ data: [] }, 'data', 'data must be an object, not an array'],
    ];
    for (const [change, path, message] of cases) {
      const error = errorOf({ ...backoff, ...change }, '0000000002:000000004096');
      expect(error.code).toBe('E_BAD_ARGUMENTS');
      expect(error.location?.path).toBe(path);
      expect(error.message).toBe(`event at 0000000002:000000004096: toolcall.backoff.scheduled: ${message}`);
    }
  });

  it('refuses a version newer than it reads, or one that is not a version', () => {
    expect(errorOf({ ...backoff, v: 2 }, 'p').describe()).toBe(
      'v: event at p: toolcall.backoff.scheduled: event version 2 is newer than this retrace reads (up to 1)',
    );
    expect(errorOf({ ...backoff, v: '1' }).location?.path).toBe('v');
  });

  describe('an older version', () => {
    /** A make-believe v1 in which a cache hit said its age in seconds, as `age`. */
    const cacheHitV1 = { ...backoff, type: 'toolcall.cache.hit', data: { server: 'db', tool: 'query', age: 4 } };
    const secondsToMs = (event: Record<string, unknown>) => {
      const { age, ...data } = event['data'] as { age: number };
      return { ...event, data: { ...data, ageMs: age * 1000 } };
    };
    const decode = createTrustedEventDecoder({ currentVersion: 2, upgrades: { 1: secondsToMs } });

    it('goes through the upgrade chain and comes out as the current version', () => {
      expect(decode(cacheHitV1)).toEqual({ ...cacheHitV1, v: 2, data: { server: 'db', tool: 'query', ageMs: 4000 } });
      const current = { ...cacheHitV1, v: 2, data: { server: 'db', tool: 'query', ageMs: 5 } };
      expect(decode(current)).toBe(current);
    });

    it('is validated after its upgrade, the error naming the record and the field', () => {
      const broken = createTrustedEventDecoder({ currentVersion: 2, upgrades: { 1: (event) => event } });
      const error = errorOf(cacheHitV1, '0000000001:000000000512', broken);
      expect(error.location?.path).toBe('data.ageMs');
      expect(error.message).toBe(
        'event at 0000000001:000000000512: toolcall.cache.hit: Invalid input: expected number, received undefined',
      );
    });
  });
});
