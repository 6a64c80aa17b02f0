// The circuit breaker machine: its window arithmetic, its transitions on the simulated clock, its emitted events, its replay.
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, SimulatedClock, transition, type AnyEventObject } from 'xstate';
import {
  addOutcome,
  circuitBreakerMachine,
  createWindow,
  failureRatio,
  tally,
  type BreakerWindow,
  type CircuitBreakerEmitted,
  type CircuitBreakerEvent,
  type CircuitBreakerInput,
} from '../../src/machines/circuitBreaker.js';
import { defaultToolPolicy } from '../../src/policy/toolPolicy.js';

function input(overrides: Partial<CircuitBreakerInput> = {}): CircuitBreakerInput {
  return { key: 'fault/flaky', ...defaultToolPolicy.breaker, ...overrides };
}

/** A started breaker on a simulated clock, with what it emitted and every event it received. */
function startBreaker(overrides: Partial<CircuitBreakerInput> = {}) {
  const clock = new SimulatedClock();
  const emitted: CircuitBreakerEmitted[] = [];
  const received: AnyEventObject[] = [];
  const actor = createActor(circuitBreakerMachine, {
    input: input(overrides),
    clock,
    inspect: (inspection) => {
      if (inspection.type === '@xstate.event' && inspection.actorRef === actor) received.push(inspection.event);
    },
  });
  actor.on('*', (event) => emitted.push(event));
  actor.start();
  const send = (event: CircuitBreakerEvent) => actor.send(event);
  const fail = (at = clock.now(), token?: string) =>
    send(token === undefined ? { type: 'CALL.FAILED', at } : { type: 'CALL.FAILED', at, token });
  const succeed = (at = clock.now(), token?: string) =>
    send(token === undefined ? { type: 'CALL.SUCCEEDED', at } : { type: 'CALL.SUCCEEDED', at, token });
  const state = () => actor.getSnapshot().value;
  return { actor, clock, emitted, received, send, fail, succeed, state };
}

function fill(window: BreakerWindow, outcomes: Array<[failed: boolean, at: number]>): BreakerWindow {
  return outcomes.reduce((current, [failed, at]) => addOutcome(current, failed, at), window);
}

