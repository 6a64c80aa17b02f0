import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, retryAfterFromHeaders } from '../../src/policy/retryAfter.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const NOW_SECONDS = NOW / 1000;

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds given as text or as a number', () => {
    expect(parseRetryAfterMs('120', NOW)).toBe(120_000);
    expect(parseRetryAfterMs(' 7 ', NOW)).toBe(7000);
    expect(parseRetryAfterMs(2, NOW)).toBe(2000);
    expect(parseRetryAfterMs(0, NOW)).toBe(0);
  });

  it('keeps fractional seconds as milliseconds', () => {
    expect(parseRetryAfterMs('1.5', NOW)).toBe(1500);
    expect(parseRetryAfterMs(0.25, NOW)).toBe(250);
  });

  it('reads an IMF-fixdate HTTP-date relative to now', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 12:00:30 GMT', NOW)).toBe(30_000);
  });

  it('reads the obsolete RFC 850 and asctime HTTP-date forms as GMT', () => {
    expect(parseRetryAfterMs('Wednesday, 01-Jan-25 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfterMs('Wed Jan  1 12:00:10 2025', NOW)).toBe(10_000);
  });

  it('reads an ISO 8601 time, taking one without a zone as UTC', () => {
    expect(parseRetryAfterMs('2025-01-01T12:00:05Z', NOW)).toBe(5000);
    expect(parseRetryAfterMs('2025-01-01T12:00:05', NOW)).toBe(5000);
    expect(parseRetryAfterMs('2025-01-01T13:00:05+01:00', NOW)).toBe(5000);
  });

  it('never returns a negative wait for a date in the past', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 11:59:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfterMs(NOW_SECONDS - 60, NOW)).toBe(0);
  });

  it('takes a number too large for a delta as a Unix time in seconds', () => {
    expect(parseRetryAfterMs(NOW_SECONDS + 42, NOW)).toBe(42_000);
    expect(parseRetryAfterMs(String(NOW_SECONDS + 42), NOW)).toBe(42_000);
  });

  it('takes a number in the Unix-milliseconds range as a time in milliseconds', () => {
    expect(parseRetryAfterMs(NOW + 750, NOW)).toBe(750);
  });

  it('reads durations with units such as 1m30s and 500ms', () => {
    expect(parseRetryAfterMs('1m30s', NOW)).toBe(90_000);
    expect(parseRetryAfterMs('500ms', NOW)).toBe(500);
    expect(parseRetryAfterMs('6m0s', NOW)).toBe(360_000);
  });

  it('rejects negative numbers, empty text and prose', () => {
    expect(parseRetryAfterMs(-5, NOW)).toBeUndefined();
    expect(parseRetryAfterMs('-5', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('soon', NOW)).toBeUndefined();
    expect(parseRetryAfterMs(Number.NaN, NOW)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, NOW)).toBeUndefined();
  });

  it('does not let the lenient Date.parse read arbitrary text as a date', () => {
    expect(parseRetryAfterMs('foo 1', NOW)).toBeUndefined();
    expect(parseRetryAfterMs('retry 2', NOW)).toBeUndefined();
  });
});

describe('retryAfterFromHeaders', () => {
  it('prefers Retry-After over rate-limit reset headers', () => {
    expect(retryAfterFromHeaders({ 'retry-after': '3', 'x-ratelimit-reset': String(NOW_SECONDS + 60) }, NOW)).toBe(
      3000,
    );
  });

  it('matches header names case-insensitively', () => {
    expect(retryAfterFromHeaders({ 'Retry-After': '4' }, NOW)).toBe(4000);
  });

  it('reads millisecond variants of Retry-After', () => {
    expect(retryAfterFromHeaders({ 'retry-after-ms': '250' }, NOW)).toBe(250);
  });

  it('reads RateLimit-Reset as seconds until the reset', () => {
    expect(retryAfterFromHeaders({ 'ratelimit-reset': '12' }, NOW)).toBe(12_000);
  });

  it('reads X-RateLimit-Reset given as a Unix time in seconds', () => {
    expect(retryAfterFromHeaders({ 'x-ratelimit-reset': String(NOW_SECONDS + 30) }, NOW)).toBe(30_000);
  });

  it('reads the reset of the combined RateLimit header', () => {
    expect(retryAfterFromHeaders({ ratelimit: 'limit=100, remaining=0, reset=50' }, NOW)).toBe(50_000);
  });

  it('waits for the later of the request and token budget resets', () => {
    expect(retryAfterFromHeaders({ 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' }, NOW)).toBe(
      360_000,
    );
  });

  it('ignores reset headers when told the response is not rate limited', () => {
    expect(
      retryAfterFromHeaders({ 'x-ratelimit-reset': String(NOW_SECONDS + 30) }, NOW, { includeResets: false }),
    ).toBeUndefined();
    expect(retryAfterFromHeaders({ 'retry-after': '2' }, NOW, { includeResets: false })).toBe(2000);
  });

  it('returns undefined when no header gives a usable wait', () => {
    expect(retryAfterFromHeaders({}, NOW)).toBeUndefined();
    expect(retryAfterFromHeaders({ 'retry-after': 'later', 'content-type': 'text/plain' }, NOW)).toBeUndefined();
  });
});
