// Small readers of a `workflow.*` envelope's `data` for the workflow projections (timeline, metrics).
import { isRecord, numberOr, stringOr, type Data } from './eventData.js';

/** The workflow statuses a run moves through; `escalated` waits for a person. */
export type WorkflowRunStatus = 'running' | 'succeeded' | 'failed' | 'escalated' | 'cancelled';

/** A step's or a run's failure as the viewer shows it: what and of which kind. */
export interface WorkflowErrorView {
  message: string;
  type: string;
}

export function readWorkflowError(value: unknown): WorkflowErrorView | undefined {
  if (!isRecord(value)) return undefined;
  return { message: stringOr(value.message, ''), type: stringOr(value.type, '') };
}

/** The step an event of `workflow.step.*` is about. */
export function readStep(data: Data): { stepId: string; stepType: string } {
  return { stepId: stringOr(data.stepId, ''), stepType: stringOr(data.stepType, '') };
}

/** `attempt` of step.started / succeeded / retrying, `attempts` of step.failed; 1 when absent. */
export function readAttempt(data: Data): number {
  return numberOr(data.attempt, numberOr(data.attempts, 1));
}

export function readStepRetrying(data: Data, ts: number): { attempt: number; delayMs: number; until: number } {
  const delayMs = numberOr(data.delayMs, 0);
  return { attempt: readAttempt(data), delayMs, until: numberOr(data.until, ts + delayMs) };
}

export function readStateUpdated(data: Data): { stepId: string; path: string; op: string; value: unknown } {
  const path = Array.isArray(data.path) ? data.path.map(String).join('.') : '';
  return { stepId: stringOr(data.stepId, ''), path, op: stringOr(data.op, 'set'), value: data.value };
}

export interface ComputedView {
  field: string;
  trigger: string;
  output: unknown;
  durationMs: number;
  error: string | undefined;
}

export function readComputed(data: Data): ComputedView {
  return {
    field: stringOr(data.field, ''),
    trigger: stringOr(data.trigger, ''),
    output: data.output,
    durationMs: numberOr(data.duration_ms, 0),
    error: stringOr(data.error, undefined),
  };
}

/** `steps` of a workflow's terminal event: the steps it executed. */
export function readStepsExecuted(data: Data): number {
  return numberOr(data.steps, 0);
}

export function readWorkflowStarted(data: Data): { name: string; file: string } {
  return { name: stringOr(data.name, ''), file: stringOr(data.file, '') };
}

export function readWarning(data: Data): { message: string; stateBytes: number | undefined } {
  return { message: stringOr(data.message, ''), stateBytes: numberOr(data.stateBytes, undefined) };
}

/** A `breaker.*` event's reason and, when it opened, the end of its cool-down. */
export function readBreakerChange(data: Data): { reason: string | undefined; openUntil: number | undefined } {
  return { reason: stringOr(data.reason, undefined), openUntil: numberOr(data.openUntil, undefined) };
}
