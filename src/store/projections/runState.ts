// Run state projection: a run's status, current tool, attempts with timing and classification, pending backoff, outcome.
import type { EventEnvelope } from '../../events/envelope.js';
import { terminalStatus, type RunSummary } from '../eventStore.js';
import {
  readAttemptFailed,
  readAttemptStarted,
  readBackoff,
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

export type RunStatus = 'running' | Exclude<RunSummary['status'], 'running'>;

export interface AttemptView extends ToolRef {
  callId: string;
  n: number;
  route?: Route;
  startedAt: number;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  endedAt?: number;
  durationMs?: number;
  failure?: FailureView;
  decision?: string;
  reason?: string;
}

export interface PendingBackoff {
  callId: string;
  n: number;
  delayMs: number;
  /** Clock time the retry is due. */
  until: number;
  retryAfter: boolean;
}

export interface RunOutcome {
  /** `succeeded | fallback | cached | partial | skipped` for a success, `failed`, `escalated`. */
  status: string;
  at: number;
  tool?: ToolRef;
  error?: FailureView;
  escalation?: EscalationView;
}

export interface RunState {
  runId: string;
  status: RunStatus;
  /** The first tool call of the run (its actorId). */
  callId?: string;
  current?: ToolRef;
  attempts: readonly AttemptView[];
  pendingBackoff?: PendingBackoff;
  outcome?: RunOutcome;
  startedAt?: number;
  finishedAt?: number;
  lastSeq: number;
  events: number;
}

export const initialRunState: RunState = { runId: '', status: 'running', attempts: [], lastSeq: 0, events: 0 };

function withoutBackoff(state: RunState): RunState {
  if (state.pendingBackoff === undefined) return state;
  const { pendingBackoff: _dropped, ...rest } = state;
  return rest;
}

/** Replaces the latest attempt `n` of a call (attempt numbers run on across a call's fallbacks). */
function updateAttempt(
  attempts: readonly AttemptView[],
  callId: string,
  n: number,
  change: (attempt: AttemptView) => AttemptView,
): readonly AttemptView[] | undefined {
  for (let i = attempts.length - 1; i >= 0; i -= 1) {
    const attempt = attempts[i];
    if (attempt && attempt.callId === callId && attempt.n === n) {
      const next = attempts.slice();
      next[i] = change(attempt);
      return next;
    }
  }
  return undefined;
}

function ended(attempt: AttemptView, at: number, status: AttemptView['status']): AttemptView {
  return { ...attempt, status, endedAt: at, durationMs: Math.max(0, at - attempt.startedAt) };
}

function applyToolCall(state: RunState, event: EventEnvelope): RunState {
  const { data, ts, actorId: callId } = event;
  const tool = toolOf(data);
  switch (event.type) {
    case 'toolcall.requested': {
      const next: RunState = { ...state, startedAt: state.startedAt ?? ts };
      if (state.callId === undefined) next.callId = callId;
      if (tool && state.current === undefined) next.current = tool;
      return next;
    }
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      const attempt: AttemptView = {
        callId,
        n,
        server: tool?.server ?? '',
        tool: tool?.tool ?? '',
        startedAt: ts,
        status: 'running',
      };
      if (route) attempt.route = route;
      const next = withoutBackoff({ ...state, attempts: [...state.attempts, attempt] });
      if (tool) next.current = tool;
      return next;
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const close = (attempt: AttemptView): AttemptView => ({
        ...attempt,
        status: 'failed',
        endedAt: ts,
        durationMs: failed.durationMs,
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      });
      const running = state.attempts.findLast((a) => a.callId === callId && a.n === failed.n && a.status === 'running');
      const attempts = running
        ? (updateAttempt(state.attempts, callId, failed.n, close) ?? state.attempts)
        : // A short-circuited attempt never started: the breaker refused it.
          [
            ...state.attempts,
            close({
              callId,
              n: failed.n,
              server: tool?.server ?? '',
              tool: tool?.tool ?? '',
              startedAt: ts,
              status: 'running',
            }),
          ];
      return withoutBackoff({ ...state, attempts });
    }
    case 'toolcall.backoff.scheduled': {
      const backoff = readBackoff(data, ts);
      return { ...state, pendingBackoff: { callId, ...backoff } };
    }
    case 'toolcall.fallback.started': {
      const { to } = readFallback(data);
      return to ? { ...state, current: to } : state;
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const attempts =
        n === undefined
          ? state.attempts
          : (updateAttempt(state.attempts, callId, n, (a) => ended(a, ts, 'succeeded')) ?? state.attempts);
      const outcome: RunOutcome = { status, at: ts };
      if (tool) outcome.tool = tool;
      return withoutBackoff({ ...state, attempts, outcome });
    }
    case 'toolcall.failed': {
      const { error } = readFailed(data);
      const attempts = state.attempts.map((a) =>
        a.callId === callId && a.status === 'running' ? ended(a, ts, 'abandoned') : a,
      );
      const outcome: RunOutcome = { status: 'failed', at: ts };
      if (error) outcome.error = error;
      return withoutBackoff({ ...state, attempts, outcome });
    }
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      const outcome: RunOutcome = { status: 'escalated', at: ts };
      if (escalation) {
        outcome.escalation = escalation;
        outcome.tool = { server: escalation.server, tool: escalation.tool };
      }
      return withoutBackoff({ ...state, outcome });
    }
    default:
      return state;
  }
}

export function reduceRunState(state: RunState, event: EventEnvelope): RunState {
  const next = applyToolCall(state, event);
  const status = terminalStatus(event.type) ?? next.status;
  const base: RunState = {
    ...next,
    runId: event.runId,
    status,
    lastSeq: Math.max(next.lastSeq, event.seq),
    events: next.events + 1,
  };
  if (status !== 'running' && base.finishedAt === undefined) base.finishedAt = event.ts;
  return base;
}

/** One state per run; breaker events (runtime-wide facts) do not belong to a run's state. */
export const runStateProjection: Projection<RunState> = {
  initial: initialRunState,
  reduce: reduceRunState,
  keyOf: (event) => (event.type.startsWith('breaker.') ? undefined : event.runId),
};
