// What each step type does in one attempt: the dispatch, and the steps that branch, update state, fail or return.
import type { Clock } from '../common/clock.js';
import type { Logger } from './logger.js';
import type { StepError, StepOutcome, WorkflowMachineInput, WorkflowOutcome } from '../machines/workflowTypes.js';
import type { CompiledStep, ValueTemplate } from '../workflow/compiledWorkflow.js';
import type { EvaluationContext } from '../workflow/expression.js';
import { evaluateCondition, renderValue } from '../workflow/render.js';
import type { WorkflowScope } from '../workflow/scope.js';
import type { CallOptions, RecordedOutcome } from './runtime.js';
import { callTool, shellCommand } from './workflowCallSteps.js';
import type { Frame } from './workflowExecutor.js';
import { stepFailure, type WorkflowExecution } from './workflowExecution.js';
import { foreach, parallel, poll, subWorkflow } from './workflowFlowSteps.js';
import { wait } from './workflowWaitSteps.js';
import type { StateUpdates } from './workflowStateUpdates.js';

export interface StepKindDeps {
  clock: Clock;
  logger: Logger;
  callTool(server: string, tool: string, args: Record<string, unknown>, options: CallOptions): Promise<RecordedOutcome>;
  /** Waits until what the run recorded so far is durable: a side effect that cannot be repeated waits for its start. */
  durable(runId: string): Promise<void>;
  /** The runtime config's server names: an mcp_call naming none takes the only one. */
  servers: readonly string[];
  expressionContext: EvaluationContext;
  scopeOf(execution: WorkflowExecution, frame: Frame): WorkflowScope;
  runStep(execution: WorkflowExecution, step: CompiledStep, frame: Frame): Promise<StepOutcome>;
  runSteps(execution: WorkflowExecution, steps: readonly CompiledStep[], frame: Frame): Promise<unknown>;
  updateState: StateUpdates['updateState'];
  runSubWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome>;
}

export interface StateUpdateOptions {
  /** The step actor making the update, recorded with it (a resume finds its own update by it). */
  stepActorId?: string;
  /** Already in the log and in the state (a resumed run found it): only its computed fields are evaluated. */
  recorded?: boolean;
  /** The operation as recorded, when not the one applied (an `on_error` state update is applied as `set`). */
  recordedAs?: 'error_state_update';
}

/** One attempt: the frame's signal, this step's actor id, the attempt number. */
export interface Attempt extends Frame {
  actorId: string;
  attempt: number;
  /** A resumed run re-enters this attempt: it had started (at this seq and clock time) when the process stopped. */
  replaying?: { seq: number; at: number; since: number } | undefined;
}

/** Ends the attempt with a failure of this step (its id and attempt number added). */
export type Fail = (error: Omit<StepError, 'step_id'>) => never;
/** Renders a template against the attempt's scope. */
export type Render = (template: ValueTemplate) => Promise<unknown>;

export async function executeStep(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStep,
  attempt: Attempt,
): Promise<unknown> {
  const scope = () => deps.scopeOf(execution, attempt);
  const render: Render = (template) => renderValue(template, scope(), deps.expressionContext);
  const inside: Frame = { ...attempt, parentId: attempt.actorId };
  const fail: Fail = (error) => {
    throw stepFailure({ ...error, step_id: step.id, attempt: attempt.attempt }, deps.clock.now());
  };
  switch (step.type) {
    case 'mcp_call':
      return callTool(deps, execution, step, attempt, fail);
    case 'shell_command':
      return shellCommand(deps, execution, step, attempt, render, fail);
    case 'conditional': {
      const holds = await evaluateCondition(step.condition, scope(), deps.expressionContext);
      await deps.runSteps(execution, holds ? step.then : step.else, inside);
      return { branch: holds ? 'then' : 'else' };
    }
    case 'state_update': {
      const applied =
        attempt.replaying &&
        execution.replay?.log.stateUpdateAfter(execution.actorId, attempt.actorId, attempt.replaying.since);
      // The update is in the log (the crash came after it): applying it again would count an increment twice.
      if (applied) {
        return deps.updateState(execution, step.id, step.path, 'set', applied.value, {
          recorded: true,
          stepActorId: attempt.actorId,
        });
      }
      const value = step.value === undefined ? undefined : await render(step.value);
      return deps.updateState(execution, step.id, step.path, step.operation, value, { stepActorId: attempt.actorId });
    }
    case 'error': {
      const message = await render(step.message);
      return fail({ message: typeof message === 'string' ? message : JSON.stringify(message), type: 'error' });
    }
    case 'wait':
      return wait(deps, execution, step, attempt);
    case 'poll':
      return poll(deps, execution, step, attempt, fail);
    case 'parallel':
      return parallel(deps, execution, step, inside);
    case 'foreach':
      return foreach(deps, execution, step, inside, render);
    case 'workflow':
      return subWorkflow(deps, execution, step, attempt, render, fail);
    case 'return': {
      const value = await render(step.value);
      execution.returned = { value };
      return value;
    }
  }
}
