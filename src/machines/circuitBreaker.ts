// The circuit breaker of one (server, tool) as a pure machine: closed → open → halfOpen → closed on a sliding failure window.
import { assign, emit, setup } from 'xstate';
import type { BreakerSettings } from '../policy/toolPolicy.js';

/** A time window is summed into this many buckets, so its memory is flat however many calls it sees. */
export const TIME_WINDOW_BUCKETS = 20;

/** The last `size` outcomes in a ring: 1 = failure, 0 = success; `next` is the slot written next. */
export interface CountWindow {
  readonly kind: 'count';
  readonly size: number;
  readonly outcomes: ReadonlyArray<0 | 1>;
  readonly next: number;
  readonly failures: number;
}

/** One `bucketMs` slice of a time window; `index` is `floor(at / bucketMs)`. */
export interface TimeBucket {
  readonly index: number;
  readonly calls: number;
  readonly failures: number;
}

/**
 * The outcomes of the last `windowDurationMs` (before the latest `at`), in a ring of buckets. An outcome
 * leaves the window between one bucket (windowDurationMs / 20) early and on time, never late.
 */
export interface TimeWindow {
  readonly kind: 'time';
  readonly bucketMs: number;
  readonly buckets: readonly TimeBucket[];
  readonly latestBucket: number;
}

export type BreakerWindow = CountWindow | TimeWindow;

export interface CircuitBreakerInput extends BreakerSettings {
  /** `server/tool`. */
  key: string;
}

export interface CircuitBreakerContext {
  key: string;
  settings: BreakerSettings;
  window: BreakerWindow;
  /** The `at` of the outcome that opened the circuit last, and when its cool-down ends; null once closed. */
  openedAt: number | null;
  openUntil: number | null;
  /** Tokens of the half-open probes that are out. */
  probes: string[];
  /** Probe successes in this half-open round; `halfOpenProbes` of them close the circuit. */
  probeSuccesses: number;
}

export type CircuitBreakerEvent =
  | { type: 'CALL.SUCCEEDED'; at: number; token?: string }
  /** Successes of calls that were not probes, in the order they ended: the same as one CALL.SUCCEEDED each. */
  | { type: 'CALLS.SUCCEEDED'; ats: readonly number[] }
  | { type: 'CALL.FAILED'; at: number; token?: string }
  | { type: 'PROBE.STARTED'; token: string }
  | { type: 'PROBE.ABANDONED'; token: string }
  | { type: 'RESET'; at: number };

/** `failureRatio`: the window tripped; `probeFailed`: a half-open probe failed. */
export type OpenReason = 'failureRatio' | 'probeFailed';

export type CircuitBreakerEmitted =
  | {
      type: 'breaker.opened';
      key: string;
      at: number;
      reason: OpenReason;
      /** The window's ratio and size when it opened (for `probeFailed`, the window that tripped it first). */
      failureRatio: number;
      calls: number;
      openUntil: number;
    }
  | { type: 'breaker.halfOpened'; key: string; at: number }
  | { type: 'breaker.closed'; key: string; at: number; reason: 'probesSucceeded' | 'reset' };

export function createWindow(settings: BreakerSettings): BreakerWindow {
  if (settings.window === 'count') {
    return { kind: 'count', size: Math.max(1, settings.windowSize), outcomes: [], next: 0, failures: 0 };
  }
  const bucketMs = Math.max(1, Math.ceil(settings.windowDurationMs / TIME_WINDOW_BUCKETS));
  const bucketCount = Math.max(1, Math.ceil(settings.windowDurationMs / bucketMs));
  const empty: TimeBucket = { index: Number.MIN_SAFE_INTEGER, calls: 0, failures: 0 };
  return { kind: 'time', bucketMs, buckets: Array.from({ length: bucketCount }, () => empty), latestBucket: 0 };
}

/** The window with one more outcome; the argument is left as it was. */
export function addOutcome(window: BreakerWindow, failed: boolean, at: number): BreakerWindow {
  const bit = failed ? 1 : 0;
  if (window.kind === 'count') {
    const outcomes = window.outcomes.slice();
    const replaced = outcomes.length === window.size ? (outcomes[window.next] ?? 0) : 0;
    outcomes[window.next] = bit;
    return { ...window, outcomes, next: (window.next + 1) % window.size, failures: window.failures - replaced + bit };
  }
  const count = window.buckets.length;
  const index = Math.floor(at / window.bucketMs);
  const latestBucket = Math.max(window.latestBucket, index);
  // An outcome older than the whole window (a late report) says nothing about the present.
  if (index <= latestBucket - count) return window;
  const slot = ((index % count) + count) % count;
  const current = window.buckets[slot];
  const base = current !== undefined && current.index === index ? current : { index, calls: 0, failures: 0 };
  const buckets = window.buckets.slice();
  buckets[slot] = { index, calls: base.calls + 1, failures: base.failures + bit };
  return { ...window, buckets, latestBucket };
}

