// The `data` of every `workflow.*` event: the workflow and step machines' facts minus `type`, `at`, `actorId` and `parentId`.
import { z } from 'zod';
import type { WorkflowEmitted } from '../machines/workflowTypes.js';
import { STEP_TYPES } from '../workflow/stepTypes.js';
import { EscalationRecord } from './toolCallEvents.js';

export const StepType = z.enum(STEP_TYPES);

/** `error` as expressions see it: the failure's message and kind, the step it started in, and the attempt. */
export const WorkflowErrorData = z
  .object({
    message: z.string(),
    /** `timeout`, `exit_code`, `error`, `escalated`, `cancelled`, a tool failure's kind, … */
    type: z.string(),
    step_id: z.string().optional(),
    /** The actor id of the step the failure started in (`deploy`, `per_region[1].record`): an escalation waits there. */
    actor_id: z.string().optional(),
    attempt: z.number().int().min(1).optional(),
    exit_code: z.number().int().optional(),
    escalation: EscalationRecord.optional(),
    /** A `collect` parallel step's or a foreach's failed branches. */
    errors: z.array(z.object({ message: z.string(), type: z.string(), step_id: z.string().optional() })).optional(),
  })
  .loose();
export type WorkflowErrorData = z.infer<typeof WorkflowErrorData>;

const onStep = { stepId: z.string(), stepType: StepType };

export const WorkflowStartedData = z.object({
  name: z.string(),
  /** The workflow's file: for the run's own workflow loaded from a file its absolute path (a resume finds it from any directory); as given for one compiled from text; empty for one built in code. */
  file: z.string(),
  /** sha256 of the workflow's compiled definition, so a resume can tell the file changed. */
  hash: z.string(),
  /** Redacted by path (`inputs.token`). */
  inputs: z.record(z.string(), z.unknown()),
  /** The initial state (a run's own workflow; absent in logs written before it was recorded). Redacted by path. */
  state: z.record(z.string(), z.unknown()).optional(),
  /** For a sub-workflow: the step that started it. */
  stepId: z.string().optional(),
});

export const StepStartedData = z.object({ ...onStep, attempt: z.number().int().min(1) });

export const StepSucceededData = z.object({
  ...onStep,
  attempt: z.number().int().min(1),
  /** `steps.<id>.result`; a resumed run takes it from here. Redacted by path, truncated over the size limit. */
  result: z.unknown().optional(),
});

export const StepFailedData = z.object({ ...onStep, attempts: z.number().int().min(0), error: WorkflowErrorData });

export const StepSkippedData = z.object({ ...onStep, reason: z.literal('when') });

export const StepRetryingData = z.object({
  ...onStep,
  /** The attempt that failed; the next is `attempt + 1`. */
  attempt: z.number().int().min(1),
  delayMs: z.number().min(0),
  /** Clock time the next attempt is due: a resumed run keeps this deadline. */
  until: z.number(),
  error: WorkflowErrorData,
});

export const StepFallbackData = z.object({
  ...onStep,
  strategy: z.enum(['continue', 'fallback']),
  /** The step's result from now on (`fallback_value`, or nothing under `continue` without one). */
  value: z.unknown().optional(),
  error: WorkflowErrorData,
});

export const StepCancelledData = z.object({ ...onStep, reason: z.string() });

export const StateUpdatedData = z.object({
  stepId: z.string(),
  /** The step actor that made it (`each[1].add`): a resumed step finds its own update by it. */
  stepActorId: z.string().optional(),
  /** Dotted path segments in state (`['raw', 'attempts']`). */
  path: z.array(z.string()),
  op: z.enum(['set', 'increment', 'decrement', 'append', 'merge', 'delete', 'error_state_update']),
  /** The value at `path` afterwards (absent after `delete`). */
  value: z.unknown().optional(),
});

/** Seed 004's trace fields, one event per evaluation. */
export const ComputedEvaluatedData = z.object({
  field: z.string(),
  timestamp: z.string(),
  trigger: z.string(),
  input: z.unknown(),
  output: z.unknown(),
  duration_ms: z.number().min(0),
  dependencies: z.array(z.string()),
  error: z.string().optional(),
});

