// Workflow timeline projection: a workflow run's step actors (nested), each with its attempts, backoffs, fallback,
// tool calls, state changes and computed evaluations (the items in workflowSpans.ts).
import type { EventEnvelope } from '../../events/envelope.js';
import { terminalStatus } from '../eventStore.js';
import { replaceAt, type Projection } from './projection.js';
import { initialTimeline, reduceTimeline } from './timeline.js';
import {
  readAttempt,
  readBreakerChange,
  readComputed,
  readStateUpdated,
  readStep,
  readStepRetrying,
  readStepsExecuted,
  readWarning,
  readWorkflowError,
  readWorkflowStarted,
  type WorkflowErrorView,
} from './workflowData.js';
import {
  initialWorkflowTimeline,
  type ComputedSpan,
  type StateChangeSpan,
  type StepAttemptSpan,
  type StepSpan,
  type StepSpanStatus,
  type SubWorkflowSpan,
  type WorkflowTimeline,
} from './workflowSpans.js';

function copyOf(state: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  return {
    runId: state.runId,
    actorId: state.actorId,
    name: state.name,
    file: state.file,
    status: state.status,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    lastSeq: state.lastSeq < event.seq ? event.seq : state.lastSeq,
    steps: state.steps,
    computed: state.computed,
    stateUpdates: state.stateUpdates,
    calls: state.calls,
    warnings: state.warnings,
    breakers: state.breakers,
    final: state.final,
    updaters: state.updaters,
  };
}

/** The index of the latest step span of `actorId`, or -1. */
function latestStep(steps: readonly StepSpan[], actorId: string): number {
  for (let i = steps.length - 1; i >= 0; i -= 1) if (steps[i]?.actorId === actorId) return i;
  return -1;
}

/** Where a step whose events name `parentId` sits: under a step, or under the sub-workflow a step ran. */
function placeOf(
  state: WorkflowTimeline,
  parentId: string | undefined,
): Pick<StepSpan, 'parentKey' | 'depth' | 'workflowActorId'> {
  if (parentId === undefined || parentId === state.actorId) {
    return { parentKey: undefined, depth: 0, workflowActorId: state.actorId };
  }
  for (let i = state.steps.length - 1; i >= 0; i -= 1) {
    const step = state.steps[i] as StepSpan;
    if (step.actorId === parentId)
      return { parentKey: step.key, depth: step.depth + 1, workflowActorId: step.workflowActorId };
    if (step.workflow?.actorId === parentId)
      return { parentKey: step.key, depth: step.depth + 1, workflowActorId: parentId };
  }
  return { parentKey: undefined, depth: 0, workflowActorId: parentId };
}

function newStep(state: WorkflowTimeline, event: EventEnvelope, earlier: number): StepSpan {
  const { stepId, stepType } = readStep(event.data);
  let runs = 0;
  for (const step of state.steps) if (step.actorId === event.actorId) runs += 1;
  return {
    key: earlier < 0 ? event.actorId : `${event.actorId}@${runs + 1}`,
    actorId: event.actorId,
    stepId,
    type: stepType,
    ...placeOf(state, event.parentId),
    startedAt: event.ts,
    endedAt: undefined,
    status: 'running',
    attempts: [],
    backoffs: [],
    fallback: undefined,
    skipReason: undefined,
    cancelReason: undefined,
    error: undefined,
    result: undefined,
    calls: [],
    stateUpdates: [],
    computed: [],
    workflow: undefined,
  };
}

/** The running attempt ended with `outcome` at `at`; the attempts as they were when none is running. */
function endAttempt(
  attempts: readonly StepAttemptSpan[],
  at: number,
  outcome: StepAttemptSpan['outcome'],
  error: WorkflowErrorView | undefined,
): readonly StepAttemptSpan[] {
  const last = attempts.at(-1);
  if (last === undefined || last.outcome !== 'running') return attempts;
  return replaceAt(attempts, attempts.length - 1, {
    n: last.n,
    startedAt: last.startedAt,
    endedAt: at,
    outcome,
    error,
  });
}

function ended(step: StepSpan, at: number, status: StepSpanStatus): StepSpan {
  return { ...step, status, endedAt: at };
}

