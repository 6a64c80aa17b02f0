// A manual clock that skips time: run hours of backoff in microseconds, deterministically (like Temporal's time-skipping tests).
import type { Clock } from '../common/clock.js';

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

export interface TestClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void;
  /** Jumps to the next timer and fires it (and any others due at that instant); false if none is pending. */
  runNext(): boolean;
  pending(): number;
}

export function createTestClock(startAt = 0): TestClock {
  let now = startAt;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  function earliest(): Timer | undefined {
    let found: Timer | undefined;
    for (const timer of timers.values()) {
      if (!found || timer.at < found.at || (timer.at === found.at && timer.id < found.id)) found = timer;
    }
    return found;
  }

  function fireDue(): void {
    for (let timer = earliest(); timer && timer.at <= now; timer = earliest()) {
      timers.delete(timer.id);
      timer.callback();
    }
  }

  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, delayMs), callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const target = now + ms;
      for (let timer = earliest(); timer && timer.at <= target; timer = earliest()) {
        now = Math.max(now, timer.at);
        timers.delete(timer.id);
        timer.callback();
      }
      now = target;
    },
    runNext() {
      const timer = earliest();
      if (!timer) return false;
      now = Math.max(now, timer.at);
      fireDue();
      return true;
    },
    pending: () => timers.size,
  };
}
