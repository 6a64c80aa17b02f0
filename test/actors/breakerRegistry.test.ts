// The breaker registry: permits, outcomes, observable state and events, with cool-downs on the simulated clock.
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createBreakerRegistry, type BreakerEvent, type BreakerStatus } from '../../src/actors/breakerRegistry.js';
import { isRetraceError } from '../../src/common/errors.js';
import { circuitBreakerMachine, failureRatio, tally } from '../../src/machines/circuitBreaker.js';
import { defaultToolPolicy, type BreakerSettings } from '../../src/policy/toolPolicy.js';

const start = 1_700_000_000_000;
const key = 'fault/flaky';

function setUp(overrides: Partial<BreakerSettings> = {}) {
  const clock = new SimulatedClock();
  clock.set(start);
  const settings: BreakerSettings = { ...defaultToolPolicy.breaker, minimumCalls: 2, cooldownMs: 1000, ...overrides };
  const registry = createBreakerRegistry({ clock, settingsFor: () => settings });
  const events: BreakerEvent[] = [];
  registry.on((event) => events.push(event));
  /** Two failures: the default threshold (0.5) with minimumCalls 2 opens the circuit. */
  const open = (target = key) => {
    registry.record(target, 'f1', 'failure', clock.now());
    registry.record(target, 'f2', 'failure', clock.now());
  };
  return { clock, registry, events, open };
}

