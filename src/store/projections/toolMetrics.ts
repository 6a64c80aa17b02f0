// Tool metrics projection: the seed's ERROR_METRICS per server/tool, latency percentiles, fallbacks, cache, escalations, breaker.
import type { EventEnvelope } from '../../events/envelope.js';
import type { EscalationLevel } from '../../policy/escalationLevel.js';
import {
  readAttemptFailed,
  readEscalation,
  readSucceeded,
  splitToolKey,
  toolKey,
  toolOf,
  type ToolRef,
} from './eventData.js';
import {
  emptyHistogram,
  recordLatency,
  summarizeLatency,
  type LatencyHistogram,
  type LatencySummary,
} from './latencyHistogram.js';
import type { Projection } from './projection.js';
import {
  noAttemptsInFlight,
  startedAtOf,
  withAttempt,
  withoutAttempt,
  type InFlightAttempts,
} from './inFlightAttempts.js';

export type { AttemptInFlight, InFlightAttempts } from './inFlightAttempts.js';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerView {
  state: BreakerState;
  /** How many times the circuit opened (a failed half-open probe opens it again). */
  openings: number;
  /** Time the circuit spent not closed (open or half-open), over finished periods. */
  timeOpenMs: number;
  /** When the current not-closed period began; undefined while closed. */
  openSince: number | undefined;
  /** When the current cool-down ends (from `breaker.opened`). */
  openUntil: number | undefined;
}

export interface ProjectedToolMetrics extends ToolRef {
  /** Attempts made (the seed's total_calls); a short-circuited attempt is not made. */
  totalCalls: number;
  totalErrors: number;
  transientErrors: number;
  permanentErrors: number;
  degradedErrors: number;
  /** Failed attempts by failure class, then kind (`transient` → `unavailable` → 2). */
  errorsByKind: Readonly<Record<string, Readonly<Record<string, number>>>>;
  retries: number;
  retriesExhausted: number;
  /** Attempts the open circuit refused. */
  shortCircuits: number;
  /** Fallbacks started away from this tool. */
  fallbacks: number;
  cacheHits: number;
  escalations: Record<EscalationLevel, number>;
  /** totalErrors / totalCalls. */
  errorRate: number;
  /** Durations of the attempts made, failed or not. */
  latency: LatencyHistogram;
  breaker: BreakerView;
  /** Attempts started and not yet ended: where a success's latency is measured from. */
  inFlight: InFlightAttempts;
}

export const initialToolMetrics: ProjectedToolMetrics = {
  server: '',
  tool: '',
  totalCalls: 0,
  totalErrors: 0,
  transientErrors: 0,
  permanentErrors: 0,
  degradedErrors: 0,
  errorsByKind: {},
  retries: 0,
  retriesExhausted: 0,
  shortCircuits: 0,
  fallbacks: 0,
  cacheHits: 0,
  escalations: { info: 0, warning: 0, critical: 0, emergency: 0 },
  errorRate: 0,
  latency: emptyHistogram,
  breaker: { state: 'closed', openings: 0, timeOpenMs: 0, openSince: undefined, openUntil: undefined },
  inFlight: noAttemptsInFlight,
};

/** A copy with every field listed: one object shape, fast to build, which the caller may change before it returns it. */
function copyOf(state: ProjectedToolMetrics): ProjectedToolMetrics {
  return {
    server: state.server,
    tool: state.tool,
    totalCalls: state.totalCalls,
    totalErrors: state.totalErrors,
    transientErrors: state.transientErrors,
    permanentErrors: state.permanentErrors,
    degradedErrors: state.degradedErrors,
    errorsByKind: state.errorsByKind,
    retries: state.retries,
    retriesExhausted: state.retriesExhausted,
    shortCircuits: state.shortCircuits,
    fallbacks: state.fallbacks,
    cacheHits: state.cacheHits,
    escalations: state.escalations,
    errorRate: state.errorRate,
    latency: state.latency,
    breaker: state.breaker,
    inFlight: state.inFlight,
  };
}

/** Counts one attempt made, failed or not, into a fresh copy. */
function countAttempt(
  next: ProjectedToolMetrics,
  callId: string,
  durationMs: number,
  failure?: { class: string; kind: string },
): void {
  next.totalCalls += 1;
  if (failure !== undefined) {
    next.totalErrors += 1;
    if (failure.class === 'transient') next.transientErrors += 1;
    else if (failure.class === 'permanent') next.permanentErrors += 1;
    else next.degradedErrors += 1;
    const kinds = next.errorsByKind[failure.class] ?? {};
    next.errorsByKind = {
      ...next.errorsByKind,
      [failure.class]: { ...kinds, [failure.kind]: (kinds[failure.kind] ?? 0) + 1 },
    };
  }
  next.errorRate = next.totalErrors / next.totalCalls;
  next.latency = recordLatency(next.latency, durationMs);
  next.inFlight = withoutAttempt(next.inFlight, callId);
}

