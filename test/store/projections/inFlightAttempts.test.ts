// The persistent map of a tool's attempts in flight: thousands at once, and no earlier version changed.
import { describe, expect, it } from 'vitest';
import {
  listAttemptsInFlight,
  noAttemptsInFlight,
  startedAtOf,
  withAttempt,
  withoutAttempt,
  type InFlightAttempts,
} from '../../../src/store/projections/index.js';

describe('attempts in flight', () => {
  it('holds 10,000 attempts at once, finds each, and is empty again once every one ended', () => {
    let attempts: InFlightAttempts = noAttemptsInFlight;
    const ids = Array.from({ length: 10_000 }, (_, i) => `01JCALL${String(i).padStart(8, '0')}`);
    ids.forEach((callId, i) => (attempts = withAttempt(attempts, { callId, startedAt: 1000 + i })));
    expect(attempts.size).toBe(10_000);
    expect(startedAtOf(attempts, ids[4321] ?? '')).toBe(5321);
    expect(startedAtOf(attempts, 'unknown')).toBeUndefined();
    expect(
      listAttemptsInFlight(attempts)
        .map((attempt) => attempt.callId)
        .sort(),
    ).toEqual(ids);
    for (const callId of ids) attempts = withoutAttempt(attempts, callId);
    expect(attempts).toBe(noAttemptsInFlight);
  });

  it('a new attempt of a call replaces its earlier one; removing an absent call gives the same map', () => {
    const one = withAttempt(noAttemptsInFlight, { callId: 'a', startedAt: 1 });
    const again = withAttempt(one, { callId: 'a', startedAt: 7 });
    expect(again.size).toBe(1);
    expect(startedAtOf(again, 'a')).toBe(7);
    expect(withoutAttempt(again, 'b')).toBe(again);
  });

  it('never changes a map it was given', () => {
    const before = withAttempt(withAttempt(noAttemptsInFlight, { callId: 'a', startedAt: 1 }), {
      callId: 'b',
      startedAt: 2,
    });
    const listed = JSON.stringify(before);
    const after = withoutAttempt(withAttempt(before, { callId: 'c', startedAt: 3 }), 'a');
    expect(JSON.stringify(before)).toBe(listed);
    expect(startedAtOf(before, 'a')).toBe(1);
    expect(startedAtOf(after, 'a')).toBeUndefined();
    expect(
      listAttemptsInFlight(after)
        .map((attempt) => attempt.callId)
        .sort(),
    ).toEqual(['b', 'c']);
  });
});
