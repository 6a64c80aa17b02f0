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
import { replaceAt, type Projection } from './projection.js';

export type RunStatus = 'running' | Exclude<RunSummary['status'], 'running'>;

// Every field is always present (undefined when unknown): objects of one shape keep a long replay fast.
export interface AttemptView extends ToolRef {
  callId: string;
  n: number;
  route: Route | undefined;
  startedAt: number;
  status: 'running' | 'succeeded' | 'failed' | 'abandoned';
  endedAt: number | undefined;
  durationMs: number | undefined;
  failure: FailureView | undefined;
  decision: string | undefined;
  reason: string | undefined;
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
  tool: ToolRef | undefined;
  error: FailureView | undefined;
  escalation: EscalationView | undefined;
}

export interface RunState {
  runId: string;
  status: RunStatus;
  /** The first tool call of the run (its actorId). */
  callId: string | undefined;
  current: ToolRef | undefined;
  attempts: readonly AttemptView[];
  pendingBackoff: PendingBackoff | undefined;
  outcome: RunOutcome | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  lastSeq: number;
  events: number;
}

export const initialRunState: RunState = {
  runId: '',
  status: 'running',
  callId: undefined,
  current: undefined,
  attempts: [],
  pendingBackoff: undefined,
  outcome: undefined,
  startedAt: undefined,
  finishedAt: undefined,
  lastSeq: 0,
  events: 0,
};

function attemptView(
  callId: string,
  n: number,
  tool: ToolRef | undefined,
  route: Route | undefined,
  at: number,
): AttemptView {
  return {
    callId,
    n,
    server: tool?.server ?? '',
    tool: tool?.tool ?? '',
    route,
    startedAt: at,
    status: 'running',
    endedAt: undefined,
    durationMs: undefined,
    failure: undefined,
    decision: undefined,
    reason: undefined,
  };
}

function outcomeOf(status: string, at: number, tool: ToolRef | undefined): RunOutcome {
  return { status, at, tool, error: undefined, escalation: undefined };
}

/** The index of a call's attempt `n` still running (attempt numbers run on across a call's fallbacks), or -1. */
function runningAttempt(attempts: readonly AttemptView[], callId: string, n: number): number {
  for (let i = attempts.length - 1; i >= 0; i -= 1) {
    const attempt = attempts[i];
    if (attempt !== undefined && attempt.callId === callId && attempt.n === n && attempt.status === 'running') return i;
  }
  return -1;
}

function ended(attempt: AttemptView, at: number, status: AttemptView['status']): AttemptView {
  return { ...attempt, status, endedAt: at, durationMs: Math.max(0, at - attempt.startedAt) };
}

/** The fields an event changes; the rest stay as they were. */
type Change = Partial<Pick<RunState, 'callId' | 'current' | 'attempts' | 'pendingBackoff' | 'outcome' | 'startedAt'>>;

function changeOf(state: RunState, event: EventEnvelope): Change | undefined {
  const { data, ts, actorId: callId } = event;
  const tool = toolOf(data);
  switch (event.type) {
    case 'toolcall.requested':
      return {
        startedAt: state.startedAt ?? ts,
        callId: state.callId ?? callId,
        current: state.current ?? tool,
      };
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      return {
        attempts: [...state.attempts, attemptView(callId, n, tool, route, ts)],
        pendingBackoff: undefined,
        current: tool ?? state.current,
      };
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const index = runningAttempt(state.attempts, callId, failed.n);
      // A short-circuited attempt never started: the breaker refused it.
      const base = state.attempts[index] ?? attemptView(callId, failed.n, tool, undefined, ts);
      const attempt: AttemptView = {
        ...base,
        status: 'failed',
        endedAt: ts,
        durationMs: failed.durationMs,
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      };
      return {
        attempts: index < 0 ? [...state.attempts, attempt] : replaceAt(state.attempts, index, attempt),
        pendingBackoff: undefined,
      };
    }
    case 'toolcall.backoff.scheduled':
      return { pendingBackoff: { callId, ...readBackoff(data, ts) } };
    case 'toolcall.fallback.started': {
      const { to } = readFallback(data);
      return to ? { current: to } : undefined;
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const index = n === undefined ? -1 : runningAttempt(state.attempts, callId, n);
      const attempt = state.attempts[index];
      return {
        attempts:
          attempt === undefined ? state.attempts : replaceAt(state.attempts, index, ended(attempt, ts, 'succeeded')),
        outcome: outcomeOf(status, ts, tool),
        pendingBackoff: undefined,
      };
    }
    case 'toolcall.failed': {
      const outcome = outcomeOf('failed', ts, tool);
      outcome.error = readFailed(data).error;
      const cutOff = state.attempts.some((a) => a.callId === callId && a.status === 'running');
      return {
        attempts: cutOff
          ? state.attempts.map((a) => (a.callId === callId && a.status === 'running' ? ended(a, ts, 'abandoned') : a))
          : state.attempts,
        outcome,
        pendingBackoff: undefined,
      };
    }
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      const outcome = outcomeOf(
        'escalated',
        ts,
        escalation ? { server: escalation.server, tool: escalation.tool } : tool,
      );
      outcome.escalation = escalation;
      return { outcome, pendingBackoff: undefined };
    }
    default:
      return undefined;
  }
}

export function reduceRunState(state: RunState, event: EventEnvelope): RunState {
  const change = changeOf(state, event) ?? {};
  const status = terminalStatus(event.type) ?? state.status;
  return {
    runId: event.runId,
    status,
    callId: 'callId' in change ? change.callId : state.callId,
    current: 'current' in change ? change.current : state.current,
    attempts: change.attempts ?? state.attempts,
    pendingBackoff: 'pendingBackoff' in change ? change.pendingBackoff : state.pendingBackoff,
    outcome: change.outcome ?? state.outcome,
    startedAt: 'startedAt' in change ? change.startedAt : state.startedAt,
    finishedAt: state.finishedAt ?? (status === 'running' ? undefined : event.ts),
    lastSeq: Math.max(state.lastSeq, event.seq),
    events: state.events + 1,
  };
}

/** One state per run; breaker events (runtime-wide facts) do not belong to a run's state. */
export const runStateProjection: Projection<RunState> = {
  initial: initialRunState,
  reduce: reduceRunState,
  keyOf: (event) => (event.type.startsWith('breaker.') ? undefined : event.runId),
};
