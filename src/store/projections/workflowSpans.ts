// The workflow timeline's items: a run's step spans and what happened in each, every item with its start and end.
import type { Timeline } from './timeline.js';
import type { WorkflowErrorView, WorkflowRunStatus } from './workflowData.js';

// Every item has `startedAt` and `endedAt` (equal for an instant; undefined end while under way): a viewer draws
// each as a bar or a tick on one time axis. Every field is always present (one object shape per kind).

export type StepSpanStatus = 'running' | 'backoff' | 'succeeded' | 'failed' | 'skipped' | 'fallback' | 'cancelled';

export interface StepAttemptSpan {
  n: number;
  startedAt: number;
  endedAt: number | undefined;
  outcome: 'running' | 'succeeded' | 'failed' | 'cancelled';
  error: WorkflowErrorView | undefined;
}

/** The wait after a failed attempt (`on_error: retry`): the next attempt is due at `endedAt`. */
export interface StepBackoffSpan {
  afterAttempt: number;
  startedAt: number;
  endedAt: number;
  delayMs: number;
}

/** `on_error: fallback | continue`: the step's failure recovered, `value` its result from then on. */
export interface StepFallbackSpan {
  startedAt: number;
  endedAt: number;
  strategy: string;
  value: unknown;
  error: WorkflowErrorView | undefined;
}

export interface StateChangeSpan {
  startedAt: number;
  endedAt: number;
  /** Dotted (`raw.attempts`). */
  path: string;
  op: string;
  value: unknown;
}

export interface ComputedSpan {
  startedAt: number;
  endedAt: number;
  field: string;
  trigger: string;
  output: unknown;
  durationMs: number;
  error: string | undefined;
}

/** The workflow a `workflow` step ran. */
export interface SubWorkflowSpan {
  actorId: string;
  name: string;
  startedAt: number;
  endedAt: number | undefined;
  status: WorkflowRunStatus;
}

export interface StepSpan {
  /** Unique in the run: the actor id, with `@2`, `@3`… when the same actor id runs again later. */
  key: string;
  /** `deploy`, `per_region[1].record`, `notify/say`. */
  actorId: string;
  stepId: string;
  type: string;
  /** The key of the step this one runs inside (a conditional, parallel, foreach, poll or workflow step). */
  parentKey: string | undefined;
  depth: number;
  /** The workflow actor the step belongs to: the run's, or a sub-workflow's. */
  workflowActorId: string;
  startedAt: number;
  endedAt: number | undefined;
  status: StepSpanStatus;
  attempts: readonly StepAttemptSpan[];
  backoffs: readonly StepBackoffSpan[];
  fallback: StepFallbackSpan | undefined;
  skipReason: string | undefined;
  cancelReason: string | undefined;
  error: WorkflowErrorView | undefined;
  result: unknown;
  /** The tool calls of an mcp_call step (or a poll's), each the tool-call timeline of its events. */
  calls: readonly Timeline[];
  stateUpdates: readonly StateChangeSpan[];
  /** Computed fields recomputed after this step's state updates. */
  computed: readonly ComputedSpan[];
  workflow: SubWorkflowSpan | undefined;
}

export interface WarningSpan {
  startedAt: number;
  endedAt: number;
  message: string;
  stateBytes: number | undefined;
}

export interface BreakerSpan {
  startedAt: number;
  endedAt: number;
  /** `server/tool`. */
  key: string;
  change: string;
  reason: string | undefined;
  openUntil: number | undefined;
}

export interface WorkflowFinal {
  status: Exclude<WorkflowRunStatus, 'running'>;
  at: number;
  result: unknown;
  error: WorkflowErrorView | undefined;
  steps: number;
}

export interface WorkflowTimeline {
  runId: string;
  /** The run's workflow actor; its direct steps have no parent step. */
  actorId: string;
  name: string;
  file: string;
  status: WorkflowRunStatus;
  startedAt: number | undefined;
  endedAt: number | undefined;
  lastSeq: number;
  /** In the order they started. */
  steps: readonly StepSpan[];
  /** Evaluations no step's update caused (the initial ones). */
  computed: readonly ComputedSpan[];
  /** State changes no running step claims. */
  stateUpdates: readonly StateChangeSpan[];
  /** Tool calls no step claims. */
  calls: readonly Timeline[];
  warnings: readonly WarningSpan[];
  breakers: readonly BreakerSpan[];
  final: WorkflowFinal | undefined;
  /** Per workflow actor, the step whose state update its next computed evaluations follow (bookkeeping). */
  updaters: readonly { workflowActorId: string; key: string }[];
}

export const initialWorkflowTimeline: WorkflowTimeline = {
  runId: '',
  actorId: '',
  name: '',
  file: '',
  status: 'running',
  startedAt: undefined,
  endedAt: undefined,
  lastSeq: 0,
  steps: [],
  computed: [],
  stateUpdates: [],
  calls: [],
  warnings: [],
  breakers: [],
  final: undefined,
  updaters: [],
};
