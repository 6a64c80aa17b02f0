import { describe, expect, it } from 'vitest';
import { backoffDelayMs, exponentialDelayMs, jitteredDelayMs, worstCaseBackoffMs } from '../../src/policy/backoff.js';
import type { BackoffSettings } from '../../src/policy/toolPolicy.js';

/** The seed's defaults: 3 retries from 1 s, doubling, capped at 30 s. */
const settings: BackoffSettings = {
  maxRetries: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  exponentialBase: 2,
  jitter: 'none',
};

describe('exponentialDelayMs', () => {
  it('multiplies the base delay by the exponential base once per retry', () => {
    expect([0, 1, 2, 3, 4].map((retry) => exponentialDelayMs(settings, retry))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
  });

  it('uses the exponential base it is given', () => {
    expect(exponentialDelayMs({ ...settings, baseDelayMs: 100, exponentialBase: 3 }, 2)).toBe(900);
  });

  it('keeps the delay constant when the exponential base is 1', () => {
    expect(exponentialDelayMs({ ...settings, baseDelayMs: 2000, exponentialBase: 1 }, 7)).toBe(2000);
  });

  it('caps the delay at the maximum', () => {
    expect(exponentialDelayMs(settings, 5)).toBe(30_000);
    expect(exponentialDelayMs(settings, 50)).toBe(30_000);
  });

  it('gives the maximum when the power overflows to Infinity', () => {
    expect(Math.pow(100, 1000)).toBe(Infinity);
    expect(exponentialDelayMs({ ...settings, exponentialBase: 100 }, 1000)).toBe(30_000);
  });
});

describe('jitteredDelayMs', () => {
  const randoms = [0, 0.5, 0.999];
  const bounds = { baseDelayMs: 100, maxDelayMs: 30_000 };

  it('leaves the delay alone without jitter', () => {
    expect(randoms.map((random) => jitteredDelayMs('none', 1000, random, bounds, undefined))).toEqual([
      1000, 1000, 1000,
    ]);
  });

  it('spreads full jitter over [0, delay]', () => {
    expect(randoms.map((random) => jitteredDelayMs('full', 1000, random, bounds, undefined))).toEqual([0, 500, 999]);
  });

  it('spreads equal jitter over [delay / 2, delay], rounding to whole milliseconds', () => {
    expect(randoms.map((random) => jitteredDelayMs('equal', 1000, random, bounds, undefined))).toEqual([
      500, 750, 1000,
    ]);
  });

  it('spreads decorrelated jitter over [base, previous × 3], ignoring the computed delay', () => {
    expect(randoms.map((random) => jitteredDelayMs('decorrelated', 1000, random, bounds, 1000))).toEqual([
      100, 1550, 2997,
    ]);
    expect(randoms.map((random) => jitteredDelayMs('decorrelated', 99_999, random, bounds, 1000))).toEqual([
      100, 1550, 2997,
    ]);
  });

  it('starts decorrelated jitter from the base delay when there is no previous delay', () => {
    expect(randoms.map((random) => jitteredDelayMs('decorrelated', 1000, random, bounds, undefined))).toEqual([
      100, 200, 300,
    ]);
  });

  it('caps decorrelated jitter at the maximum delay', () => {
    expect(randoms.map((random) => jitteredDelayMs('decorrelated', 1000, random, bounds, 20_000))).toEqual([
      100, 15_050, 29_970,
    ]);
  });

  it('never goes below the base delay with decorrelated jitter, even when the maximum is smaller', () => {
    expect(jitteredDelayMs('decorrelated', 1000, 0.5, { baseDelayMs: 500, maxDelayMs: 100 }, 1000)).toBe(500);
  });
});

describe('backoffDelayMs', () => {
  it('applies the jitter of the settings to the capped exponential delay', () => {
    expect(backoffDelayMs({ ...settings, jitter: 'equal' }, 2, 0.5)).toBe(3000);
    expect(backoffDelayMs({ ...settings, jitter: 'full' }, 9, 0.5)).toBe(15_000);
    expect(backoffDelayMs({ ...settings, jitter: 'decorrelated' }, 0, 0.5, 4000)).toBe(6500);
  });
});

describe('worstCaseBackoffMs', () => {
  it('sums the un-jittered delays of every retry', () => {
    expect(worstCaseBackoffMs(settings)).toBe(1000 + 2000 + 4000);
    expect(worstCaseBackoffMs({ ...settings, jitter: 'equal' })).toBe(7000);
    expect(worstCaseBackoffMs({ ...settings, jitter: 'full' })).toBe(7000);
  });

  it('counts capped delays at the maximum', () => {
    expect(worstCaseBackoffMs({ ...settings, maxRetries: 6 })).toBe(1000 + 2000 + 4000 + 8000 + 16_000 + 30_000);
  });

  it('counts every decorrelated retry at the maximum delay', () => {
    expect(worstCaseBackoffMs({ ...settings, jitter: 'decorrelated' })).toBe(90_000);
  });

  it('is zero when there are no retries', () => {
    expect(worstCaseBackoffMs({ ...settings, maxRetries: 0 })).toBe(0);
  });
});

describe('a zero base delay', () => {
  it('stays zero even where the exponent overflows', () => {
    const settings = {
      maxRetries: 500,
      baseDelayMs: 0,
      maxDelayMs: 5000,
      exponentialBase: 100,
      jitter: 'none' as const,
    };
    expect(exponentialDelayMs(settings, 400)).toBe(0);
  });
});