/** A `workflow.step.*` event: the step span it opens, advances or ends. */
function reduceStep(next: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const { type, data, ts } = event;
  const steps = next.steps;
  let index = latestStep(steps, event.actorId);
  const opens = type === 'workflow.step.skipped' || (type === 'workflow.step.started' && readAttempt(data) === 1);
  if (opens && (index < 0 || (steps[index] as StepSpan).endedAt !== undefined)) {
    next.steps = [...steps, newStep(next, event, index)];
    index = next.steps.length - 1;
  }
  const step = next.steps[index];
  if (step === undefined) return next;
  const error = readWorkflowError(data.error);
  let changed: StepSpan;
  switch (type) {
    case 'workflow.step.started': {
      const attempt: StepAttemptSpan = {
        n: readAttempt(data),
        startedAt: ts,
        endedAt: undefined,
        outcome: 'running',
        error: undefined,
      };
      changed = { ...step, status: 'running', attempts: [...step.attempts, attempt] };
      // A run resolved after an escalation runs on.
      next.status = 'running';
      next.endedAt = undefined;
      break;
    }
    case 'workflow.step.retrying': {
      const { attempt, delayMs, until } = readStepRetrying(data, ts);
      changed = {
        ...step,
        status: 'backoff',
        attempts: endAttempt(step.attempts, ts, 'failed', error),
        backoffs: [...step.backoffs, { afterAttempt: attempt, startedAt: ts, endedAt: until, delayMs }],
      };
      break;
    }
    case 'workflow.step.succeeded':
      changed = { ...ended(step, ts, 'succeeded'), attempts: endAttempt(step.attempts, ts, 'succeeded', undefined) };
      changed.result = data.result;
      break;
    case 'workflow.step.failed':
      changed = { ...ended(step, ts, 'failed'), attempts: endAttempt(step.attempts, ts, 'failed', error), error };
      break;
    case 'workflow.step.fallback':
      changed = { ...ended(step, ts, 'fallback'), attempts: endAttempt(step.attempts, ts, 'failed', error), error };
      changed.fallback = {
        startedAt: ts,
        endedAt: ts,
        strategy: typeof data.strategy === 'string' ? data.strategy : 'fallback',
        value: data.value,
        error,
      };
      break;
    case 'workflow.step.cancelled':
      changed = { ...ended(step, ts, 'cancelled'), attempts: endAttempt(step.attempts, ts, 'cancelled', error) };
      changed.cancelReason = typeof data.reason === 'string' ? data.reason : 'cancelled';
      break;
    case 'workflow.step.skipped':
      changed = ended(step, ts, 'skipped');
      changed.skipReason = typeof data.reason === 'string' ? data.reason : 'when';
      break;
    default:
      return next;
  }
  next.steps = replaceAt(next.steps, index, changed);
  return next;
}

/** The running step of workflow actor `workflowActorId` with this step id (the latest started), or -1. */
function runningStep(steps: readonly StepSpan[], workflowActorId: string, stepId: string): number {
  for (let i = steps.length - 1; i >= 0; i -= 1) {
    const step = steps[i] as StepSpan;
    if (step.endedAt === undefined && step.stepId === stepId && step.workflowActorId === workflowActorId) return i;
  }
  return -1;
}

function withUpdater(next: WorkflowTimeline, workflowActorId: string, key: string): void {
  const others = next.updaters.filter((updater) => updater.workflowActorId !== workflowActorId);
  next.updaters = key === '' ? others : [...others, { workflowActorId, key }];
}

function reduceStateUpdated(next: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const { stepId, path, op, value } = readStateUpdated(event.data);
  const change: StateChangeSpan = { startedAt: event.ts, endedAt: event.ts, path, op, value };
  const index = runningStep(next.steps, event.actorId, stepId);
  const step = next.steps[index];
  if (step === undefined) {
    next.stateUpdates = [...next.stateUpdates, change];
    withUpdater(next, event.actorId, '');
    return next;
  }
  next.steps = replaceAt(next.steps, index, { ...step, stateUpdates: [...step.stateUpdates, change] });
  withUpdater(next, event.actorId, step.key);
  return next;
}

function reduceComputed(next: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const { field, trigger, output, durationMs, error } = readComputed(event.data);
  const span: ComputedSpan = {
    startedAt: event.ts - durationMs,
    endedAt: event.ts,
    field,
    trigger,
    output,
    durationMs,
    error,
  };
  const key = next.updaters.find((updater) => updater.workflowActorId === event.actorId)?.key;
  let index = -1;
  if (key !== undefined && trigger !== 'initial') {
    for (let i = next.steps.length - 1; i >= 0 && index < 0; i -= 1) if (next.steps[i]?.key === key) index = i;
  }
  const step = next.steps[index];
  if (step === undefined) next.computed = [...next.computed, span];
  else next.steps = replaceAt(next.steps, index, { ...step, computed: [...step.computed, span] });
  return next;
}

