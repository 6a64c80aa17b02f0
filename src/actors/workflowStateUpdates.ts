// A run's state updates: applied in order, recorded, size-checked, and followed by the computed fields they touch.
import type { Clock } from '../common/clock.js';
import type { WorkflowEmitted } from '../machines/workflowTypes.js';
import { evaluateComputed, type ComputedTrace } from '../workflow/computedGraph.js';
import type { EvaluationContext } from '../workflow/expression.js';
import { applyStateOperation } from '../workflow/stateUpdate.js';
import type { StateOperation } from '../workflow/workflowSchema.js';
import type { Logger } from './logger.js';
import { stepFailure, type WorkflowExecution } from './workflowExecution.js';
import { scopeOf } from './workflowStepReplay.js';
import type { StateUpdateOptions } from './workflowSteps.js';

export interface StateUpdateDeps {
  clock: Clock;
  logger: Logger;
  expressionContext: EvaluationContext;
  record(runId: string, fact: WorkflowEmitted): void;
}

export interface StateUpdates {
  /** Applies one update after those before it; resolves with the value written. */
  updateState(
    execution: WorkflowExecution,
    stepId: string,
    path: readonly string[],
    operation: StateOperation,
    value: unknown,
    options?: StateUpdateOptions,
  ): Promise<unknown>;
  /** Keeps the recomputed fields and records each evaluation as a `workflow.computed.evaluated` fact. */
  recordComputed(
    execution: WorkflowExecution,
    computed: WorkflowExecution['computed'],
    traces: readonly ComputedTrace[],
  ): void;
}

export function createStateUpdates(deps: StateUpdateDeps): StateUpdates {
  const { clock, expressionContext } = deps;

  async function updateState(
    execution: WorkflowExecution,
    stepId: string,
    path: readonly string[],
    operation: StateOperation,
    value: unknown,
    options: StateUpdateOptions = {},
  ): Promise<unknown> {
    const apply = async (): Promise<unknown> => {
      // Already recorded (a resumed run found it in the log): the state has it; its computed fields are redone.
      const updated = options.recorded
        ? { state: execution.state, value }
        : applyStateOperation(execution.state, path, operation, value);
      execution.state = updated.state;
      if (!options.recorded) {
        deps.record(execution.runId, {
          type: 'workflow.state.updated',
          actorId: execution.actorId,
          at: clock.now(),
          stepId,
          path: [...path],
          op: options.recordedAs ?? operation,
          ...(updated.value === undefined ? {} : { value: updated.value }),
          ...(options.stepActorId === undefined ? {} : { stepActorId: options.stepActorId }),
        });
      }
      checkStateSize(execution, stepId);
      const dotted = path.join('.');
      const { computed, traces } = await evaluateComputed(
        execution.workflow.computed,
        scopeOf(execution, {
          prefix: '',
          parentId: '',
          signal: execution.controller.signal,
          locals: undefined,
          error: undefined,
        }),
        [dotted],
        { ...expressionContext, now: () => clock.now(), trigger: `${dotted} update` },
      );
      recordComputed(execution, computed, traces);
      return updated.value;
    };
    const next = execution.updates.then(apply, apply);
    execution.updates = next.catch(() => undefined);
    return next;
  }

  /** Keeps the recomputed fields and records each evaluation as a `workflow.computed.evaluated` fact. */
  function recordComputed(
    execution: WorkflowExecution,
    computed: WorkflowExecution['computed'],
    traces: readonly ComputedTrace[],
  ): void {
    execution.computed = computed;
    for (const trace of traces) {
      deps.record(execution.runId, {
        type: 'workflow.computed.evaluated',
        actorId: execution.actorId,
        at: clock.now(),
        ...trace,
      });
    }
  }

  function checkStateSize(execution: WorkflowExecution, stepId: string): void {
    const { state_size_warning: warnAt, state_size_max: maxBytes } = execution.workflow.limits;
    const bytes = Buffer.byteLength(JSON.stringify(execution.state), 'utf8');
    if (bytes > maxBytes) {
      throw stepFailure(
        {
          message: `state is ${bytes} bytes, over limits.state_size_max (${maxBytes})`,
          type: 'limit',
          step_id: stepId,
        },
        clock.now(),
      );
    }
    if (bytes > warnAt && !execution.stateWarned) {
      execution.stateWarned = true;
      const message = `state is ${bytes} bytes, over limits.state_size_warning (${warnAt})`;
      deps.logger.warn({ runId: execution.runId, stateBytes: bytes }, message);
      deps.record(execution.runId, {
        type: 'workflow.warning',
        actorId: execution.actorId,
        at: clock.now(),
        message,
        stateBytes: bytes,
      });
    }
  }

  return { updateState, recordComputed };
}