/** The breaker's change into `next` (a fresh copy); an unknown `breaker.*` type changes nothing. */
function breakerChanged(next: ProjectedToolMetrics, event: EventEnvelope): ProjectedToolMetrics {
  const breaker = next.breaker;
  const at = event.ts;
  switch (event.type) {
    case 'breaker.opened':
      next.breaker = {
        state: 'open',
        openings: breaker.openings + 1,
        timeOpenMs: breaker.timeOpenMs,
        openSince: breaker.openSince ?? at,
        openUntil: typeof event.data.openUntil === 'number' ? event.data.openUntil : undefined,
      };
      return next;
    case 'breaker.halfOpened':
      next.breaker = { ...breaker, state: 'halfOpen', openSince: breaker.openSince ?? at };
      return next;
    case 'breaker.closed':
      next.breaker = {
        state: 'closed',
        openings: breaker.openings,
        timeOpenMs: breaker.timeOpenMs + (breaker.openSince === undefined ? 0 : Math.max(0, at - breaker.openSince)),
        openSince: undefined,
        openUntil: undefined,
      };
      return next;
    default:
      return next;
  }
}

export function reduceToolMetrics(state: ProjectedToolMetrics, event: EventEnvelope): ProjectedToolMetrics {
  const { data, actorId: callId } = event;
  const next = copyOf(state);
  if (state.server === '' && state.tool === '') {
    const key = toolMetricsProjection.keyOf(event);
    if (key === undefined) return state;
    const { server, tool } = splitToolKey(key);
    next.server = server;
    next.tool = tool;
  }
  switch (event.type) {
    case 'toolcall.attempt.started':
      next.inFlight = withAttempt(next.inFlight, { callId, startedAt: event.ts });
      return next;
    case 'toolcall.attempt.failed': {
      const { failure, decision, reason, durationMs } = readAttemptFailed(data);
      if (failure.kind === 'circuit_open') next.shortCircuits += 1;
      else countAttempt(next, callId, durationMs, failure);
      if (decision === 'retry') next.retries += 1;
      if (reason === 'retries_exhausted') next.retriesExhausted += 1;
      return next;
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      if (n !== undefined) {
        const startedAt = startedAtOf(next.inFlight, callId) ?? event.ts;
        countAttempt(next, callId, event.ts - startedAt);
      }
      if (status === 'cached') next.cacheHits += 1;
      return next;
    }
    case 'toolcall.failed':
      // A call cancelled mid-attempt never reports that attempt's end.
      next.inFlight = withoutAttempt(next.inFlight, callId);
      return next;
    case 'toolcall.fallback.started':
      next.fallbacks += 1;
      return next;
    // A call's own escalation, and an advisory the runtime raised about its tool: both count by level.
    case 'toolcall.escalated':
    case 'toolcall.advisory.raised': {
      const escalation = readEscalation(data);
      if (escalation) {
        next.escalations = { ...next.escalations, [escalation.level]: next.escalations[escalation.level] + 1 };
      }
      return next;
    }
    default:
      return event.type.startsWith('breaker.') ? breakerChanged(next, event) : state;
  }
}

const counted = new Set([
  'toolcall.attempt.started',
  'toolcall.attempt.failed',
  'toolcall.succeeded',
  'toolcall.failed',
  'toolcall.fallback.started',
  'toolcall.escalated',
  'toolcall.advisory.raised',
]);

/** Metrics per `server/tool`: a tool call's events by the tool they name, a breaker's by its key (its actorId). */
export const toolMetricsProjection: Projection<ProjectedToolMetrics> = {
  initial: initialToolMetrics,
  reduce: reduceToolMetrics,
  keyOf(event) {
    const { type, data } = event;
    if (!counted.has(type)) return type.startsWith('breaker.') ? event.actorId : undefined;
    if (type === 'toolcall.escalated' || type === 'toolcall.advisory.raised') {
      const tool = readEscalation(data) ?? toolOf(data);
      return tool ? toolKey(tool) : undefined;
    }
    const { server, tool } = data;
    return typeof server === 'string' && typeof tool === 'string' ? `${server}/${tool}` : undefined;
  },
};

/** Time the circuit has not been closed, counting a period still under way at `now`. */
export function breakerTimeOpenMs(breaker: BreakerView, now: number): number {
  return breaker.timeOpenMs + (breaker.openSince === undefined ? 0 : Math.max(0, now - breaker.openSince));
}

/** What `retrace metrics` shows of one tool: the counts, latency percentiles, and the breaker with its time open at `now`. */
export interface ToolMetricsReport extends Omit<ProjectedToolMetrics, 'latency' | 'inFlight' | 'breaker'> {
  latency: LatencySummary;
  breaker: { state: BreakerState; openings: number; timeOpenMs: number };
}

export function reportToolMetrics(metrics: ProjectedToolMetrics, now: number): ToolMetricsReport {
  const { latency, inFlight: _inFlight, breaker, ...counts } = metrics;
  return {
    ...counts,
    escalations: { ...counts.escalations },
    errorsByKind: structuredClone(counts.errorsByKind),
    latency: summarizeLatency(latency),
    breaker: { state: breaker.state, openings: breaker.openings, timeOpenMs: breakerTimeOpenMs(breaker, now) },
  };
}