describe('the breaker window', () => {
  const count = createWindow({ ...defaultToolPolicy.breaker, window: 'count', windowSize: 3 });
  const time = createWindow({ ...defaultToolPolicy.breaker, window: 'time', windowDurationMs: 1000 });

  it('reports a failure ratio of 0 when it is empty', () => {
    expect(failureRatio(count)).toBe(0);
    expect(failureRatio(time)).toBe(0);
  });

  it('keeps only the last windowSize outcomes of a count window', () => {
    const window = fill(count, [
      [true, 0],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
    expect(tally(window)).toEqual({ calls: 3, failures: 1 });
    expect(failureRatio(window)).toBeCloseTo(1 / 3);
  });

  it('drops outcomes older than windowDurationMs from a time window', () => {
    const window = fill(time, [
      [true, 0],
      [true, 10],
      [false, 999],
    ]);
    expect(tally(window)).toEqual({ calls: 3, failures: 2 });
    expect(tally(addOutcome(window, false, 1000))).toEqual({ calls: 2, failures: 0 });
  });

  it('ignores a late outcome that is older than the whole time window', () => {
    const window = fill(time, [[false, 5000]]);
    expect(addOutcome(window, true, 3000)).toBe(window);
  });

  it('leaves the window it was given unchanged', () => {
    const before = JSON.stringify(count);
    addOutcome(count, true, 0);
    expect(JSON.stringify(count)).toBe(before);
  });
});

describe('the circuit breaker machine', () => {
  it('opens exactly when the failure ratio reaches the threshold, not one failure before', () => {
    const breaker = startBreaker({ windowSize: 10, failureThreshold: 0.5, minimumCalls: 4 });
    for (let i = 0; i < 5; i++) breaker.succeed();
    for (let i = 0; i < 4; i++) {
      breaker.fail();
      expect(breaker.state()).toBe('closed'); // at most 4 of 9
    }
    breaker.fail(); // 5 of 10 = 0.5
    expect(breaker.state()).toBe('open');
  });

  it('counts a success towards minimumCalls but never opens on a success', () => {
    const breaker = startBreaker({ windowSize: 10, failureThreshold: 0.5, minimumCalls: 5 });
    breaker.fail();
    breaker.fail();
    breaker.fail();
    expect(breaker.state()).toBe('closed'); // 3 of 3, but fewer than minimumCalls
    breaker.succeed(); // 3 of 4: the server just answered
    expect(breaker.state()).toBe('closed');
    breaker.fail(); // 4 of 5
    expect(breaker.state()).toBe('open');
  });

  it('does not open below the minimum number of calls, however bad the ratio', () => {
    const breaker = startBreaker({ windowSize: 10, failureThreshold: 0.1, minimumCalls: 5 });
    for (let i = 0; i < 4; i++) breaker.fail();
    expect(breaker.state()).toBe('closed');
    breaker.fail();
    expect(breaker.state()).toBe('open');
  });

  it('counts the same outcomes differently in a count window and in a time window', () => {
    const settings = { failureThreshold: 0.5, minimumCalls: 3, windowSize: 10, windowDurationMs: 1000 };
    const byCount = startBreaker({ ...settings, window: 'count' });
    const byTime = startBreaker({ ...settings, window: 'time' });
    for (const breaker of [byCount, byTime]) {
      breaker.fail(0);
      breaker.succeed(5000);
      breaker.fail(5000);
    }
    expect(byCount.state()).toBe('open');
    expect(byTime.state()).toBe('closed'); // the failure at 0 has left the last second
  });

  it('lets old failures fall out of a time window', () => {
    const settings = { window: 'time', windowDurationMs: 1000, failureThreshold: 1, minimumCalls: 3 } as const;
    const recent = startBreaker(settings);
    recent.fail(0);
    recent.fail(10);
    recent.fail(949);
    expect(recent.state()).toBe('open');

    const stale = startBreaker(settings);
    stale.fail(0);
    stale.fail(10);
    stale.fail(1000);
    expect(stale.state()).toBe('closed');
  });

  it('drops old successes from a time window, so the next failure trips it', () => {
    const breaker = startBreaker({ window: 'time', windowDurationMs: 1000, failureThreshold: 0.7, minimumCalls: 3 });
    breaker.succeed(0);
    breaker.succeed(0);
    breaker.fail(900);
    breaker.fail(900);
    expect(breaker.state()).toBe('closed'); // 2 of 4
    breaker.fail(1500); // the successes at 0 have left: 3 of 3 (with them it would be 3 of 5, under 0.7)
    expect(breaker.state()).toBe('open');
  });

  it('counts a batch of successes exactly as one CALL.SUCCEEDED each, in order', () => {
    const settings = { window: 'time', windowDurationMs: 1000, minimumCalls: 3 } as const;
    const batched = startBreaker(settings);
    const single = startBreaker(settings);
    const ats = [0, 400, 900, 1500, 2100];
    batched.send({ type: 'CALLS.SUCCEEDED', ats });
    for (const at of ats) single.succeed(at);
    expect(batched.actor.getSnapshot().context).toEqual(single.actor.getSnapshot().context);
    expect(tally(batched.actor.getSnapshot().context.window)).toEqual({ calls: 2, failures: 0 });
  });

  it('ignores a batch of successes while open or half-open, as it ignores successes of calls that are not probes', () => {
    const { actor, clock, fail, send, state } = startBreaker({ minimumCalls: 2, cooldownMs: 1000 });
    fail();
    fail();
    const opened = actor.getSnapshot().context;
    send({ type: 'CALLS.SUCCEEDED', ats: [clock.now()] });
    expect(actor.getSnapshot().context).toEqual(opened);
    clock.increment(1000);
    expect(state()).toBe('halfOpen');
    send({ type: 'CALLS.SUCCEEDED', ats: [clock.now()] });
    expect(state()).toBe('halfOpen');
    expect(actor.getSnapshot().context.probeSuccesses).toBe(0);
  });

  it('ignores outcomes while open', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 1000 });
    breaker.fail();
    const window = breaker.actor.getSnapshot().context.window;
    breaker.succeed();
    breaker.fail();
    expect(breaker.state()).toBe('open');
    expect(breaker.actor.getSnapshot().context.window).toBe(window);
  });

  it('turns half-open after exactly cooldownMs on the actor system clock, not 1 ms earlier', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 30_000 });
    breaker.fail();
    breaker.clock.increment(29_999);
    expect(breaker.state()).toBe('open');
    breaker.clock.increment(1);
    expect(breaker.state()).toBe('halfOpen');
  });

  it('admits at most halfOpenProbes probes at once, and each token once', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 100, halfOpenProbes: 2 });
    breaker.fail();
    breaker.clock.increment(100);
    breaker.send({ type: 'PROBE.STARTED', token: 'a' });
    breaker.send({ type: 'PROBE.STARTED', token: 'a' });
    breaker.send({ type: 'PROBE.STARTED', token: 'b' });
    breaker.send({ type: 'PROBE.STARTED', token: 'c' });
    expect(breaker.actor.getSnapshot().context.probes).toEqual(['a', 'b']);
    breaker.send({ type: 'PROBE.ABANDONED', token: 'a' });
    breaker.send({ type: 'PROBE.STARTED', token: 'c' });
    expect(breaker.actor.getSnapshot().context.probes).toEqual(['b', 'c']);
  });

  it('closes with an empty window once halfOpenProbes probes have succeeded', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 100, halfOpenProbes: 2 });
    breaker.fail();
    breaker.clock.increment(100);
    breaker.send({ type: 'PROBE.STARTED', token: 'a' });
    breaker.send({ type: 'PROBE.STARTED', token: 'b' });
    breaker.succeed(undefined, 'a');
    expect(breaker.state()).toBe('halfOpen');
    breaker.succeed(undefined, 'not-a-probe');
    expect(breaker.state()).toBe('halfOpen');
    breaker.succeed(undefined, 'b');
    expect(breaker.state()).toBe('closed');
    expect(tally(breaker.actor.getSnapshot().context.window).calls).toBe(0);
  });

  it('reopens on a probe failure with a fresh cool-down', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 100 });
    breaker.fail();
    breaker.clock.increment(100);
    breaker.send({ type: 'PROBE.STARTED', token: 'probe' });
    breaker.clock.increment(40);
    breaker.fail(undefined, 'probe');
    expect(breaker.state()).toBe('open');
    expect(breaker.actor.getSnapshot().context.openUntil).toBe(240);
    breaker.clock.increment(99);
    expect(breaker.state()).toBe('open');
    breaker.clock.increment(1);
    expect(breaker.state()).toBe('halfOpen');
  });

  it('does not let a failure of a call that is not a probe reopen it', () => {
    const breaker = startBreaker({ minimumCalls: 1, cooldownMs: 100 });
    breaker.fail();
    breaker.clock.increment(100);
    breaker.fail(); // a straggler admitted while closed
    expect(breaker.state()).toBe('halfOpen');
  });

  it('closes on RESET from any state and starts an empty window', () => {
    const breaker = startBreaker({ minimumCalls: 2, cooldownMs: 100 });
    breaker.fail();
    breaker.send({ type: 'RESET', at: 0 });
    expect(tally(breaker.actor.getSnapshot().context.window).calls).toBe(0);
    breaker.fail();
    breaker.fail();
    breaker.send({ type: 'RESET', at: 5 });
    expect(breaker.state()).toBe('closed');
    breaker.clock.increment(100);
    expect(breaker.state()).toBe('closed'); // the cool-down timer went with the open state
  });

  it('emits its transitions in order with their payloads', () => {
    const breaker = startBreaker({ windowSize: 4, failureThreshold: 0.5, minimumCalls: 4, cooldownMs: 1000 });
    breaker.succeed(0);
    breaker.fail(1);
    breaker.succeed(2);
    breaker.fail(3);
    breaker.clock.set(1003);
    breaker.send({ type: 'PROBE.STARTED', token: 'p1' });
    breaker.fail(1010, 'p1');
    breaker.clock.set(2010);
    breaker.send({ type: 'PROBE.STARTED', token: 'p2' });
    breaker.succeed(2020, 'p2');
    breaker.send({ type: 'RESET', at: 2030 }); // already closed: nothing to announce
    expect(breaker.emitted).toEqual([
      {
        type: 'breaker.opened',
        key: 'fault/flaky',
        at: 3,
        reason: 'failureRatio',
        failureRatio: 0.5,
        calls: 4,
        openUntil: 1003,
      },
      { type: 'breaker.halfOpened', key: 'fault/flaky', at: 1003 },
      {
        type: 'breaker.opened',
        key: 'fault/flaky',
        at: 1010,
        reason: 'probeFailed',
        failureRatio: 0.5,
        calls: 4,
        openUntil: 2010,
      },
      { type: 'breaker.halfOpened', key: 'fault/flaky', at: 2010 },
      { type: 'breaker.closed', key: 'fault/flaky', at: 2020, reason: 'probesSucceeded' },
    ]);
  });

  it('keeps its context the same size after 100,000 outcomes', () => {
    for (const window of ['count', 'time'] as const) {
      const breaker = startBreaker({ window, windowSize: 20, windowDurationMs: 1000, failureThreshold: 1 });
      const sizes: number[] = [];
      const start = 1_700_000_000_000;
      for (let i = 1; i <= 100_000; i++) {
        if (i % 3 === 0) breaker.fail(start + i);
        else breaker.succeed(start + i);
        if (i % 20_000 === 0) sizes.push(JSON.stringify(breaker.actor.getSnapshot().context).length);
      }
      const { window: kept } = breaker.actor.getSnapshot().context;
      expect(kept.kind === 'count' ? kept.outcomes.length : kept.buckets.length).toBe(20);
      // Give or take the digits of a counter (a bucket's calls go from 1 to 50).
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(4);
      expect(breaker.state()).toBe('closed');
    }
  });

  it('replays its recorded events through transition() to the same state', () => {
    const breaker = startBreaker({ windowSize: 5, minimumCalls: 3, cooldownMs: 500, halfOpenProbes: 2 });
    breaker.fail(0);
    breaker.succeed(1);
    breaker.fail(2);
    breaker.clock.increment(500);
    breaker.send({ type: 'PROBE.STARTED', token: 'a' });
    breaker.fail(510, 'a');
    breaker.clock.increment(520);
    breaker.send({ type: 'PROBE.STARTED', token: 'b' });
    breaker.send({ type: 'PROBE.STARTED', token: 'c' });
    breaker.send({ type: 'PROBE.ABANDONED', token: 'c' });
    breaker.succeed(1030, 'b');
    breaker.fail(1040);
    const live = breaker.actor.getSnapshot();

    const [initial] = initialTransition(
      circuitBreakerMachine,
      input({ windowSize: 5, minimumCalls: 3, cooldownMs: 500, halfOpenProbes: 2 }),
    );
    const replayed = breaker.received
      .filter((event) => event.type !== 'xstate.init')
      .reduce(
        (snapshot, event) => transition(circuitBreakerMachine, snapshot, event as CircuitBreakerEvent)[0],
        initial,
      );

    expect(breaker.received.map((event) => event.type)).toContain('xstate.after.cooldown.circuitBreaker.open');
    expect(replayed.value).toBe(live.value);
    expect(replayed.context).toEqual(live.context);
  });
});
