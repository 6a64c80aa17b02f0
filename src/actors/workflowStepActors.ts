// The step machine's actors for a workflow run: check `when`, execute an attempt, note an error, render a fallback, clean up.
import { fromPromise } from 'xstate';
import type { Clock } from '../common/clock.js';
import { workflowStepMachine } from '../machines/workflowStep.js';
import type { ExecuteFailure } from '../machines/workflowTypes.js';
import type { CompiledStep } from '../workflow/compiledWorkflow.js';
import type { EvaluationContext } from '../workflow/expression.js';
import { evaluateCondition, renderValue } from '../workflow/render.js';
import { stepFailure, type WorkflowExecution } from './workflowExecution.js';
import type { Frame } from './workflowExecutor.js';
import type { StepOccurrence } from './workflowReplay.js';
import type { StateUpdates } from './workflowStateUpdates.js';
import { scopeOf } from './workflowStepReplay.js';
import { executeStep, type StepKindDeps } from './workflowSteps.js';

/** What a step actor runs: its step, where, and (in a resumed run) what the log has of it. */
export interface StepJob {
  execution: WorkflowExecution;
  step: CompiledStep;
  frame: Frame;
  actorId: string;
  /** In a resumed run: what the log has of this step execution (it started, and did not end, before the crash). */
  occurrence: StepOccurrence | undefined;
}

export interface StepActorDeps {
  clock: Clock;
  expressionContext: EvaluationContext;
  /**
   * Each step actor's job, by the actor's system (its invoked actors share it): the lookup does not depend on actor
   * ids, which only need to be unique within a run.
   */
  jobs: WeakMap<object, StepJob>;
  kindDeps: StepKindDeps;
  updateState: StateUpdates['updateState'];
  runStepList(execution: WorkflowExecution, steps: readonly CompiledStep[], frame: Frame): Promise<unknown>;
  /** Any failure as an ExecuteFailure: expression and state errors say what and where. */
  toFailure(error: unknown, stepId: string): ExecuteFailure;
}

/** The step machine with a run's implementations of its actors. */
export function provideStepActors(deps: StepActorDeps) {
  const { clock, expressionContext, jobs, toFailure, updateState, runStepList } = deps;

  function job(system: object, actorId: string): StepJob {
    const found = jobs.get(system);
    if (!found) throw new Error(`no step job ${actorId}`);
    return found;
  }

  return workflowStepMachine.provide({
    actors: {
      checkWhen: fromPromise(async ({ input, system }) => {
        const { execution, step, frame } = job(system, input.actorId);
        try {
          const run =
            step.when === undefined
              ? true
              : await evaluateCondition(step.when, scopeOf(execution, frame), expressionContext);
          return { run, at: clock.now() };
        } catch (error) {
          throw toFailure(error, step.id);
        }
      }),
      execute: fromPromise(async ({ input, system, signal }) => {
        const current = job(system, input.actorId);
        const { occurrence } = current;
        if (occurrence?.aborted) throw stepFailure({ ...occurrence.aborted, step_id: current.step.id }, clock.now());
        try {
          const result = await executeStep(deps.kindDeps, current.execution, current.step, {
            ...current.frame,
            signal,
            actorId: current.actorId,
            attempt: input.attempt,
            // The attempt that was running when the process stopped: the step kind decides whether it may go again.
            // (Set or cleared here: a frame passed down from a re-entered parent carries the parent's.)
            replaying:
              occurrence?.started?.attempt === input.attempt && !occurrence.retrying
                ? { ...occurrence.started, since: occurrence.since }
                : undefined,
          });
          return { result, at: clock.now() };
        } catch (error) {
          throw toFailure(error, current.step.id);
        } finally {
          if (current.frame.cursor) current.frame.cursor.live = true;
        }
      }),
      noteError: fromPromise(async ({ input, system }) => {
        const { execution, step, frame } = job(system, input.actorId);
        const update = step.onError.errorStateUpdate;
        if (update) {
          try {
            const value = await renderValue(update.value, scopeOf(execution, frame, input.error), expressionContext);
            await updateState(execution, step.id, update.path, 'set', value, {
              stepActorId: input.actorId,
              recordedAs: 'error_state_update',
            });
          } catch (error) {
            throw toFailure(error, step.id);
          }
        }
        return { at: clock.now() };
      }),
      renderFallback: fromPromise(async ({ input, system }) => {
        const { execution, step, frame } = job(system, input.actorId);
        const template = step.onError.fallbackValue;
        try {
          const value =
            template === undefined
              ? undefined
              : await renderValue(template, scopeOf(execution, frame, input.error), expressionContext);
          return { value, at: clock.now() };
        } catch (error) {
          throw toFailure(error, step.id);
        }
      }),
      cleanup: fromPromise(async ({ input, system }) => {
        const { execution, step, frame, actorId } = job(system, input.actorId);
        // Cleanup is not cancelled by what cancelled the step: it is what runs because of it.
        const cleanupFrame: Frame = {
          ...frame,
          parentId: actorId,
          signal: new AbortController().signal,
          error: input.error,
        };
        const previous = execution.returned;
        try {
          await runStepList(execution, step.cleanup, cleanupFrame);
        } catch {
          // A failed cleanup step is recorded as such; the step's own failure is what the caller handles.
        }
        execution.returned = previous;
        return { at: clock.now() };
      }),
    },
  });
}