export const WorkflowWarningData = z.object({ message: z.string(), stateBytes: z.number().int().min(0).optional() });

export const WorkflowSucceededData = z.object({ result: z.unknown().optional(), steps: z.number().int().min(0) });

export const WorkflowFailedData = z.object({ error: WorkflowErrorData, steps: z.number().int().min(0) });

/** The run waits on an escalation: a person decides what happens next (`retrace resolve`, `handle.resolve()`). */
export const WorkflowEscalatedData = z.object({
  error: WorkflowErrorData,
  steps: z.number().int().min(0),
  /** The step actor that waits for the resolution. */
  stepActorId: z.string().optional(),
});

export const ResolutionAction = z.enum(['retry', 'skip', 'abort', 'value']);
export type ResolutionAction = z.infer<typeof ResolutionAction>;

/** A person's answer to an escalated run; the run continues through the resume path. */
export const WorkflowResolvedData = z.object({
  /** The step actor that waited. */
  stepActorId: z.string(),
  /** retry: the step runs again from attempt 1; skip: its result is null; value: its result is `value`; abort: the run fails. */
  action: ResolutionAction,
  value: z.unknown().optional(),
  by: z.string().optional(),
  note: z.string().optional(),
});

/** A run continued from its events after its process stopped (or after a resolution). */
export const WorkflowResumedData = z.object({
  /** The run's last seq before this event. */
  previousSeq: z.number().int().min(0),
  /** Step executions whose recorded outcome was taken from the log instead of running them again. */
  stepsReplayed: z.number().int().min(0),
  reason: z.string(),
});

export const WorkflowCancelledData = z.object({
  reason: z.string(),
  steps: z.number().int().min(0),
  /** The failure the cancellation surfaced as (`type: cancelled`, the step it stopped): `run --json`'s `error`. */
  error: WorkflowErrorData.optional(),
});

export const workflowDataSchemas = {
  'workflow.started': WorkflowStartedData,
  'workflow.step.started': StepStartedData,
  'workflow.step.succeeded': StepSucceededData,
  'workflow.step.failed': StepFailedData,
  'workflow.step.skipped': StepSkippedData,
  'workflow.step.retrying': StepRetryingData,
  'workflow.step.fallback': StepFallbackData,
  'workflow.step.cancelled': StepCancelledData,
  'workflow.state.updated': StateUpdatedData,
  'workflow.computed.evaluated': ComputedEvaluatedData,
  'workflow.warning': WorkflowWarningData,
  'workflow.succeeded': WorkflowSucceededData,
  'workflow.failed': WorkflowFailedData,
  'workflow.escalated': WorkflowEscalatedData,
  'workflow.cancelled': WorkflowCancelledData,
  'workflow.resolved': WorkflowResolvedData,
  'workflow.resumed': WorkflowResumedData,
} as const;

/** What the machines say of type `T`, as it becomes an event's data. */
export type WorkflowEmittedData<T extends WorkflowEmitted['type']> = Omit<
  Extract<WorkflowEmitted, { type: T }>,
  'type' | 'at' | 'actorId' | 'parentId'
>;

/** Fails to compile when a fact has no schema, or a payload its schema would refuse. */
type EveryPayloadFits = {
  [T in WorkflowEmitted['type']]: WorkflowEmittedData<T> extends z.input<(typeof workflowDataSchemas)[T]>
    ? true
    : never;
};
const _everyWorkflowPayloadFits: EveryPayloadFits = {
  'workflow.started': true,
  'workflow.step.started': true,
  'workflow.step.succeeded': true,
  'workflow.step.failed': true,
  'workflow.step.skipped': true,
  'workflow.step.retrying': true,
  'workflow.step.fallback': true,
  'workflow.step.cancelled': true,
  'workflow.state.updated': true,
  'workflow.computed.evaluated': true,
  'workflow.warning': true,
  'workflow.succeeded': true,
  'workflow.failed': true,
  'workflow.escalated': true,
  'workflow.cancelled': true,
  'workflow.resolved': true,
  'workflow.resumed': true,
};
