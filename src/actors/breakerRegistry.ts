// One circuit breaker actor per `server/tool`, shared by every call of a runtime and consulted synchronously before each attempt.
import { createActor, type Actor } from 'xstate';
import type { Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { circuitBreakerMachine, failureRatio, tally, type CircuitBreakerEmitted } from '../machines/circuitBreaker.js';
import { defaultToolPolicy, type BreakerSettings } from '../policy/toolPolicy.js';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/**
 * The answer to "may this attempt go out?". A refusal in `halfOpen` (every probe slot taken) has
 * `retryInMs: 0`: when the probes end is unknown, so the caller's own backoff applies.
 */
export type BreakerPermit =
  { allowed: true; probe: boolean } | { allowed: false; state: 'open' | 'halfOpen'; retryInMs: number };

/** `ignored`: the attempt says nothing about the server's health (e.g. invalid input, a cancellation). */
export type BreakerOutcome = 'success' | 'failure' | 'ignored';

/** A breaker's transition, as its machine emitted it (`key`, `at` and the payload of each type). */
export type BreakerEvent = CircuitBreakerEmitted;

export interface BreakerStatus {
  key: string;
  state: BreakerState;
  failureRatio: number;
  calls: number;
  openedAt?: number;
  /** When the cool-down ends (in `halfOpen`: when it ended). */
  openUntil?: number;
}

export interface BreakerRegistry {
  /** Asks for a permit; `token` names the attempt, so asking twice with one token takes one probe slot. */
  tryAcquire(key: string, token: string): BreakerPermit;
  /** Reports how an attempt ended; `at` should come from the registry's clock. Ignored once stopped. */
  record(key: string, token: string, outcome: BreakerOutcome, at: number): void;
  state(key: string): BreakerState;
  list(): BreakerStatus[];
  on(listener: (event: BreakerEvent) => void): () => void;
  /** Closes one breaker, or all of them, with an empty window. */
  reset(key?: string): void;
  /** Stops every breaker and its cool-down timer; `tryAcquire` then throws `E_CLOSED`. */
  stop(): void;
}

export interface BreakerRegistryOptions {
  /** Drives the cool-downs and stamps resets. */
  clock: Clock;
  settingsFor?: (key: string) => BreakerSettings;
}

type BreakerActor = Actor<typeof circuitBreakerMachine>;

// Shared, frozen permits: the closed path allocates nothing.
const admitted: BreakerPermit = Object.freeze({ allowed: true, probe: false });
const admittedAsProbe: BreakerPermit = Object.freeze({ allowed: true, probe: true });
const probesTaken: BreakerPermit = Object.freeze({ allowed: false, state: 'halfOpen', retryInMs: 0 });

export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  const { clock } = options;
  const settingsFor = options.settingsFor ?? (() => defaultToolPolicy.breaker);
  const breakers = new Map<string, BreakerActor>();
  const listeners = new Set<(event: BreakerEvent) => void>();
  let stopped = false;

  function dispatch(event: BreakerEvent): void {
    // Every listener hears the event even if one throws; the first error is rethrown for XState to report.
    let failure: { error: unknown } | undefined;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }

  function breakerFor(key: string): BreakerActor {
    const existing = breakers.get(key);
    if (existing !== undefined) return existing;
    const actor = createActor(circuitBreakerMachine, { input: { key, ...settingsFor(key) }, clock });
    actor.on('*', dispatch);
    actor.start();
    breakers.set(key, actor);
    return actor;
  }

  function status(key: string, actor: BreakerActor): BreakerStatus {
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
  }

  return {
    tryAcquire(key, token) {
      if (stopped) throw new RetraceError(ErrorCode.closed, `breaker registry is stopped (asked for ${key})`);
      const actor = breakerFor(key);
      const { value, context } = actor.getSnapshot();
      if (value === 'closed') return admitted;
      if (value === 'open') {
        const openUntil = context.openUntil ?? clock.now();
        return { allowed: false, state: 'open', retryInMs: Math.max(0, openUntil - clock.now()) };
      }
      if (context.probes.includes(token)) return admittedAsProbe;
      if (context.probes.length >= context.settings.halfOpenProbes) return probesTaken;
      actor.send({ type: 'PROBE.STARTED', token });
      return admittedAsProbe;
    },

    record(key, token, outcome, at) {
      if (stopped) return;
      const actor = breakerFor(key);
      if (outcome === 'success') actor.send({ type: 'CALL.SUCCEEDED', at, token });
      else if (outcome === 'failure') actor.send({ type: 'CALL.FAILED', at, token });
      else if (actor.getSnapshot().context.probes.includes(token)) actor.send({ type: 'PROBE.ABANDONED', token });
    },

    state(key) {
      return breakers.get(key)?.getSnapshot().value ?? 'closed';
    },

    list() {
      return Array.from(breakers, ([key, actor]) => status(key, actor));
    },

    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    reset(key) {
      const at = clock.now();
      if (key === undefined) {
        for (const actor of breakers.values()) actor.send({ type: 'RESET', at });
      } else {
        breakers.get(key)?.send({ type: 'RESET', at });
      }
    },

    stop() {
      stopped = true;
      for (const actor of breakers.values()) actor.stop();
      breakers.clear();
      listeners.clear();
    },
  };
}