/** A tool call's event: folded into the call's own timeline, under the step that made it. */
function reduceCall(next: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const index = event.parentId === undefined ? -1 : latestStep(next.steps, event.parentId);
  const step = next.steps[index];
  const calls = step ? step.calls : next.calls;
  const at = calls.findIndex((call) => call.callId === event.actorId);
  const before = calls[at] ?? initialTimeline;
  const after = reduceTimeline(before, event);
  if (after === before) return next;
  const changed = at < 0 ? [...calls, after] : replaceAt(calls, at, after);
  if (step) next.steps = replaceAt(next.steps, index, { ...step, calls: changed });
  else next.calls = changed;
  return next;
}

/** A workflow's start or end: the run's own, or a sub-workflow's (it has a parent: the step that ran it). */
function reduceWorkflow(next: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const { type, data, ts } = event;
  const status = terminalStatus(type);
  const index = event.parentId === undefined ? -1 : latestStep(next.steps, event.parentId);
  const step = next.steps[index];
  if (type === 'workflow.started') {
    if (step === undefined) return next;
    const { name } = readWorkflowStarted(data);
    const workflow: SubWorkflowSpan = {
      actorId: event.actorId,
      name,
      startedAt: ts,
      endedAt: undefined,
      status: 'running',
    };
    next.steps = replaceAt(next.steps, index, { ...step, workflow });
    return next;
  }
  if (status === undefined || status === 'running') return next;
  if (event.actorId !== next.actorId) {
    if (step?.workflow === undefined) return next;
    next.steps = replaceAt(next.steps, index, { ...step, workflow: { ...step.workflow, endedAt: ts, status } });
    return next;
  }
  next.status = status;
  next.endedAt = ts;
  next.final = {
    status,
    at: ts,
    result: data.result,
    error: readWorkflowError(data.error),
    steps: readStepsExecuted(data),
  };
  return next;
}

export function reduceWorkflowTimeline(state: WorkflowTimeline, event: EventEnvelope): WorkflowTimeline {
  const { type } = event;
  if (state.runId === '') {
    // A run is a workflow's from its first event on; any other run has no workflow timeline.
    if (type !== 'workflow.started' || event.parentId !== undefined) return state;
    const next = copyOf(state, event);
    const { name, file } = readWorkflowStarted(event.data);
    next.runId = event.runId;
    next.actorId = event.actorId;
    next.name = name;
    next.file = file;
    next.startedAt = event.ts;
    return next;
  }
  const next = copyOf(state, event);
  if (type.startsWith('workflow.step.')) return reduceStep(next, event);
  if (type.startsWith('toolcall.')) return reduceCall(next, event);
  switch (type) {
    case 'workflow.state.updated':
      return reduceStateUpdated(next, event);
    case 'workflow.computed.evaluated':
      return reduceComputed(next, event);
    case 'workflow.warning': {
      const { message, stateBytes } = readWarning(event.data);
      next.warnings = [...next.warnings, { startedAt: event.ts, endedAt: event.ts, message, stateBytes }];
      return next;
    }
    default:
      break;
  }
  if (type.startsWith('breaker.')) {
    const { reason, openUntil } = readBreakerChange(event.data);
    const change = type.slice('breaker.'.length);
    next.breakers = [
      ...next.breakers,
      { startedAt: event.ts, endedAt: event.ts, key: event.actorId, change, reason, openUntil },
    ];
    return next;
  }
  if (type.startsWith('workflow.')) return reduceWorkflow(next, event);
  return next;
}

/**
 * One timeline per workflow run, keyed by runId. A run that does not start with `workflow.started` gets none; the
 * events of a tool-call-only run (no parent) are not even looked at.
 */
export const workflowTimelineProjection: Projection<WorkflowTimeline> = {
  initial: initialWorkflowTimeline,
  reduce: reduceWorkflowTimeline,
  keyOf: (event) =>
    event.type.startsWith('workflow.') || event.parentId !== undefined || event.type.startsWith('breaker.')
      ? event.runId
      : undefined,
};
