// Workflow run projection: a workflow run's status, steps under way, state, computed fields and outcome, from its events.
import type { EventEnvelope } from '../../events/envelope.js';
import type { WorkflowErrorData } from '../../events/workflowEvents.js';
import type { WorkflowStatus } from '../../machines/workflowTypes.js';
import type { Projection } from './projection.js';

type Data = Record<string, unknown>;

/** `interrupted`: not ended, and no live process owns it (it died; `retrace resume` continues it). */
export type ObservedRunStatus = WorkflowStatus | 'interrupted';

// Every field is always present (undefined when unknown): objects of one shape keep a long replay fast.
export interface WorkflowRunView {
  runId: string;
  name: string;
  file: string;
  status: WorkflowStatus;
  startedAt: number | undefined;
  endedAt: number | undefined;
  /** Actor ids of the steps started and not yet ended (`deploy`, `per_region[1].record`). */
  currentSteps: readonly string[];
  /** Steps executed, nested ones included (the final's `steps`); while running, those ended plus those under way. */
  steps: number;
  /** Steps that ended (succeeded, failed, skipped, recovered, cancelled). */
  stepsEnded: number;
  /** The initial state (when the start recorded it) with every `state.updated` of the run's own workflow applied. */
  state: Readonly<Data>;
  computed: Readonly<Data>;
  /** A `return` step's value once the run succeeded; null otherwise, as `retrace run --json` prints it. */
  result: unknown;
  error: WorkflowErrorData | undefined;
  /** The step an escalated run waits on: a person decides (`retrace resolve`). */
  waitingStep: string | undefined;
  lastSeq: number;
}

/** `retrace run --json`'s last line, and `retrace status RUN --json`'s. */
export interface WorkflowRunFinal {
  runId: string;
  status: ObservedRunStatus;
  state: Readonly<Data>;
  result: unknown;
  error?: WorkflowErrorData;
}

export const initialWorkflowRun: WorkflowRunView = {
  runId: '',
  name: '',
  file: '',
  status: 'running',
  startedAt: undefined,
  endedAt: undefined,
  currentSteps: [],
  steps: 0,
  stepsEnded: 0,
  state: {},
  computed: {},
  result: null,
  error: undefined,
  waitingStep: undefined,
  lastSeq: 0,
};

const stepEnds = new Set([
  'workflow.step.succeeded',
  'workflow.step.failed',
  'workflow.step.skipped',
  'workflow.step.fallback',
  'workflow.step.cancelled',
]);

const endings: Readonly<Record<string, Exclude<WorkflowStatus, 'running'>>> = {
  'workflow.succeeded': 'succeeded',
  'workflow.failed': 'failed',
  'workflow.escalated': 'escalated',
  'workflow.cancelled': 'cancelled',
};

const isRecord = (value: unknown): value is Data =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A copy of `target` with `value` at `path` (removed when `remove`), copying only the objects along the path. */
export function withValueAt(target: Readonly<Data>, path: readonly string[], value: unknown, remove = false): Data {
  const [head, ...rest] = path;
  if (head === undefined) return isRecord(value) ? value : { ...target };
  const next: Data = { ...target };
  if (rest.length === 0) {
    if (remove) delete next[head];
    else next[head] = value;
    return next;
  }
  const child = next[head];
  next[head] = withValueAt(isRecord(child) ? child : {}, rest, value, remove);
  return next;
}

/** Whether the event is about the run's own workflow (a sub-workflow's events have its own actor and a parent). */
const ownWorkflow = (event: EventEnvelope): boolean => event.actorId === event.runId;

export function reduceWorkflowRun(view: WorkflowRunView, event: EventEnvelope): WorkflowRunView {
  if (!event.type.startsWith('workflow.')) return view;
  const { data, ts, actorId } = event;
  const next: WorkflowRunView = { ...view, runId: event.runId, lastSeq: Math.max(view.lastSeq, event.seq) };
  switch (event.type) {
    case 'workflow.started':
      if (!ownWorkflow(event)) return next;
      next.name = typeof data['name'] === 'string' ? data['name'] : '';
      next.file = typeof data['file'] === 'string' ? data['file'] : '';
      next.startedAt ??= ts;
      if (isRecord(data['state'])) next.state = data['state'];
      return next;
    case 'workflow.step.started':
      if (!view.currentSteps.includes(actorId)) {
        next.currentSteps = [...view.currentSteps, actorId];
        next.steps = next.stepsEnded + next.currentSteps.length;
      }
      return next;
    case 'workflow.state.updated': {
      if (!ownWorkflow(event) || !Array.isArray(data['path'])) return next;
      const path = data['path'].map(String);
      next.state = withValueAt(view.state, path, data['value'], data['op'] === 'delete');
      return next;
    }
    case 'workflow.computed.evaluated':
      if (ownWorkflow(event) && typeof data['field'] === 'string' && data['error'] === undefined) {
        // The trace names the field as expressions do (`computed.total`); the computed object is keyed by its name.
        next.computed = { ...view.computed, [data['field'].replace(/^computed\./, '')]: data['output'] };
      }
      return next;
    case 'workflow.resolved':
      // A person's decision on an escalated run: it runs on (the resume branch records this event).
      next.status = 'running';
      next.endedAt = undefined;
      next.error = undefined;
      next.waitingStep = undefined;
      return next;
    default:
      break;
  }
  if (stepEnds.has(event.type)) {
    next.currentSteps = view.currentSteps.filter((id) => id !== actorId);
    next.stepsEnded = view.stepsEnded + 1;
    next.steps = next.stepsEnded + next.currentSteps.length;
    return next;
  }
  const status = ownWorkflow(event) ? endings[event.type] : undefined;
  if (status === undefined) return next;
  const error = isRecord(data['error']) ? (data['error'] as WorkflowErrorData) : undefined;
  next.status = status;
  next.endedAt = ts;
  next.currentSteps = [];
  if (typeof data['steps'] === 'number') next.steps = data['steps'];
  next.result = status === 'succeeded' ? (data['result'] ?? null) : null;
  next.error = status === 'succeeded' ? undefined : error;
  next.waitingStep = status === 'escalated' ? error?.step_id : undefined;
  return next;
}

/** One view per workflow run; runs that are not workflows' (a lone tool call's, breakers') stay out. */
export const workflowRunProjection: Projection<WorkflowRunView> = {
  initial: initialWorkflowRun,
  reduce: reduceWorkflowRun,
  keyOf: (event) => (event.type.startsWith('workflow.') ? event.runId : undefined),
};

/** The view's status once liveness is known: a run that has not ended and has no live owner is `interrupted`. */
export function statusWithOwner(view: WorkflowRunView, ownerAlive: boolean): ObservedRunStatus {
  return view.status === 'running' && !ownerAlive ? 'interrupted' : view.status;
}

/** `{ runId, status, state, result, error? }`: for an ended run exactly `retrace run --json`'s last line. */
export function workflowRunFinal(view: WorkflowRunView, status: ObservedRunStatus = view.status): WorkflowRunFinal {
  return {
    runId: view.runId,
    status,
    state: view.state,
    result: view.result,
    ...(view.error === undefined ? {} : { error: view.error }),
  };
}
