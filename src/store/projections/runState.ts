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
import { initialWorkflowRun, reduceWorkflowRun, type WorkflowRunView } from './workflowRun.js';

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
  /** Undefined unless the run is a workflow's: the workflow run projection's view of it. */
  workflow: WorkflowRunView | undefined;
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
  workflow: undefined,
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

/** A copy with every field listed (one object shape), for the reducer to change before it returns it. */
function copyOf(state: RunState, event: EventEnvelope): RunState {
  return {
    runId: event.runId,
    status: state.status,
    callId: state.callId,
    current: state.current,
    attempts: state.attempts,
    pendingBackoff: state.pendingBackoff,
    outcome: state.outcome,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    lastSeq: state.lastSeq < event.seq ? event.seq : state.lastSeq,
    events: state.events + 1,
    workflow: state.workflow,
  };
}

/**
 * Marks the run ended by `event` (a terminal type): its status, and when it first ended. Inside a workflow run, a
 * tool call's end (the call has a parent, its step) does not end the run.
 */
function end(next: RunState, status: RunStatus, event: EventEnvelope): void {
  next.pendingBackoff = undefined;
  if (event.parentId !== undefined) return;
  next.status = status;
  next.finishedAt ??= event.ts;
}

/** A `workflow.*` event: folded by the workflow run projection; the run's own end ends the run. */
function reduceWorkflow(next: RunState, event: EventEnvelope): RunState {
  if (!next.workflow && event.type !== 'workflow.started') return next;
  next.workflow = reduceWorkflowRun(next.workflow ?? initialWorkflowRun, event);
  if (event.type === 'workflow.started') next.startedAt ??= event.ts;
  if (event.type === 'workflow.step.started') next.status = 'running';
  const status = event.parentId === undefined ? terminalStatus(event.type) : undefined;
  if (status !== undefined && status !== 'running') end(next, status, event);
  return next;
}

/** Attempts of `callId` still running at a call's failure are cut off (abandoned); the rest stay as they were. */
function abandonRunning(attempts: readonly AttemptView[], callId: string, at: number): readonly AttemptView[] {
  let next: AttemptView[] | undefined;
  for (let i = 0; i < attempts.length; i += 1) {
    const attempt = attempts[i] as AttemptView;
    if (attempt.callId === callId && attempt.status === 'running') {
      next ??= attempts.slice();
      next[i] = ended(attempt, at, 'abandoned');
    }
  }
  return next ?? attempts;
}

export function reduceRunState(state: RunState, event: EventEnvelope): RunState {
  const next = copyOf(state, event);
  const { data, ts, actorId: callId } = event;
  switch (event.type) {
    case 'toolcall.requested':
      next.startedAt ??= ts;
      next.callId ??= callId;
      next.current ??= toolOf(data);
      return next;
    case 'toolcall.attempt.started': {
      const { n, route } = readAttemptStarted(data);
      const tool = toolOf(data);
      next.attempts = [...state.attempts, attemptView(callId, n, tool, route, ts)];
      next.pendingBackoff = undefined;
      if (tool) next.current = tool;
      return next;
    }
    case 'toolcall.attempt.failed': {
      const failed = readAttemptFailed(data);
      const index = runningAttempt(state.attempts, callId, failed.n);
      // A short-circuited attempt never started: the breaker refused it.
      const base = state.attempts[index] ?? attemptView(callId, failed.n, toolOf(data), undefined, ts);
      const attempt: AttemptView = {
        callId: base.callId,
        n: base.n,
        server: base.server,
        tool: base.tool,
        route: base.route,
        startedAt: base.startedAt,
        status: 'failed',
        endedAt: ts,
        durationMs: failed.durationMs,
        failure: failed.failure,
        decision: failed.decision,
        reason: failed.reason,
      };
      next.attempts = index < 0 ? [...state.attempts, attempt] : replaceAt(state.attempts, index, attempt);
      next.pendingBackoff = undefined;
      return next;
    }
    case 'toolcall.backoff.scheduled':
      next.pendingBackoff = { callId, ...readBackoff(data, ts) };
      return next;
    case 'toolcall.fallback.started': {
      const { to } = readFallback(data);
      if (to) next.current = to;
      return next;
    }
    case 'toolcall.succeeded': {
      const { status, n } = readSucceeded(data);
      const index = n === undefined ? -1 : runningAttempt(state.attempts, callId, n);
      const attempt = state.attempts[index];
      if (attempt !== undefined) next.attempts = replaceAt(state.attempts, index, ended(attempt, ts, 'succeeded'));
      next.outcome = outcomeOf(status, ts, toolOf(data));
      end(next, 'succeeded', event);
      return next;
    }
    case 'toolcall.failed': {
      const outcome = outcomeOf('failed', ts, toolOf(data));
      outcome.error = readFailed(data).error;
      next.attempts = abandonRunning(state.attempts, callId, ts);
      next.outcome = outcome;
      end(next, 'failed', event);
      return next;
    }
    case 'toolcall.escalated': {
      const escalation = readEscalation(data);
      const outcome = outcomeOf(
        'escalated',
        ts,
        escalation ? { server: escalation.server, tool: escalation.tool } : toolOf(data),
      );
      outcome.escalation = escalation;
      next.outcome = outcome;
      end(next, 'escalated', event);
      return next;
    }
    default: {
      if (event.type.startsWith('workflow.')) return reduceWorkflow(next, event);
      // A terminal type this projection has no more to say about still ends the run.
      const status = terminalStatus(event.type);
      if (status !== undefined) {
        next.status = status;
        next.finishedAt ??= ts;
      }
      return next;
    }
  }
}

/** One state per run; breaker events (runtime-wide facts) do not belong to a run's state. */
export const runStateProjection: Projection<RunState> = {
  initial: initialRunState,
  reduce: reduceRunState,
  keyOf: (event) => (event.type.startsWith('breaker.') ? undefined : event.runId),
};