describe('the breaker registry', () => {
  it('allows every attempt while closed, with one shared permit', () => {
    const { registry } = setUp();
    const first = registry.tryAcquire(key, 'a');
    expect(first).toEqual({ allowed: true, probe: false });
    expect(registry.tryAcquire(key, 'b')).toBe(first);
    expect(registry.state(key)).toBe('closed');
  });

  it('refuses while open and says how much of the cool-down is left', () => {
    const { clock, registry, open } = setUp({ cooldownMs: 30_000 });
    open();
    expect(registry.tryAcquire(key, 'a')).toEqual({ allowed: false, state: 'open', retryInMs: 30_000 });
    clock.increment(12_000);
    expect(registry.tryAcquire(key, 'a')).toEqual({ allowed: false, state: 'open', retryInMs: 18_000 });
  });

  it('turns half-open after exactly cooldownMs on the injected clock', () => {
    const { clock, registry, open } = setUp({ cooldownMs: 1000 });
    open();
    clock.increment(999);
    expect(registry.state(key)).toBe('open');
    clock.increment(1);
    expect(registry.state(key)).toBe('halfOpen');
  });

  it('hands out at most halfOpenProbes probes, counting a token once', () => {
    const { clock, registry, open } = setUp({ halfOpenProbes: 1 });
    open();
    clock.increment(1000);
    expect(registry.tryAcquire(key, 'probe')).toEqual({ allowed: true, probe: true });
    expect(registry.tryAcquire(key, 'probe')).toEqual({ allowed: true, probe: true });
    expect(registry.tryAcquire(key, 'other')).toEqual({ allowed: false, state: 'halfOpen', retryInMs: 0 });
  });

  it('closes when the probe succeeds', () => {
    const { clock, registry, open } = setUp();
    open();
    clock.increment(1000);
    registry.tryAcquire(key, 'probe');
    registry.record(key, 'probe', 'success', clock.now());
    expect(registry.state(key)).toBe('closed');
    expect(registry.tryAcquire(key, 'next')).toEqual({ allowed: true, probe: false });
  });

  it('reopens with a fresh cool-down when the probe fails', () => {
    const { clock, registry, open } = setUp({ cooldownMs: 1000 });
    open();
    clock.increment(1000);
    registry.tryAcquire(key, 'probe');
    clock.increment(250);
    registry.record(key, 'probe', 'failure', clock.now());
    expect(registry.tryAcquire(key, 'next')).toEqual({ allowed: false, state: 'open', retryInMs: 1000 });
    clock.increment(1000);
    expect(registry.state(key)).toBe('halfOpen');
  });

  it('frees the probe slot of an ignored outcome without counting it', () => {
    const { clock, registry, open } = setUp({ halfOpenProbes: 1 });
    open();
    clock.increment(1000);
    registry.tryAcquire(key, 'invalid-input');
    registry.record(key, 'invalid-input', 'ignored', clock.now());
    expect(registry.state(key)).toBe('halfOpen');
    expect(registry.tryAcquire(key, 'next')).toEqual({ allowed: true, probe: true });
  });

  it('does not count an ignored outcome in the window', () => {
    const { clock, registry } = setUp({ minimumCalls: 1 });
    registry.record(key, 'a', 'ignored', clock.now());
    registry.record(key, 'b', 'ignored', clock.now());
    expect(registry.state(key)).toBe('closed');
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0, calls: 0 }]);
  });

  it('lists each breaker with its state, failure ratio, calls and cool-down', () => {
    const { clock, registry } = setUp({ minimumCalls: 3, cooldownMs: 5000 });
    registry.record('fault/slow', 'a', 'success', clock.now());
    registry.record(key, 'a', 'success', clock.now());
    registry.record(key, 'b', 'failure', clock.now());
    registry.record(key, 'c', 'failure', clock.now());
    expect(registry.list()).toEqual([
      { key: 'fault/slow', state: 'closed', failureRatio: 0, calls: 1 },
      { key, state: 'open', failureRatio: 2 / 3, calls: 3, openedAt: start, openUntil: start + 5000 },
    ]);
  });

  it('takes each breaker’s settings from settingsFor, and the defaults without it', () => {
    const clock = new SimulatedClock();
    const strict: BreakerSettings = { ...defaultToolPolicy.breaker, minimumCalls: 1, failureThreshold: 1 };
    const registry = createBreakerRegistry({
      clock,
      settingsFor: (name) => (name === 'fault/strict' ? strict : defaultToolPolicy.breaker),
    });
    registry.record('fault/strict', 'a', 'failure', 0);
    registry.record('fault/lenient', 'a', 'failure', 0);
    expect(registry.state('fault/strict')).toBe('open');
    expect(registry.state('fault/lenient')).toBe('closed');

    const byDefault = createBreakerRegistry({ clock });
    for (let i = 0; i < defaultToolPolicy.breaker.minimumCalls - 1; i++) byDefault.record(key, `t${i}`, 'failure', 0);
    expect(byDefault.state(key)).toBe('closed');
    byDefault.record(key, 'last', 'failure', 0);
    expect(byDefault.state(key)).toBe('open');
  });

  it('reports a breaker it has never seen as closed without creating it', () => {
    const { registry } = setUp();
    expect(registry.state('fault/unknown')).toBe('closed');
    expect(registry.list()).toEqual([]);
  });

  it('tells its listeners every transition with the breaker key, until they unsubscribe', () => {
    const { clock, registry, events, open } = setUp();
    const late: BreakerEvent[] = [];
    const dispose = registry.on((event) => late.push(event));
    open();
    dispose();
    clock.increment(1000);
    registry.tryAcquire(key, 'probe');
    registry.record(key, 'probe', 'success', clock.now());
    expect(events.map((event) => [event.type, event.key, event.at])).toEqual([
      ['breaker.opened', key, start],
      ['breaker.halfOpened', key, start + 1000],
      ['breaker.closed', key, start + 1000],
    ]);
    expect(late.map((event) => event.type)).toEqual(['breaker.opened']);
  });

  it('resets one breaker or all of them', () => {
    const { clock, registry, events, open } = setUp();
    open('fault/a');
    open('fault/b');
    registry.reset('fault/a');
    expect([registry.state('fault/a'), registry.state('fault/b')]).toEqual(['closed', 'open']);
    registry.reset();
    expect(registry.state('fault/b')).toBe('closed');
    expect(events.filter((event) => event.type === 'breaker.closed')).toEqual([
      { type: 'breaker.closed', key: 'fault/a', at: clock.now(), reason: 'reset' },
      { type: 'breaker.closed', key: 'fault/b', at: clock.now(), reason: 'reset' },
    ]);
  });

  it('stops every cool-down timer when stopped and refuses to hand out permits afterwards', () => {
    const { clock, registry, events, open } = setUp();
    open();
    registry.stop();
    clock.increment(10_000);
    expect(events.map((event) => event.type)).toEqual(['breaker.opened']);
    registry.record(key, 'late', 'failure', clock.now());
    let thrown: unknown;
    try {
      registry.tryAcquire(key, 'a');
    } catch (error) {
      thrown = error;
    }
    expect(isRetraceError(thrown) && thrown.code).toBe('E_CLOSED');
  });
});

/** The breaker as it was before successes were held back: one machine event per reported outcome. */
function unbufferedBreaker(clock: SimulatedClock, settings: BreakerSettings) {
  const actor = createActor(circuitBreakerMachine, { input: { key, ...settings }, clock });
  const events: BreakerEvent[] = [];
  actor.on('*', (event) => events.push(event));
  actor.start();
  return {
    events,
    tryAcquire(token: string): boolean {
      const { value, context } = actor.getSnapshot();
      if (value === 'closed') return true;
      if (value === 'open') return false;
      if (context.probes.includes(token)) return true;
      if (context.probes.length >= context.settings.halfOpenProbes) return false;
      actor.send({ type: 'PROBE.STARTED', token });
      return true;
    },
    record(token: string, failed: boolean, at: number): void {
      actor.send(failed ? { type: 'CALL.FAILED', at, token } : { type: 'CALL.SUCCEEDED', at, token });
    },
    status(): BreakerStatus {
      const { value, context } = actor.getSnapshot();
      const entry: BreakerStatus = {
        key,
        state: value,
        failureRatio: failureRatio(context.window),
        calls: tally(context.window).calls,
      };
      if (context.openedAt !== null) entry.openedAt = context.openedAt;
      if (context.openUntil !== null) entry.openUntil = context.openUntil;
      return entry;
    },
  };
}

