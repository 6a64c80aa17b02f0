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
import { emptyHistogram, recordLatency, type LatencyHistogram } from './latencyHistogram.js';
import type { Projection } from './projection.js';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerView {
  state: BreakerState;
  /** How many times the circuit opened (a failed half-open probe opens it again). */
  openings: number;
  /** Time the circuit spent not closed (open or half-open), over finished periods. */
  timeOpenMs: number;
  /** When the current not-closed period began; absent while closed. */
  openSince?: number;
  /** When the current cool-down ends (from `breaker.opened`). */
  openUntil?: number;
}

export interface ProjectedToolMetrics extends ToolRef {
  /** Attempts made (the seed's total_calls); a short-circuited attempt is not made. */
  totalCalls: number;
  totalErrors: number;
  transientErrors: number;
  permanentErrors: number;
  degradedErrors: number;
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
  /** Attempts started and not yet ended, by call: where a success's latency is measured from. */
  inFlight: Readonly<Record<string, number>>;
}

export const initialToolMetrics: ProjectedToolMetrics = {
  server: '',
  tool: '',
  totalCalls: 0,
  totalErrors: 0,
  transientErrors: 0,
  permanentErrors: 0,
  degradedErrors: 0,
  retries: 0,
  retriesExhausted: 0,
  shortCircuits: 0,
  fallbacks: 0,
  cacheHits: 0,
  escalations: { info: 0, warning: 0, critical: 0, emergency: 0 },
  errorRate: 0,
  latency: emptyHistogram,
  breaker: { state: 'closed', openings: 0, timeOpenMs: 0 },
  inFlight: {},
};

function withoutInFlight(inFlight: Readonly<Record<string, number>>, callId: string): Readonly<Record<string, number>> {
  if (!(callId in inFlight)) return inFlight;
  const { [callId]: _ended, ...rest } = inFlight;
  return rest;
}

/** The tool's metrics after one attempt made, failed or not. */
function attemptMade(
  state: ProjectedToolMetrics,
  callId: string,
  durationMs: number,
  failureClass: string | undefined,
): ProjectedToolMetrics {
  const totalCalls = state.totalCalls + 1;
  const totalErrors = state.totalErrors + (failureClass === undefined ? 0 : 1);
  return {
    ...state,
    totalCalls,
    totalErrors,
    transientErrors: state.transientErrors + (failureClass === 'transient' ? 1 : 0),
    permanentErrors: state.permanentErrors + (failureClass === 'permanent' ? 1 : 0),
    degradedErrors: state.degradedErrors + (failureClass === 'degraded' ? 1 : 0),
    errorRate: totalErrors / totalCalls,
    latency: recordLatency(state.latency, durationMs),
    inFlight: withoutInFlight(state.inFlight, callId),
  };
}

function breakerChanged(state: ProjectedToolMetrics, event: EventEnvelope): ProjectedToolMetrics {
  const breaker = state.breaker;
  const at = event.ts;
  switch (event.type) {
    case 'breaker.opened': {
      const openUntil = typeof event.data.openUntil === 'number' ? event.data.openUntil : undefined;
      const next: BreakerView = {
        state: 'open',
        openings: breaker.openings + 1,
        timeOpenMs: breaker.timeOpenMs,
        openSince: breaker.openSince ?? at,
      };
      if (openUntil !== undefined) next.openUntil = openUntil;
      return { ...state, breaker: next };
    }
    case 'breaker.halfOpened':
      return { ...state, breaker: { ...breaker, state: 'halfOpen', openSince: breaker.openSince ?? at } };
    case 'breaker.closed':
      return {
        ...state,
        breaker: {
          state: 'closed',
          openings: breaker.openings,
          timeOpenMs: breaker.timeOpenMs + (breaker.openSince === undefined ? 0 : Math.max(0, at - breaker.openSince)),
        },
      };
    default:
      return state;
  }
}

function withTool(state: ProjectedToolMetrics, key: string): ProjectedToolMetrics {
  if (state.tool !== '' || state.server !== '') return state;
  return { ...state, ...splitToolKey(key) };
}

export function reduceToolMetrics(state: ProjectedToolMetrics, event: EventEnvelope): ProjectedToolMetrics {
  const key = toolMetricsProjection.keyOf(event);
  if (key === undefined) return state;
  const named = withTool(state, key);
  const { data, actorId: callId } = event;
  switch (event.type) {
    case 'toolcall.attempt.started':
      return { ...named, inFlight: { ...named.inFlight, [callId]: event.ts } };
    case 'toolcall.attempt.failed': {
      const { failure, decision, reason, durationMs } = readAttemptFailed(data);
      const counted =
        failure.kind === 'circuit_open'
          ? { ...named, shortCircuits: named.shortCircuits + 1 }
          : attemptMade(named, callId, durationMs, failure.class);
      if (decision !== 'retry' && reason !== 'retries_exhausted') return counted;
      return {
        ...counted,
        retries: counted.retries + (decision === 'retry' ? 1 : 0),
        retriesExhausted: counted.retriesExhausted + (reason === 'retries_exhausted' ? 1 : 0),
      };
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const startedAt = named.inFlight[callId];
      const answered =
        n === undefined ? named : attemptMade(named, callId, event.ts - (startedAt ?? event.ts), undefined);
      return status === 'cached' ? { ...answered, cacheHits: answered.cacheHits + 1 } : answered;
    }
    case 'toolcall.failed':
      // A call cancelled mid-attempt never reports that attempt's end.
      return callId in named.inFlight ? { ...named, inFlight: withoutInFlight(named.inFlight, callId) } : named;
    case 'toolcall.fallback.started':
      return { ...named, fallbacks: named.fallbacks + 1 };
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      if (!escalation) return named;
      return {
        ...named,
        escalations: { ...named.escalations, [escalation.level]: named.escalations[escalation.level] + 1 },
      };
    }
    default:
      return event.type.startsWith('breaker.') ? breakerChanged(named, event) : named;
  }
}

const counted = new Set([
  'toolcall.attempt.started',
  'toolcall.attempt.failed',
  'toolcall.succeeded',
  'toolcall.failed',
  'toolcall.fallback.started',
  'toolcall.escalated',
]);

/** Metrics per `server/tool`: a tool call's events by the tool they name, a breaker's by its key (its actorId). */
export const toolMetricsProjection: Projection<ProjectedToolMetrics> = {
  initial: initialToolMetrics,
  reduce: reduceToolMetrics,
  keyOf(event) {
    if (event.type.startsWith('breaker.')) return event.actorId;
    if (!counted.has(event.type)) return undefined;
    const tool =
      event.type === 'toolcall.escalated' ? (readEscalation(event.data) ?? toolOf(event.data)) : toolOf(event.data);
    return tool ? toolKey(tool) : undefined;
  },
};

/** Time the circuit has not been closed, counting a period still under way at `now`. */
export function breakerTimeOpenMs(breaker: BreakerView, now: number): number {
  return breaker.timeOpenMs + (breaker.openSince === undefined ? 0 : Math.max(0, now - breaker.openSince));
}
