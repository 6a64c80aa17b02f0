import { describe, expect, it } from 'vitest';
import type { RetraceError } from '../../src/common/errors.js';
import { CURRENT_EVENT_VERSION, createEventParser, eventUpgrades, parseEvent } from '../../src/events/index.js';
import { backoffEnvelope, retraceErrorOf } from '../support/eventFixtures.js';

const backoff = backoffEnvelope;

/** The RetraceError `parse(value)` throws (the test fails if it throws anything else, or nothing). */
function errorOf(value: unknown, parse: (value: unknown) => unknown = parseEvent): RetraceError {
  return retraceErrorOf(() => parse(value));
}

describe('parseEvent', () => {
  it('reads a current event as its typed member of the union', () => {
    const event = parseEvent(backoff);
    expect(event).toEqual(backoff);
    expect(event.type === 'toolcall.backoff.scheduled' && event.data.until).toBe(1_700_000_001_200);
  });

  it('writes version 1 today and knows no upgrade yet', () => {
    expect(CURRENT_EVENT_VERSION).toBe(1);
    expect(eventUpgrades).toEqual({});
  });

  it('names an unknown event type', () => {
    const error = errorOf({ ...backoff, type: 'toolcall.teleported' });
    expect(error.code).toBe('E_BAD_ARGUMENTS');
    expect(error.describe()).toBe('type: unknown event type "toolcall.teleported"');
  });

  it('refuses a version newer than it reads', () => {
    expect(errorOf({ ...backoff, v: 2 }).describe()).toBe(
      'v: toolcall.backoff.scheduled: event version 2 is newer than this retrace reads (up to 1)',
    );
  });

  it('refuses a version that is not a whole number from 1', () => {
    expect(errorOf({ ...backoff, v: 0 }).describe()).toBe(
      'v: toolcall.backoff.scheduled: event version must be a whole number from 1, not 0',
    );
    expect(errorOf({ ...backoff, v: '1' }).describe()).toBe(
      'v: toolcall.backoff.scheduled: event version must be a whole number from 1, not "1"',
    );
  });

  it('names the field of a wrong type inside the data', () => {
    const error = errorOf({ ...backoff, data: { ...backoff.data, until: 'soon' } });
    expect(error.location?.path).toBe('data.until');
    expect(error.describe()).toBe(
      'data.until: toolcall.backoff.scheduled: Invalid input: expected number, received string',
    );
  });

  it('names a missing envelope field and counts the other issues', () => {
    const { seq: _seq, runId: _runId, ...partial } = backoff;
    expect(errorOf(partial).describe()).toBe(
      'runId: toolcall.backoff.scheduled: Invalid input: expected string, received undefined (and 1 more)',
    );
  });

  it('names a wrong enum value in a nested failure', () => {
    const failed = {
      ...backoff,
      type: 'toolcall.attempt.failed',
      data: {
        server: 'db',
        tool: 'query',
        n: 1,
        durationMs: 10,
        failure: {
          class: 'transient',
          kind: 'meteor',
          retryable: true,
          maybeExecuted: false,
          message: 'm',
          rule: 'r',
          cause: { source: 'cancelled', message: 'm' },
        },
        decision: 'retry',
        reason: 'r',
        probeToken: 'call-1#1',
      },
    };
    expect(errorOf(failed).location?.path).toBe('data.failure.kind');
  });

  it("reads the runtime's advisory, and names its window figure when one is wrong", () => {
    const advisory = {
      ...backoff,
      type: 'toolcall.advisory.raised',
      data: {
        server: 'db',
        tool: 'query',
        escalation: {
          level: 'warning',
          trigger: 'error_rate',
          server: 'db',
          tool: 'query',
          message: 'db/query error rate 70% over 10 calls',
          recommendedAction: 'Check the server logs and health',
          callId: 'call-1',
          at: backoff.ts,
        },
        windowMs: 300_000,
        failures: 7,
        calls: 10,
        threshold: 0.5,
      },
    };
    expect(parseEvent(advisory)).toEqual(advisory);
    const error = errorOf({ ...advisory, data: { ...advisory.data, failures: -1 } });
    expect(error.describe()).toBe('data.failures: toolcall.advisory.raised: Too small: expected number to be >=0');
    const noLevel = { ...advisory.data, escalation: { ...advisory.data.escalation, level: 'panic' } };
    expect(errorOf({ ...advisory, data: noLevel }).location?.path).toBe('data.escalation.level');
  });

  it('refuses what is not an event object, without crashing', () => {
    expect(errorOf(null).message).toBe('an event must be an object, not null');
    expect(errorOf([backoff]).message).toBe('an event must be an object, not an array');
    expect(errorOf('{"v":1}').message).toBe('an event must be an object, not "{\\"v\\":1}"');
    expect(errorOf({ v: 1 }).describe()).toBe('type: event type must be a string, not undefined');
    expect(errorOf({ ...backoff, data: null }).location?.path).toBe('data');
  });
});

describe('createEventParser', () => {
  /** A make-believe v1 in which a cache hit said its age in seconds, as `age`. */
  const cacheHitV1 = {
    ...backoff,
    v: 1,
    type: 'toolcall.cache.hit',
    data: { server: 'db', tool: 'query', age: 4 },
  };
  const secondsToMs = (event: Record<string, unknown>) => {
    if (event['type'] !== 'toolcall.cache.hit') return event;
    const { age, ...data } = event['data'] as { age: number };
    return { ...event, data: { ...data, ageMs: age * 1000 } };
  };

  it('upgrades an older version step by step to the current one', () => {
    const parse = createEventParser({ currentVersion: 2, upgrades: { 1: secondsToMs } });
    expect(parse(cacheHitV1)).toEqual({ ...cacheHitV1, v: 2, data: { server: 'db', tool: 'query', ageMs: 4000 } });
    expect(parse({ ...cacheHitV1, v: 2, data: { server: 'db', tool: 'query', ageMs: 5 } }).data).toEqual({
      server: 'db',
      tool: 'query',
      ageMs: 5,
    });
  });

  it('chains the steps of several versions in order', () => {
    const steps: number[] = [];
    const step = (from: number) => (event: Record<string, unknown>) => {
      steps.push(from);
      return event;
    };
    const parse = createEventParser({ currentVersion: 4, upgrades: { 1: step(1), 2: step(2), 3: step(3) } });
    expect(parse({ ...backoff, v: 2 }).v).toBe(4);
    expect(steps).toEqual([2, 3]);
  });

  it('says which step failed when an upgrade throws', () => {
    const parse = createEventParser({
      currentVersion: 2,
      upgrades: {
        1: () => {
          throw new Error('no age');
        },
      },
    });
    expect(errorOf(backoff, parse).describe()).toBe(
      'v: toolcall.backoff.scheduled: cannot upgrade from event version 1: no age',
    );
  });

  it('validates the upgraded event against the current schemas', () => {
    const parse = createEventParser({ currentVersion: 2, upgrades: { 1: (event) => event } });
    expect(errorOf(cacheHitV1, parse).describe()).toBe(
      'data.ageMs: toolcall.cache.hit: Invalid input: expected number, received undefined',
    );
  });

  it('refuses to be made with a missing step', () => {
    expect(() => createEventParser({ currentVersion: 3, upgrades: { 1: (event) => event } })).toThrow(
      'no event upgrade from v2 to v3',
    );
  });
});
