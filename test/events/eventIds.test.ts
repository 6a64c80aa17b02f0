import { describe, expect, it } from 'vitest';
import { createEventIdFactory, eventIdTime } from '../../src/events/index.js';
import { nextRandom } from '../../src/policy/random.js';

/** A seeded random source, so ids are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    const next = nextRandom(state);
    state = next.state;
    return next.value;
  };
}

describe('createEventIdFactory', () => {
  it('makes the same ids from the same clock and seed', () => {
    const times = [1_700_000_000_000, 1_700_000_000_005];
    const make = () => {
      let i = 0;
      const ids = createEventIdFactory({ clock: { now: () => times[i++] ?? 0 }, random: seeded(7) });
      return [ids(), ids()];
    };
    const first = make();
    expect(make()).toEqual(first);
    expect(first[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('encodes the clock time, so ids sort by time', () => {
    let now = 1_700_000_000_000;
    const ids = createEventIdFactory({ clock: { now: () => now }, random: seeded(1) });
    const made: string[] = [];
    for (const step of [0, 1, 250, 60_000, 3_600_000]) {
      now += step;
      made.push(ids());
    }
    expect([...made].sort()).toEqual(made);
    expect(made.map(eventIdTime)).toEqual([
      1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_251, 1_700_000_060_251, 1_700_003_660_251,
    ]);
  });

  it('keeps ids increasing within one millisecond and when the clock steps back', () => {
    let now = 1_700_000_000_000;
    const ids = createEventIdFactory({ clock: { now: () => now }, random: seeded(3) });
    const made = [ids(), ids(), ids()];
    now -= 1_000;
    made.push(ids());
    expect(new Set(made).size).toBe(4);
    expect([...made].sort()).toEqual(made);
    expect(eventIdTime(made[3] ?? '')).toBe(1_700_000_000_000);
  });
});

describe('a clock at zero', () => {
  it('still makes ids', () => {
    const next = createEventIdFactory({ clock: { now: () => 0 }, random: () => 0.5 });
    expect(next() < next()).toBe(true);
  });
});
