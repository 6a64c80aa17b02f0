// Timeline projection: per tool call, the spans of what happened (attempts, backoffs, fallbacks, cache, escalation, outcome).
import type { EventEnvelope } from '../../events/envelope.js';
import {
  readAttemptFailed,
  readAttemptStarted,
  readBackoff,
  readCacheHit,
  readEscalation,
  readFailed,
  readFallback,
  readSucceeded,
  toolOf,
  type EscalationView,
  type FailureView,
  type Route,
  type ToolRef,
} from './eventData.js';
import type { Projection } from './projection.js';

export interface AttemptSpan extends ToolRef {
  kind: 'attempt';
  n: number;
  route?: Route;
  startedAt: number;
  /** Absent while the attempt is under way. */
  endedAt?: number;
  durationMs?: number;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  failure?: FailureView;
  decision?: string;
  reason?: string;
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
  ageMs?: number;
}

export interface EscalationSpan {
  kind: 'escalation';
  at: number;
  escalation: EscalationView;
}

export type TimelineSpan = AttemptSpan | BackoffSpan | FallbackSpan | CacheSpan | EscalationSpan;

export interface TimelineOutcome {
  status: string;
  at: number;
  tool?: ToolRef;
  error?: FailureView;
}

export interface Timeline {
  runId: string;
  callId: string;
  /** The tool first asked for. */
  requested?: ToolRef;
  startedAt?: number;
  spans: readonly TimelineSpan[];
  outcome?: TimelineOutcome;
}

export const initialTimeline: Timeline = { runId: '', callId: '', spans: [] };

function lastRunningAttempt(spans: readonly TimelineSpan[], n: number): number {
  for (let i = spans.length - 1; i >= 0; i -= 1) {
    const span = spans[i];
    if (span?.kind === 'attempt' && span.n === n && span.status === 'running') return i;
  }
  return -1;
}

function replaced(spans: readonly TimelineSpan[], index: number, span: TimelineSpan): readonly TimelineSpan[] {
  const next = spans.slice();
  next[index] = span;
  return next;
}

function endAttempt(attempt: AttemptSpan, at: number, status: AttemptSpan['status']): AttemptSpan {
  return { ...attempt, status, endedAt: at, durationMs: Math.max(0, at - attempt.startedAt) };
}

function withSpans(state: Timeline, spans: readonly TimelineSpan[]): Timeline {
  return spans === state.spans ? state : { ...state, spans };
}

function applyEvent(state: Timeline, event: EventEnvelope): Timeline {
  const { data, ts } = event;
  const tool = toolOf(data) ?? { server: '', tool: '' };
  const spans = state.spans;
  switch (event.type) {
    case 'toolcall.requested':
      return { ...state, requested: tool, startedAt: ts };
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      const span: AttemptSpan = { kind: 'attempt', ...tool, n, startedAt: ts, status: 'running' };
      if (route) span.route = route;
      return withSpans(state, [...spans, span]);
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const index = lastRunningAttempt(spans, failed.n);
      const running = index < 0 ? undefined : (spans[index] as AttemptSpan);
      // A short-circuited attempt never started: the breaker refused it on the spot.
      const base: AttemptSpan = running ?? { kind: 'attempt', ...tool, n: failed.n, startedAt: ts, status: 'running' };
      const span: AttemptSpan = {
        ...base,
        status: 'failed',
        endedAt: ts,
        durationMs: failed.durationMs,
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      };
      return withSpans(state, index < 0 ? [...spans, span] : replaced(spans, index, span));
    }
    case 'toolcall.backoff.scheduled': {
      const backoff = readBackoff(data, ts);
      return withSpans(state, [...spans, { kind: 'backoff', startedAt: ts, ...backoff }]);
    }
    case 'toolcall.fallback.started': {
      const { to, reason } = readFallback(data);
      return withSpans(state, [...spans, { kind: 'fallback', at: ts, from: tool, to, reason }]);
    }
    case 'toolcall.cache.hit':
      return withSpans(state, [...spans, { kind: 'cache', at: ts, hit: true, ageMs: readCacheHit(data).ageMs }]);
    case 'toolcall.cache.miss': {
      const span: CacheSpan = { kind: 'cache', at: ts, hit: false };
      if (typeof data.ageMs === 'number') span.ageMs = data.ageMs;
      return withSpans(state, [...spans, span]);
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const index = n === undefined ? -1 : lastRunningAttempt(spans, n);
      const next = index < 0 ? spans : replaced(spans, index, endAttempt(spans[index] as AttemptSpan, ts, 'succeeded'));
      return { ...withSpans(state, next), outcome: { status, at: ts, tool } };
    }
    case 'toolcall.failed': {
      const { error } = readFailed(data);
      const next = spans.some((span) => span.kind === 'attempt' && span.status === 'running')
        ? spans.map((span) =>
            span.kind === 'attempt' && span.status === 'running' ? endAttempt(span, ts, 'abandoned') : span,
          )
        : spans;
      const outcome: TimelineOutcome = { status: 'failed', at: ts, tool };
      if (error) outcome.error = error;
      return { ...withSpans(state, next), outcome };
    }
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      const withSpan = escalation ? withSpans(state, [...spans, { kind: 'escalation', at: ts, escalation }]) : state;
      return { ...withSpan, outcome: { status: 'escalated', at: ts, tool } };
    }
    default:
      return state;
  }
}

export function reduceTimeline(state: Timeline, event: EventEnvelope): Timeline {
  if (!event.type.startsWith('toolcall.')) return state;
  const next = applyEvent(state, event);
  return next.callId === event.actorId ? next : { ...next, runId: event.runId, callId: event.actorId };
}

/** One timeline per tool call (its actorId), keyed `runId/callId`; breaker events belong to no call. */
export const timelineProjection: Projection<Timeline> = {
  initial: initialTimeline,
  reduce: reduceTimeline,
  keyOf: (event) => (event.type.startsWith('toolcall.') ? `${event.runId}/${event.actorId}` : undefined),
};
