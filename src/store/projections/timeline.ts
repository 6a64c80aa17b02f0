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

const noTool: ToolRef = { server: '', tool: '' };

/** Every running attempt of the call is cut off (abandoned) by its failure. */
function abandonRunning(spans: readonly TimelineSpan[], at: number): readonly TimelineSpan[] {
  let next: TimelineSpan[] | undefined;
  for (let i = 0; i < spans.length; i += 1) {
    const span = spans[i] as TimelineSpan;
    if (span.kind === 'attempt' && span.status === 'running') {
      next ??= spans.slice();
      next[i] = endAttempt(span, at, 'abandoned');
    }
  }
  return next ?? spans;
}

export function reduceTimeline(state: Timeline, event: EventEnvelope): Timeline {
  const { type, data, ts } = event;
  if (!type.startsWith('toolcall.')) return state;
  // A copy with every field listed (one object shape), changed below before it is returned.
  const next: Timeline = {
    runId: event.runId,
    callId: event.actorId,
    requested: state.requested,
    startedAt: state.startedAt,
    spans: state.spans,
    outcome: state.outcome,
  };
  const { spans } = state;
  switch (type) {
    case 'toolcall.requested':
      next.requested = toolOf(data) ?? state.requested;
      next.startedAt = ts;
      return next;
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      next.spans = [...spans, attemptSpan(toolOf(data) ?? noTool, n, route, ts)];
      return next;
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const index = lastRunningAttempt(spans, failed.n);
      // A short-circuited attempt never started: the breaker refused it on the spot.
      const base =
        index < 0 ? attemptSpan(toolOf(data) ?? noTool, failed.n, undefined, ts) : (spans[index] as AttemptSpan);
      const span: AttemptSpan = {
        kind: 'attempt',
        server: base.server,
        tool: base.tool,
        n: base.n,
        route: base.route,
        startedAt: base.startedAt,
        endedAt: ts,
        durationMs: failed.durationMs,
        status: 'failed',
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      };
      next.spans = index < 0 ? [...spans, span] : replaceAt(spans, index, span);
      return next;
    }
    case 'toolcall.backoff.scheduled': {
      const { n, delayMs, until, retryAfter } = readBackoff(data, ts);
      next.spans = [...spans, { kind: 'backoff', n, startedAt: ts, until, delayMs, retryAfter }];
      return next;
    }
    case 'toolcall.fallback.started': {
      const { to, reason } = readFallback(data);
      next.spans = [...spans, { kind: 'fallback', at: ts, from: toolOf(data) ?? noTool, to, reason }];
      return next;
    }
    case 'toolcall.cache.hit':
      next.spans = [...spans, cacheSpan(ts, true, readCacheHit(data).ageMs)];
      return next;
    case 'toolcall.cache.miss':
      next.spans = [...spans, cacheSpan(ts, false, typeof data.ageMs === 'number' ? data.ageMs : undefined)];
      return next;
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const index = n === undefined ? -1 : lastRunningAttempt(spans, n);
      if (index >= 0) next.spans = replaceAt(spans, index, endAttempt(spans[index] as AttemptSpan, ts, 'succeeded'));
      next.outcome = { status, at: ts, tool: toolOf(data) ?? noTool, error: undefined };
      return next;
    }
    case 'toolcall.failed':
      next.spans = abandonRunning(spans, ts);
      next.outcome = { status: 'failed', at: ts, tool: toolOf(data) ?? noTool, error: readFailed(data).error };
      return next;
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      if (escalation) next.spans = [...spans, { kind: 'escalation', at: ts, escalation }];
      next.outcome = { status: 'escalated', at: ts, tool: toolOf(data) ?? noTool, error: undefined };
      return next;
    }
    case 'toolcall.advisory.raised': {
      const advisory = readAdvisory(data);
      if (!advisory) return state.callId === event.actorId ? state : next;
      next.spans = [...spans, { kind: 'advisory', at: ts, ...advisory }];
      return next;
    }
    default:
      // A type this projection does not know changes nothing, once the call is named.
      return state.callId === event.actorId ? state : next;
  }
}

/** One timeline per tool call (its actorId), keyed `runId/callId`; breaker events belong to no call. */
export const timelineProjection: Projection<Timeline> = {
  initial: initialTimeline,
  reduce: reduceTimeline,
  keyOf: (event) => (event.type.startsWith('toolcall.') ? `${event.runId}/${event.actorId}` : undefined),
};
