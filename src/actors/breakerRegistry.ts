// One circuit breaker actor per `server/tool`, shared by every call of a runtime and consulted synchronously before each attempt.
import { actorSystemOptions, type InspectObserver } from './actorInspection.js';
import { createActor, type Actor } from 'xstate';
import type { Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import {
  circuitBreakerMachine,
  failureRatio,
  tally,
  type CircuitBreakerEmitted,
  type CircuitBreakerEvent,
} from '../machines/circuitBreaker.js';
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
  /** The Stately inspector's observer (`retrace run --inspect`); absent, nothing is inspected. */
  inspect?: InspectObserver;
}

type BreakerActor = Actor<typeof circuitBreakerMachine>;

/**
 * A breaker actor and the successes it has not been told about yet. A success on a closed breaker only adds
 * to its window (only a failure trips it), so the registry keeps their `at`s and folds them into the
 * machine in one event before anything else reaches it or its window is read: every answer stays the same,
 * and the common case, a success on a closed breaker, costs an array push instead of an XState event.
 */
interface Breaker {
  readonly actor: BreakerActor;
  /** Present only while the breaker is closed. */
  pendingSuccesses: number[];
  /**
   * A count window ignores `at` and holds `windowSize` outcomes: that many successes fill it, and more
   * change nothing, so they are dropped. A time window needs every `at`: at the limit they are folded in.
   */
  readonly pendingLimit: number;
  readonly dropsBeyondLimit: boolean;
}

/** Bounds a time window's buffer: one event per this many successes instead of one each. */
const maxPendingSuccesses = 64;

// Shared, frozen permits: the closed path allocates nothing.
const admitted: BreakerPermit = Object.freeze({ allowed: true, probe: false });
const admittedAsProbe: BreakerPermit = Object.freeze({ allowed: true, probe: true });
const probesTaken: BreakerPermit = Object.freeze({ allowed: false, state: 'halfOpen', retryInMs: 0 });

export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  const { clock } = options;
  const actorOptions = actorSystemOptions(clock, options.inspect);
  const settingsFor = options.settingsFor ?? (() => defaultToolPolicy.breaker);
  const breakers = new Map<string, Breaker>();
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

  function breakerFor(key: string): Breaker {
    const existing = breakers.get(key);
    if (existing !== undefined) return existing;
    const settings = settingsFor(key);
    const actor = createActor(circuitBreakerMachine, { input: { key, ...settings }, ...actorOptions });
    actor.on('*', dispatch);
    actor.start();
    const countWindow = settings.window === 'count';
    const breaker: Breaker = {
      actor,
      pendingSuccesses: [],
      pendingLimit: countWindow ? Math.max(1, settings.windowSize) : maxPendingSuccesses,
      dropsBeyondLimit: countWindow,
    };
    breakers.set(key, breaker);
    return breaker;
  }

  /** Tells the machine about the pending successes, as if each had been sent when it was recorded. */
  function fold(breaker: Breaker): void {
    const ats = breaker.pendingSuccesses;
    if (ats.length === 0) return;
    breaker.pendingSuccesses = [];
    breaker.actor.send({ type: 'CALLS.SUCCEEDED', ats });
  }

  /** Every event reaches the machine after the successes recorded before it. */
  function send(breaker: Breaker, event: CircuitBreakerEvent): void {
    fold(breaker);
    breaker.actor.send(event);
  }

  function recordSuccess(breaker: Breaker, token: string, at: number): void {
    // Only a closed breaker can hold successes back: in halfOpen a success may be the probe that closes it.
    if (breaker.actor.getSnapshot().value !== 'closed') return send(breaker, { type: 'CALL.SUCCEEDED', at, token });
    if (breaker.pendingSuccesses.length === breaker.pendingLimit) {
      if (breaker.dropsBeyondLimit) return;
      fold(breaker);
    }
    breaker.pendingSuccesses.push(at);
  }

  function status(key: string, breaker: Breaker): BreakerStatus {
    const { value, context } = breaker.actor.getSnapshot();
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
      const breaker = breakerFor(key);
      // Pending successes change only a closed breaker's window, which a permit does not read.
      const { value, context } = breaker.actor.getSnapshot();
      if (value === 'closed') return admitted;
      if (value === 'open') {
        const openUntil = context.openUntil ?? clock.now();
        return { allowed: false, state: 'open', retryInMs: Math.max(0, openUntil - clock.now()) };
      }
      if (context.probes.includes(token)) return admittedAsProbe;
      if (context.probes.length >= context.settings.halfOpenProbes) return probesTaken;
      send(breaker, { type: 'PROBE.STARTED', token });
      return admittedAsProbe;
    },

    record(key, token, outcome, at) {
      if (stopped) return;
      const breaker = breakerFor(key);
      if (outcome === 'success') recordSuccess(breaker, token, at);
      else if (outcome === 'failure') send(breaker, { type: 'CALL.FAILED', at, token });
      else if (breaker.actor.getSnapshot().context.probes.includes(token)) {
        send(breaker, { type: 'PROBE.ABANDONED', token });
      }
    },

    state(key) {
      // Pending successes never change the state: only a closed breaker has any, and they keep it closed.
      return breakers.get(key)?.actor.getSnapshot().value ?? 'closed';
    },

    list() {
      return Array.from(breakers, ([key, breaker]) => {
        fold(breaker);
        return status(key, breaker);
      });
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
        for (const breaker of breakers.values()) send(breaker, { type: 'RESET', at });
      } else {
        const breaker = breakers.get(key);
        if (breaker !== undefined) send(breaker, { type: 'RESET', at });
      }
    },

    stop() {
      stopped = true;
      for (const breaker of breakers.values()) {
        fold(breaker);
        breaker.actor.stop();
      }
      breakers.clear();
      listeners.clear();
    },
  };
}
