// Resumption: a tool call's resumable state rebuilt from its events, and a pending backoff's remaining delay at `now`.
import type { EventEnvelope } from '../../events/envelope.js';
import {
  readAttemptFailed,
  readAttemptStarted,
  readBackoff,
  readFallback,
  readSucceeded,
  toolOf,
  type Route,
  type ToolRef,
} from './eventData.js';
import type { Projection } from './projection.js';

export interface InFlightAttempt extends ToolRef {
  n: number;
  startedAt: number;
}

export interface ScheduledBackoff {
  /** The attempt that failed and is to be retried. */
  n: number;
  delayMs: number;
  /** Clock time the retry is due, as recorded: a resumed call keeps this deadline. */
  until: number;
}

export interface ToolCallResumeState {
  runId: string;
  callId: string;
  /** The tool first asked for. */
  requested?: ToolRef;
  /** The tool the call is on; absent right after a switch to the synchronous path, until its first attempt starts. */
  current?: ToolRef;
  route: Route;
  /** Fallbacks started, i.e. the fallback chain index + 1. */
  fallbacksStarted: number;
  /** The number of the last attempt (attempt numbers run on across tools; short-circuited ones count). */
  attempts: number;
  /** Retries used on the current tool. */
  retriesOnTarget: number;
  backoff?: ScheduledBackoff;
  /** An attempt started and never ended: a crash cut it off, and it may have taken effect. */
  inFlight?: InFlightAttempt;
  cacheTried: boolean;
  /** Set once the call ended: `succeeded | fallback | cached | partial | skipped | failed | escalated`. */
  finished?: { status: string; at: number };
  /** The latest event's clock time: the call's logical now. */
  lastTs: number;
}

export const initialResumeState: ToolCallResumeState = {
  runId: '',
  callId: '',
  route: 'primary',
  fallbacksStarted: 0,
  attempts: 0,
  retriesOnTarget: 0,
  cacheTried: false,
  lastTs: 0,
};

function settled(state: ToolCallResumeState): ToolCallResumeState {
  if (state.inFlight === undefined && state.backoff === undefined) return state;
  const { inFlight: _attempt, backoff: _backoff, ...rest } = state;
  return rest;
}

function finished(state: ToolCallResumeState, status: string, at: number): ToolCallResumeState {
  return { ...settled(state), finished: { status, at } };
}

function applyEvent(state: ToolCallResumeState, event: EventEnvelope): ToolCallResumeState {
  const { data, ts } = event;
  const tool = toolOf(data);
  switch (event.type) {
    case 'toolcall.requested':
      return tool ? { ...state, requested: tool, current: tool } : state;
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      const next: ToolCallResumeState = {
        ...settled(state),
        attempts: Math.max(state.attempts, n),
        route: route ?? state.route,
      };
      if (tool) {
        next.current = tool;
        next.inFlight = { ...tool, n, startedAt: ts };
      }
      return next;
    }
    case 'toolcall.attempt.failed': {
      const { n, decision } = readAttemptFailed(data);
      const next: ToolCallResumeState = { ...settled(state), attempts: Math.max(state.attempts, n) };
      if (decision === 'sync_alternative') {
        const { current: _left, ...rest } = next;
        return { ...rest, route: 'sync', retriesOnTarget: 0 };
      }
      return next;
    }
    case 'toolcall.backoff.scheduled': {
      const { n, delayMs, until } = readBackoff(data, ts);
      return { ...state, retriesOnTarget: state.retriesOnTarget + 1, backoff: { n, delayMs, until } };
    }
    case 'toolcall.fallback.started': {
      const { to } = readFallback(data);
      const next: ToolCallResumeState = {
        ...settled(state),
        fallbacksStarted: state.fallbacksStarted + 1,
        retriesOnTarget: 0,
        route: 'fallback',
      };
      if (to) next.current = to;
      return next;
    }
    case 'toolcall.cache.hit':
    case 'toolcall.cache.miss':
      return { ...state, cacheTried: true };
    case 'toolcall.succeeded':
      return finished(state, readSucceeded(data).status, ts);
    case 'toolcall.failed':
      return finished(state, 'failed', ts);
    case 'toolcall.escalated':
      return finished(state, 'escalated', ts);
    default:
      return state;
  }
}

export function reduceResumeState(state: ToolCallResumeState, event: EventEnvelope): ToolCallResumeState {
  if (!event.type.startsWith('toolcall.')) return state;
  const next = applyEvent(state, event);
  return { ...next, runId: event.runId, callId: event.actorId, lastTs: Math.max(state.lastTs, event.ts) };
}

/** One state per tool call, keyed `runId/callId`, like the timelines. */
export const resumeStateProjection: Projection<ToolCallResumeState> = {
  initial: initialResumeState,
  reduce: reduceResumeState,
  keyOf: (event) => (event.type.startsWith('toolcall.') ? `${event.runId}/${event.actorId}` : undefined),
};

/** How long a pending backoff still has to run at `now`: 0 once its recorded deadline has passed. */
export function remainingBackoffMs(backoff: ScheduledBackoff, now: number): number {
  return Math.max(0, backoff.until - now);
}

export interface ResumePoint extends ToolCallResumeState {
  /** What the workflow engine should do next with this call. */
  next: 'done' | 'wait' | 'attempt' | 'recover_in_flight';
  /** With `wait`: the backoff's remaining delay at `now` (0 if overdue: retry at once). */
  remainingMs?: number;
}

/** Rebuilds one call's resumable state from its events (in seq order) and says how to continue at `now`. */
export function resumeToolCall(events: Iterable<EventEnvelope>, now: number): ResumePoint {
  let state = initialResumeState;
  for (const event of events) state = reduceResumeState(state, event);
  return resumePointOf(state, now);
}

export function resumePointOf(state: ToolCallResumeState, now: number): ResumePoint {
  if (state.finished) return { ...state, next: 'done' };
  if (state.backoff) return { ...state, next: 'wait', remainingMs: remainingBackoffMs(state.backoff, now) };
  if (state.inFlight) return { ...state, next: 'recover_in_flight' };
  return { ...state, next: 'attempt' };
}
