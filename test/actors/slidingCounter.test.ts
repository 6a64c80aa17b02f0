import { describe, expect, it } from 'vitest';
import { SlidingCounter } from '../../src/actors/slidingCounter.js';

/** The counter's ring, read for the memory test only. */
function ringOf(counter: SlidingCounter): { counts: Float64Array; starts: Float64Array } {
  return counter as unknown as { counts: Float64Array; starts: Float64Array };
}

describe('SlidingCounter', () => {
  // A 60 s window in 60 buckets of 1 s.
  const windowMs = 60_000;

  it('is empty before anything is added', () => {
    expect(new SlidingCounter(windowMs).total(0)).toBe(0);
  });

  it('totals the events added within the window', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(1000);
    counter.add(1500);
    counter.add(30_000);
    counter.add(59_999);
    expect(counter.total(59_999)).toBe(4);
  });

  it('adds the amount it is given', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(100, 3);
    counter.add(200, 0.5);
    expect(counter.total(200)).toBe(3.5);
  });

  it('does not count events later than the time asked about', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(1000);
    counter.add(5000);
    expect(counter.total(2000)).toBe(1);
  });

  it('lets a bucket fall out once it ends before the window starts', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(1000);
    counter.add(1999);
    counter.add(30_000);
    expect(counter.total(61_999)).toBe(3);
    expect(counter.total(62_000)).toBe(1);
    expect(counter.total(90_999)).toBe(1);
    expect(counter.total(91_000)).toBe(0);
  });

  it('never carries an old count into a reused slot', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(500, 7);
    // One event in every other bucket for five minutes, so every slot of the ring is reused.
    for (let at = 2000; at <= 300_000; at += 2000) counter.add(at);
    // (241.5 s, 301.5 s] holds the events at 242 s, 244 s, …, 300 s; the bucket on its edge is empty.
    expect(counter.total(301_500)).toBe(30);
  });

  it('sizes its buckets from the window and the bucket count', () => {
    const counter = new SlidingCounter(10_000, 10);
    counter.add(0);
    counter.add(999);
    counter.add(1000);
    expect(counter.total(10_999)).toBe(3);
    expect(counter.total(11_000)).toBe(1);
  });

  it('keeps the same memory after a million adds, and still totals only the window', () => {
    const counter = new SlidingCounter(windowMs);
    const slots = ringOf(counter).counts.length;
    // 1000 events in each even second, for 2000 s.
    for (let event = 0; event < 1_000_000; event += 1) counter.add(Math.floor(event / 1000) * 2000 + (event % 1000));
    expect(ringOf(counter).counts.length).toBe(slots);
    expect(ringOf(counter).starts.length).toBe(slots);
    expect(slots).toBeLessThanOrEqual(61);
    // (1939.5 s, 1999.5 s] holds the 30 even seconds from 1940 s to 1998 s; the bucket on its edge is empty.
    expect(counter.total(1_999_500)).toBe(30_000);
  });

  it('keeps counting an event inside the window after the newest bucket takes a slot', () => {
    const counter = new SlidingCounter(windowMs);
    counter.add(10_500);
    counter.add(70_000);
    expect(counter.total(70_000)).toBe(2);
  });
});