/** The window with successes at each of `ats`, added in order. */
export function addSuccesses(window: BreakerWindow, ats: readonly number[]): BreakerWindow {
  let next = window;
  for (const at of ats) next = addOutcome(next, false, at);
  return next;
}

/** How many outcomes the window holds and how many of them failed. */
export function tally(window: BreakerWindow): { calls: number; failures: number } {
  if (window.kind === 'count') return { calls: window.outcomes.length, failures: window.failures };
  let calls = 0;
  let failures = 0;
  for (const bucket of window.buckets) {
    if (bucket.index > window.latestBucket - window.buckets.length && bucket.index <= window.latestBucket) {
      calls += bucket.calls;
      failures += bucket.failures;
    }
  }
  return { calls, failures };
}

/** Failures over calls in the window; 0 for an empty window. */
export function failureRatio(window: BreakerWindow): number {
  const { calls, failures } = tally(window);
  return calls === 0 ? 0 : failures / calls;
}

/** Whether the window should open the circuit: enough calls, and a failure ratio at or over the threshold. */
export function isTripped(window: BreakerWindow, settings: BreakerSettings): boolean {
  const { calls, failures } = tally(window);
  return calls >= settings.minimumCalls && calls > 0 && failures / calls >= settings.failureThreshold;
}

function outcomeOf(event: CircuitBreakerEvent): { failed: boolean; at: number } | undefined {
  if (event.type === 'CALL.FAILED') return { failed: true, at: event.at };
  if (event.type === 'CALL.SUCCEEDED') return { failed: false, at: event.at };
  return undefined;
}

function eventAt(event: CircuitBreakerEvent, fallback: number): number {
  return 'at' in event ? event.at : fallback;
}

function isProbe(context: CircuitBreakerContext, event: CircuitBreakerEvent): boolean {
  return 'token' in event && event.token !== undefined && context.probes.includes(event.token);
}

function settingsOf(input: CircuitBreakerInput): BreakerSettings {
  const { window, windowSize, windowDurationMs, failureThreshold, minimumCalls, cooldownMs, halfOpenProbes } = input;
  return { window, windowSize, windowDurationMs, failureThreshold, minimumCalls, cooldownMs, halfOpenProbes };
}

function closedContext(context: CircuitBreakerContext): CircuitBreakerContext {
  return {
    ...context,
    window: createWindow(context.settings),
    openedAt: null,
    openUntil: null,
    probes: [],
    probeSuccesses: 0,
  };
}

const tripped = { type: 'emitOpened', params: { reason: 'failureRatio' } } as const;

/**
 * closed: outcomes fill the window; it opens when the window holds at least `minimumCalls` outcomes and
 * their failure ratio is at or over `failureThreshold`. open: refuses (the registry answers), ignores late
 * outcomes, and after `cooldownMs` on the actor system's clock turns halfOpen. halfOpen: at most
 * `halfOpenProbes` probes out at once; it closes, with an empty window, once `halfOpenProbes` probes have
 * succeeded (one by default), and any probe failure reopens it with a fresh cool-down. Outcomes of calls
 * that are not probes are ignored there. Time comes only from each event's `at` and the cool-down delay.
 */
