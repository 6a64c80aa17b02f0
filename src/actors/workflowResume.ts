// What a resume needs from a run's log: where the run stands, the workflow (same definition), its inputs, and the
// refusals that say why a run cannot be resumed or resolved.
import { ErrorCode, RetraceError } from '../common/errors.js';
import { REDACTED } from '../common/redact.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { ResolutionAction } from '../events/workflowEvents.js';
import type { WorkflowStatus } from '../machines/workflowTypes.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import { resolveInputs } from '../workflow/inputs.js';
import { workflowHash } from './workflowExecution.js';

export interface ResumeOptions {
  /** The workflow, when it was built in code (a file's path is recorded in the run and loaded again). */
  workflow?: CompiledWorkflow | string;
  /** Inputs over the recorded ones: needed for the values the log redacted. */
  inputs?: Record<string, unknown>;
  /** Resume even though the workflow's definition changed since the run started. */
  force?: boolean;
}

/** A person's answer to an escalated run. */
export interface Resolution {
  action: ResolutionAction;
  /** With `value`: the waiting step's result. */
  value?: unknown;
  by?: string;
  note?: string;
}

export interface RunLogState {
  status: WorkflowStatus;
  /** The run's `workflow.started`. */
  started: EventEnvelope;
  /** The step actor an escalated run waits on. */
  waitingOn?: string;
}

/** Where a workflow run stands by its top-level events: running (unfinished), waiting on an escalation, or ended. */
export function runLogState(runId: string, events: readonly EventEnvelope[]): RunLogState {
  if (events.length === 0) throw new RetraceError(ErrorCode.unknownRun, `no run ${runId} in the store`);
  let started: EventEnvelope | undefined;
  let status: WorkflowStatus = 'running';
  let waitingOn: string | undefined;
  for (const event of events) {
    if (event.actorId !== runId) continue;
    switch (event.type) {
      case 'workflow.started':
        started ??= event;
        break;
      case 'workflow.succeeded':
        status = 'succeeded';
        break;
      case 'workflow.failed':
        status = 'failed';
        break;
      case 'workflow.cancelled':
        status = 'cancelled';
        break;
      case 'workflow.escalated':
        status = 'escalated';
        waitingOn = typeof event.data['stepActorId'] === 'string' ? event.data['stepActorId'] : undefined;
        break;
      case 'workflow.resolved':
        status = 'running';
        waitingOn = undefined;
        break;
      default:
        break;
    }
  }
  if (!started)
    throw new RetraceError(ErrorCode.unknownRun, `run ${runId} is not a workflow run (it has no workflow.started)`);
  return { status, started, ...(waitingOn === undefined ? {} : { waitingOn }) };
}

/** Refuses a run that cannot be resumed: ended, or waiting for a person (that is `resolve`). */
export function checkResumable(runId: string, state: RunLogState): void {
  if (state.status === 'escalated') {
    throw new RetraceError(
      ErrorCode.runState,
      `run ${runId} is waiting on an escalation${state.waitingOn ? ` (step ${state.waitingOn})` : ''}: resolve it (retrace resolve ${runId} --action retry|skip|abort|value)`,
    );
  }
  if (state.status !== 'running') {
    throw new RetraceError(
      ErrorCode.runState,
      `run ${runId} already ended (${state.status}): there is nothing to resume`,
    );
  }
}

/** The recorded workflow file, or the caller's workflow; refused when it was built in code and not given. */
export function workflowToLoad(
  runId: string,
  started: EventEnvelope,
  given: ResumeOptions['workflow'],
): CompiledWorkflow | string {
  if (given !== undefined) return given;
  const file = started.data['file'];
  if (typeof file === 'string' && file !== '') return file;
  throw new RetraceError(
    ErrorCode.badArguments,
    `run ${runId} ran a workflow built in code (no file recorded): pass it to resume as options.workflow`,
  );
}

/** Refuses a workflow whose definition changed since the run started, unless forced. */
export function checkSameDefinition(
  runId: string,
  started: EventEnvelope,
  workflow: CompiledWorkflow,
  force: boolean,
): void {
  const recorded = started.data['hash'];
  const now = workflowHash(workflow);
  if (recorded === now || force) return;
  throw new RetraceError(
    ErrorCode.workflowChanged,
    `run ${runId}: workflow ${workflow.name}${workflow.file ? ` (${workflow.file})` : ''} changed since the run started (definition ${String(recorded).slice(0, 12)}… is now ${now.slice(0, 12)}…); resume with force to run the new definition over the recorded steps`,
  );
}

/** The run's inputs: the recorded ones with the caller's over them; a redacted value the caller did not give is refused. */
export function resumeInputs(
  runId: string,
  started: EventEnvelope,
  workflow: CompiledWorkflow,
  given: Record<string, unknown> = {},
): Record<string, unknown> {
  const recorded = (started.data['inputs'] ?? {}) as Record<string, unknown>;
  const inputs = { ...recorded, ...given };
  const redacted = redactedPaths(inputs, 'inputs');
  if (redacted.length > 0) {
    throw new RetraceError(
      ErrorCode.badArguments,
      `run ${runId}: the log redacted ${redacted.join(', ')}; give ${redacted.length === 1 ? 'it' : 'them'} again to resume (options.inputs, or --input name=value)`,
    );
  }
  return resolveInputs(workflow, inputs);
}

/** The paths under `path` whose value the log redacted. */
export function redactedPaths(value: unknown, path: string): string[] {
  if (value === REDACTED) return [path];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => redactedPaths(inner, `${path}.${key}`));
}

/** Refuses a resolution that makes no sense: a run that is not waiting, a value action without a value. */
export function checkResolution(runId: string, state: RunLogState, resolution: Resolution): string {
  if (state.status !== 'escalated') {
    throw new RetraceError(
      ErrorCode.runState,
      `run ${runId} is not waiting on an escalation (it is ${state.status}): there is nothing to resolve`,
    );
  }
  if (!['retry', 'skip', 'abort', 'value'].includes(resolution.action)) {
    throw new RetraceError(
      ErrorCode.badArguments,
      `resolve ${runId}: action must be retry, skip, abort or value, not ${JSON.stringify(resolution.action)}`,
    );
  }
  if (resolution.action === 'value' && resolution.value === undefined) {
    throw new RetraceError(ErrorCode.badArguments, `resolve ${runId}: the value action needs a value`);
  }
  if (state.waitingOn === undefined) {
    throw new RetraceError(
      ErrorCode.runState,
      `run ${runId}: its escalation does not name the step that waits, so it cannot be resolved`,
    );
  }
  return state.waitingOn;
}
