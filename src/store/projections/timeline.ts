// Timeline projection: per tool call, the spans of what happened (attempts, backoffs, fallbacks, cache, escalation, outcome).
import type { EventEnvelope } from '../../events/envelope.js';
import {
  readAdvisory,
  readAttemptFailed,
  readAttemptStarted,
  readBackoff,
  readCacheHit,
  readEscalation,
  readFailed,
  readFallback,
  readSucceeded,
  toolOf,
  type AdvisoryView,
  type EscalationView,
  type FailureView,
  type Route,
  type ToolRef,
} from './eventData.js';
import { replaceAt, type Projection } from './projection.js';

// Every field is always present (undefined when unknown): objects of one shape keep a long replay fast.
export interface AttemptSpan extends ToolRef {
  kind: 'attempt';
  n: number;
  route: Route | undefined;
  startedAt: number;
  /** Undefined while the attempt is under way. */
  endedAt: number | undefined;
  durationMs: number | undefined;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  failure: FailureView | undefined;
  decision: string | undefined;
  reason: string | undefined;
}

export interface BackoffSpan {
  kind: 'backoff';
  n: number;
  startedAt: number;
  until: number;
  delayMs: number;
  retryAfter: boolean;
}

export interface FallbackSpan {
  kind: 'fallback';
  at: number;
  from: ToolRef;
  /** null: the chain ends in an empty result. */
  to: ToolRef | null;
  reason: string;
}

export interface CacheSpan {
  kind: 'cache';
  at: number;
  hit: boolean;
  ageMs: number | undefined;
}

export interface EscalationSpan {
  kind: 'escalation';
  at: number;
  escalation: EscalationView;
}

/** A cross-call trigger this call's failure crossed (repeated failures, error rate): not the call's outcome. */
export interface AdvisorySpan extends AdvisoryView {
  kind: 'advisory';
  at: number;
}

export type TimelineSpan = AttemptSpan | BackoffSpan | FallbackSpan | CacheSpan | EscalationSpan | AdvisorySpan;

export interface TimelineOutcome {
  status: string;
  at: number;
  tool: ToolRef | undefined;
  error: FailureView | undefined;
}

export interface Timeline {
  runId: string;
  callId: string;
  /** The tool first asked for. */
  requested: ToolRef | undefined;
  startedAt: number | undefined;
  spans: readonly TimelineSpan[];
  outcome: TimelineOutcome | undefined;
}

export const initialTimeline: Timeline = {
  runId: '',
  callId: '',
  requested: undefined,
  startedAt: undefined,
  spans: [],
  outcome: undefined,
};

function attemptSpan(tool: ToolRef, n: number, route: Route | undefined, at: number): AttemptSpan {
  return {
    kind: 'attempt',
    server: tool.server,
    tool: tool.tool,
    n,
    route,
    startedAt: at,
    endedAt: undefined,
    durationMs: undefined,
    status: 'running',
    failure: undefined,
    decision: undefined,
    reason: undefined,
  };
}

function lastRunningAttempt(spans: readonly TimelineSpan[], n: number): number {
  for (let i = spans.length - 1; i >= 0; i -= 1) {
    const span = spans[i];
    if (span?.kind === 'attempt' && span.n === n && span.status === 'running') return i;
  }
  return -1;
}

function endAttempt(attempt: AttemptSpan, at: number, status: AttemptSpan['status']): AttemptSpan {
  return { ...attempt, status, endedAt: at, durationMs: Math.max(0, at - attempt.startedAt) };
}

function cacheSpan(at: number, hit: boolean, ageMs: number | undefined): CacheSpan {
  return { kind: 'cache', at, hit, ageMs };
}

/** The spans and outcome an event leaves; undefined: the event changes nothing. */
function changeOf(
  state: Timeline,
  event: EventEnvelope,
): { spans: readonly TimelineSpan[]; outcome: TimelineOutcome | undefined } | undefined {
  const { data, ts } = event;
  const tool = toolOf(data) ?? { server: '', tool: '' };
  const { spans, outcome } = state;
  switch (event.type) {
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      return { spans: [...spans, attemptSpan(tool, n, route, ts)], outcome };
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const index = lastRunningAttempt(spans, failed.n);
      // A short-circuited attempt never started: the breaker refused it on the spot.
      const base = index < 0 ? attemptSpan(tool, failed.n, undefined, ts) : (spans[index] as AttemptSpan);
      const span: AttemptSpan = {
        ...base,
        status: 'failed',
        endedAt: ts,
        durationMs: failed.durationMs,
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      };
      return { spans: index < 0 ? [...spans, span] : replaceAt(spans, index, span), outcome };
    }
    case 'toolcall.backoff.scheduled': {
      const { n, delayMs, until, retryAfter } = readBackoff(data, ts);
      return { spans: [...spans, { kind: 'backoff', n, startedAt: ts, until, delayMs, retryAfter }], outcome };
    }
    case 'toolcall.fallback.started': {
      const { to, reason } = readFallback(data);
      return { spans: [...spans, { kind: 'fallback', at: ts, from: tool, to, reason }], outcome };
    }
    case 'toolcall.cache.hit':
      return { spans: [...spans, cacheSpan(ts, true, readCacheHit(data).ageMs)], outcome };
    case 'toolcall.cache.miss': {
      const ageMs = typeof data.ageMs === 'number' ? data.ageMs : undefined;
      return { spans: [...spans, cacheSpan(ts, false, ageMs)], outcome };
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const index = n === undefined ? -1 : lastRunningAttempt(spans, n);
      const attempt = index < 0 ? undefined : (spans[index] as AttemptSpan);
      return {
        spans: attempt ? replaceAt(spans, index, endAttempt(attempt, ts, 'succeeded')) : spans,
        outcome: { status, at: ts, tool, error: undefined },
      };
    }
    case 'toolcall.failed': {
      const cutOff = spans.some((span) => span.kind === 'attempt' && span.status === 'running');
      return {
        spans: cutOff
          ? spans.map((span) =>
              span.kind === 'attempt' && span.status === 'running' ? endAttempt(span, ts, 'abandoned') : span,
            )
          : spans,
        outcome: { status: 'failed', at: ts, tool, error: readFailed(data).error },
      };
    }
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      return {
        spans: escalation ? [...spans, { kind: 'escalation', at: ts, escalation }] : spans,
        outcome: { status: 'escalated', at: ts, tool, error: undefined },
      };
    }
    case 'toolcall.advisory.raised': {
      const advisory = readAdvisory(data);
      return advisory ? { spans: [...spans, { kind: 'advisory', at: ts, ...advisory }], outcome } : undefined;
    }
    default:
      return undefined;
  }
}

export function reduceTimeline(state: Timeline, event: EventEnvelope): Timeline {
  if (!event.type.startsWith('toolcall.')) return state;
  const requested = event.type === 'toolcall.requested';
  const change = requested ? undefined : changeOf(state, event);
  if (!requested && change === undefined && state.callId === event.actorId) return state;
  return {
    runId: event.runId,
    callId: event.actorId,
    requested: requested ? (toolOf(event.data) ?? state.requested) : state.requested,
    startedAt: requested ? event.ts : state.startedAt,
    spans: change ? change.spans : state.spans,
    outcome: change ? change.outcome : state.outcome,
  };
}

/** One timeline per tool call (its actorId), keyed `runId/callId`; breaker events belong to no call. */
export const timelineProjection: Projection<Timeline> = {
  initial: initialTimeline,
  reduce: reduceTimeline,
  keyOf: (event) => (event.type.startsWith('toolcall.') ? `${event.runId}/${event.actorId}` : undefined),
};