export const circuitBreakerMachine = setup({
  types: {
    input: {} as CircuitBreakerInput,
    context: {} as CircuitBreakerContext,
    events: {} as CircuitBreakerEvent,
    emitted: {} as CircuitBreakerEmitted,
  },
  guards: {
    windowTrips: ({ context, event }) => {
      const outcome = outcomeOf(event);
      if (outcome === undefined) return false;
      return isTripped(addOutcome(context.window, outcome.failed, outcome.at), context.settings);
    },
    admitsProbe: ({ context, event }) =>
      event.type === 'PROBE.STARTED' &&
      !context.probes.includes(event.token) &&
      context.probes.length < context.settings.halfOpenProbes,
    isProbe: ({ context, event }) => isProbe(context, event),
    isLastProbeNeeded: ({ context, event }) =>
      isProbe(context, event) && context.probeSuccesses + 1 >= context.settings.halfOpenProbes,
  },
  actions: {
    recordOutcome: assign(({ context, event }) => {
      const outcome = outcomeOf(event);
      return outcome === undefined ? {} : { window: addOutcome(context.window, outcome.failed, outcome.at) };
    }),
    recordSuccesses: assign(({ context, event }) =>
      event.type === 'CALLS.SUCCEEDED' ? { window: addSuccesses(context.window, event.ats) } : {},
    ),
    openCircuit: assign(({ context, event }) => {
      // Every event that opens the circuit is an outcome, so it carries `at`.
      const at = eventAt(event, 0);
      return { openedAt: at, openUntil: at + context.settings.cooldownMs, probes: [], probeSuccesses: 0 };
    }),
    emitOpened: emit(({ context }, params: { reason: OpenReason }) => {
      const at = context.openedAt ?? 0;
      return {
        type: 'breaker.opened' as const,
        key: context.key,
        at,
        reason: params.reason,
        failureRatio: failureRatio(context.window),
        calls: tally(context.window).calls,
        openUntil: context.openUntil ?? at + context.settings.cooldownMs,
      };
    }),
    startHalfOpen: assign({ probes: [], probeSuccesses: 0 }),
    emitHalfOpened: emit(({ context }) => ({
      type: 'breaker.halfOpened' as const,
      key: context.key,
      // The cool-down timer fires at openUntil on the actor system's clock.
      at: context.openUntil ?? 0,
    })),
    admitProbe: assign(({ context, event }) =>
      event.type === 'PROBE.STARTED' ? { probes: [...context.probes, event.token] } : {},
    ),
    releaseProbe: assign(({ context, event }) =>
      'token' in event ? { probes: context.probes.filter((token) => token !== event.token) } : {},
    ),
    countProbeSuccess: assign(({ context }) => ({ probeSuccesses: context.probeSuccesses + 1 })),
    closeCircuit: assign(({ context }) => closedContext(context)),
    emitClosed: emit(({ context, event }) => ({
      type: 'breaker.closed' as const,
      key: context.key,
      at: eventAt(event, 0),
      reason: event.type === 'RESET' ? ('reset' as const) : ('probesSucceeded' as const),
    })),
  },
  delays: {
    cooldown: ({ context }) => context.settings.cooldownMs,
  },
}).createMachine({
  id: 'circuitBreaker',
  initial: 'closed',
  context: ({ input }) => {
    const settings = settingsOf(input);
    return {
      key: input.key,
      settings,
      window: createWindow(settings),
      openedAt: null,
      openUntil: null,
      probes: [],
      probeSuccesses: 0,
    };
  },
  states: {
    closed: {
      on: {
        'CALL.FAILED': [
          { guard: 'windowTrips', target: 'open', actions: ['recordOutcome', 'openCircuit', tripped] },
          { actions: 'recordOutcome' },
        ],
        // Only a failure trips it: opening right after a success would refuse a server that just answered.
        'CALL.SUCCEEDED': { actions: 'recordOutcome' },
        'CALLS.SUCCEEDED': { actions: 'recordSuccesses' },
        RESET: { actions: 'closeCircuit' },
      },
    },
    open: {
      // Outcomes of calls admitted before it opened are ignored: the cool-down decides what comes next.
      after: { cooldown: { target: 'halfOpen', actions: ['startHalfOpen', 'emitHalfOpened'] } },
      on: {
        RESET: { target: 'closed', actions: ['closeCircuit', 'emitClosed'] },
      },
    },
    halfOpen: {
      on: {
        'PROBE.STARTED': { guard: 'admitsProbe', actions: 'admitProbe' },
        'PROBE.ABANDONED': { actions: 'releaseProbe' },
        'CALL.SUCCEEDED': [
          { guard: 'isLastProbeNeeded', target: 'closed', actions: ['closeCircuit', 'emitClosed'] },
          { guard: 'isProbe', actions: ['releaseProbe', 'countProbeSuccess'] },
        ],
        'CALL.FAILED': {
          guard: 'isProbe',
          target: 'open',
          actions: ['openCircuit', { type: 'emitOpened', params: { reason: 'probeFailed' } }],
        },
        RESET: { target: 'closed', actions: ['closeCircuit', 'emitClosed'] },
      },
    },
  },
});