describe('successes held back while a breaker is closed', () => {
  it('trips on the same failure as before, with the same ratio and calls', () => {
    const { clock, registry, events } = setUp({ minimumCalls: 4, failureThreshold: 0.5 });
    registry.record(key, 'a', 'success', clock.now());
    registry.record(key, 'b', 'success', clock.now());
    registry.record(key, 'c', 'failure', clock.now());
    expect(registry.state(key)).toBe('closed'); // 1 of 3, under minimumCalls
    registry.record(key, 'd', 'failure', clock.now());
    expect(registry.state(key)).toBe('open'); // 2 of 4
    expect(events).toEqual([
      expect.objectContaining({ type: 'breaker.opened', reason: 'failureRatio', failureRatio: 0.5, calls: 4 }),
    ]);
  });

  it('lists the successes it holds back', () => {
    const { clock, registry } = setUp();
    for (const token of ['a', 'b', 'c']) registry.record(key, token, 'success', clock.now());
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0, calls: 3 }]);
    registry.record(key, 'd', 'failure', clock.now());
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0.25, calls: 4 }]);
  });

  it('still drops old successes from a time window', () => {
    const { clock, registry } = setUp({ window: 'time', windowDurationMs: 1000, minimumCalls: 2 });
    for (const token of ['a', 'b', 'c']) registry.record(key, token, 'success', clock.now());
    clock.increment(2000);
    registry.record(key, 'd', 'failure', clock.now());
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 1, calls: 1 }]);
    registry.record(key, 'e', 'failure', clock.now()); // 2 of 2; with the old successes it would be 2 of 5
    expect(registry.state(key)).toBe('open');
  });

  it('counts every success of a time window, however many it holds back', () => {
    const { clock, registry } = setUp({ window: 'time', windowDurationMs: 60_000 });
    for (let i = 0; i < 200; i++) registry.record(key, `t${i}`, 'success', clock.now());
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0, calls: 200 }]);
  });

  it('fills a count window with successes and keeps no more than it holds', () => {
    const { clock, registry } = setUp({ window: 'count', windowSize: 5, minimumCalls: 5, failureThreshold: 0.5 });
    for (let i = 0; i < 12; i++) registry.record(key, `t${i}`, 'success', clock.now());
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0, calls: 5 }]);
    registry.record(key, 'f1', 'failure', clock.now());
    registry.record(key, 'f2', 'failure', clock.now());
    expect(registry.state(key)).toBe('closed'); // 2 of 5
    registry.record(key, 'f3', 'failure', clock.now());
    expect(registry.state(key)).toBe('open'); // 3 of 5
  });

  it('forgets the successes it holds back when reset', () => {
    const { clock, registry } = setUp();
    registry.record(key, 'a', 'success', clock.now());
    registry.reset(key);
    expect(registry.list()).toEqual([{ key, state: 'closed', failureRatio: 0, calls: 0 }]);
  });

  it.each([
    { window: 'count', windowSize: 7 },
    { window: 'time', windowDurationMs: 2000 },
  ] as const)('answers as one event per success would over a long mixed run ($window window)', (overrides) => {
    const settings = { minimumCalls: 4, failureThreshold: 0.4, cooldownMs: 700, ...overrides };
    const { clock, registry, events } = setUp(settings);
    const reference = unbufferedBreaker(clock, { ...defaultToolPolicy.breaker, ...settings });
    // A fixed pseudo-random run: mostly successes, bursts of failures, time moving on, probes when half-open.
    let seed = 42;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let step = 0; step < 3000; step++) {
      clock.increment(Math.floor(next() * 40));
      const token = `t${step}`;
      const allowed = registry.tryAcquire(key, token).allowed;
      expect(allowed).toBe(reference.tryAcquire(token));
      if (!allowed) continue;
      const failed = next() < (step % 500 < 100 ? 0.6 : 0.1);
      registry.record(key, token, failed ? 'failure' : 'success', clock.now());
      reference.record(token, failed, clock.now());
      expect(registry.state(key)).toBe(reference.status().state);
      if (step % 10 === 0) expect(registry.list()).toEqual([reference.status()]);
    }
    expect(events).toEqual(reference.events);
    // The run went round the whole cycle several times.
    expect(events.filter((event) => event.type === 'breaker.closed').length).toBeGreaterThan(2);
  });
});
