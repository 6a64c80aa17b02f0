// The workflow and step machines' inputs, outcomes and the facts they emit (each fact becomes a `workflow.*` event).
import type { BackoffSettings } from '../policy/toolPolicy.js';
import type { EscalationRecord } from '../events/toolCallEvents.js';
import type { ComputedTrace } from '../workflow/computedGraph.js';

export type StepType =
  | 'mcp_call'
  | 'shell_command'
  | 'conditional'
  | 'state_update'
  | 'error'
  | 'wait'
  | 'poll'
  | 'parallel'
  | 'foreach'
  | 'workflow'
  | 'return';

/** A step's failure as expressions read it (`error.message`, `error.type`, …) and as the log records it. */
// A type alias, not an interface: it must fit the event schema's open (loose) object.
export type StepError = {
  message: string;
  type: string;
  step_id?: string;
  /** The actor id of the step it started in; set by that step's machine (an escalation waits there). */
  actor_id?: string;
  attempt?: number;
  exit_code?: number;
  /** The end of a failed command's output. */
  stdout?: string;
  stderr?: string;
  escalation?: EscalationRecord;
  errors?: Array<{ message: string; type: string; step_id?: string }>;
};

/** Kinds of failure the machines look at; every other kind is data for the user. */
export const StepErrorType = {
  timeout: 'timeout',
  cancelled: 'cancelled',
  escalated: 'escalated',
  /** A person aborted an escalated run (`resolve --action abort`): nothing recovers from it. */
  aborted: 'aborted',
} as const;

/** What a step execution resolves with (the executor's `execute` actor), stamped with the clock. */
export interface ExecuteOutput {
  result: unknown;
  at: number;
}

/** What it rejects with: the failure and when it was known. */
export interface ExecuteFailure {
  error: StepError;
  at: number;
}

export interface StepMachineInput {
  actorId: string;
  parentId: string;
  stepId: string;
  stepType: StepType;
  strategy: 'fail' | 'continue' | 'retry' | 'fallback';
  /** The step's own retries (zero unless `on_error: retry`; an mcp_call retries inside its tool call instead). */
  retry: BackoffSettings;
  /** Bounds one attempt, on the clock; undefined when the step bounds itself (mcp_call, poll). */
  attemptTimeoutMs: number | undefined;
  hasWhen: boolean;
  hasCleanup: boolean;
  startedAt: number;
  /** A resumed step occurrence: the attempts it already made, and the recorded deadline of its pending retry. */
  resume?: { attempts: number; retryAt?: number };
}

export type StepStatus = 'succeeded' | 'skipped' | 'fallback' | 'failed' | 'cancelled';

export interface StepOutcome {
  status: StepStatus;
  result?: unknown;
  error?: StepError;
  attempts: number;
  at: number;
}

export interface StepContext {
  input: StepMachineInput;
  attempt: number;
  /** Logical time: the clock time of the last thing the machine learned. */
  now: number;
  result: unknown;
  error: StepError | undefined;
  /** When the pending retry is due. */
  retryAt: number | undefined;
  cancelReason: string | undefined;
  /** Set on entering a final state. */
  status: StepStatus | undefined;
}

export type StepEvent = { type: 'CANCEL'; reason?: string };

export interface WorkflowMachineInput {
  actorId: string;
  parentId: string | undefined;
  /** For a sub-workflow: the step that started it. */
  stepId: string | undefined;
  name: string;
  file: string;
  hash: string;
  inputs: Record<string, unknown>;
  /** The workflow's initial state, recorded in its start so the log alone rebuilds its state (a run's, not a sub-workflow's). */
  initialState?: Record<string, unknown>;
  timeoutMs: number | undefined;
  startedAt: number;
}

export type WorkflowStatus = 'running' | 'succeeded' | 'failed' | 'escalated' | 'cancelled';

export interface StepsOutput {
  result: unknown;
  steps: number;
  at: number;
}

export interface WorkflowContext {
  input: WorkflowMachineInput;
  now: number;
  status: WorkflowStatus;
  result: unknown;
  error: StepError | undefined;
  steps: number;
  cancelReason: string | undefined;
  /** The workflow's timeout passed: the steps were aborted and the run fails with a timeout. */
  timedOut: boolean;
}

export type WorkflowEvent = { type: 'CANCEL'; reason?: string };

export interface WorkflowOutcome {
  status: Exclude<WorkflowStatus, 'running'>;
  result?: unknown;
  error?: StepError;
  steps: number;
  at: number;
}

interface FactBase {
  at: number;
  actorId: string;
  parentId?: string;
}
interface OnStep extends FactBase {
  stepId: string;
  stepType: StepType;
}

/** Every fact the workflow machines (and the executor's state updates) state. */
export type WorkflowEmitted =
  | (FactBase & {
      type: 'workflow.started';
      name: string;
      file: string;
      hash: string;
      inputs: Record<string, unknown>;
      state?: Record<string, unknown>;
      stepId?: string;
    })
  | (OnStep & { type: 'workflow.step.started'; attempt: number })
  | (OnStep & { type: 'workflow.step.succeeded'; attempt: number; result?: unknown })
  | (OnStep & { type: 'workflow.step.failed'; attempts: number; error: StepError })
  | (OnStep & { type: 'workflow.step.skipped'; reason: 'when' })
  | (OnStep & { type: 'workflow.step.retrying'; attempt: number; delayMs: number; until: number; error: StepError })
  | (OnStep & { type: 'workflow.step.fallback'; strategy: 'continue' | 'fallback'; value?: unknown; error: StepError })
  | (OnStep & { type: 'workflow.step.cancelled'; reason: string })
  | (FactBase & {
      type: 'workflow.state.updated';
      stepId: string;
      stepActorId?: string;
      path: string[];
      op: 'set' | 'increment' | 'decrement' | 'append' | 'merge' | 'delete' | 'error_state_update';
      value?: unknown;
    })
  | (FactBase & { type: 'workflow.computed.evaluated' } & ComputedTrace)
  | (FactBase & { type: 'workflow.warning'; message: string; stateBytes?: number })
  | (FactBase & { type: 'workflow.succeeded'; result?: unknown; steps: number })
  | (FactBase & { type: 'workflow.failed'; error: StepError; steps: number })
  | (FactBase & { type: 'workflow.escalated'; error: StepError; steps: number; stepActorId?: string })
  | (FactBase & {
      type: 'workflow.resolved';
      stepActorId: string;
      action: 'retry' | 'skip' | 'abort' | 'value';
      value?: unknown;
      by?: string;
      note?: string;
    })
  | (FactBase & { type: 'workflow.resumed'; previousSeq: number; stepsReplayed: number; reason: string })
  | (FactBase & { type: 'workflow.cancelled'; reason: string; steps: number; error?: StepError });
