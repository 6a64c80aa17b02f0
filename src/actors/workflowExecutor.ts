// Runs a workflow's steps: one step actor (src/machines/workflowStep.ts) per step execution, step lists in order,
// sub-workflows as child workflow actors; the step kinds (workflowSteps.ts) run nested lists through it.
import { actorSystemOptions, type InspectObserver } from './actorInspection.js';
import { createActor, fromPromise } from 'xstate';
import type { Clock, RandomSource } from '../common/clock.js';
import { isRetraceError } from '../common/errors.js';
import { workflowMachine } from '../machines/workflow.js';
import { asFailure } from '../machines/workflowStep.js';
import type {
  ExecuteFailure,
  StepOutcome,
  WorkflowEmitted,
  WorkflowMachineInput,
  WorkflowOutcome,
} from '../machines/workflowTypes.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { CompiledStep } from '../workflow/compiledWorkflow.js';
import { evaluateComputed } from '../workflow/computedGraph.js';
import type { EvaluationContext } from '../workflow/expression.js';
import type { ErrorInfo, StepRecord } from '../workflow/scope.js';
import type { StepKindDeps } from './workflowSteps.js';
import type { ReplayCursor } from './workflowReplay.js';
import { abortReason, isStepFailure, stepFailure, type WorkflowExecution } from './workflowExecution.js';
import { createStateUpdates } from './workflowStateUpdates.js';
import { provideStepActors, type StepJob } from './workflowStepActors.js';
import { keepRecord, reentry, replayed, scopeOf } from './workflowStepReplay.js';

export type { WorkflowExecution } from './workflowExecution.js';

/** Where a step runs: the actor ids around it, loop variables, and the signal that cancels it. */
export interface Frame {
  prefix: string;
  parentId: string;
  signal: AbortSignal;
  locals: Record<string, unknown> | undefined;
  /** The failure being handled, in cleanup steps. */
  error: ErrorInfo | undefined;
  /** A loop iteration's own step results: `steps.<id>` inside it reads this iteration's, not a sibling's. */
  iterationSteps?: Record<string, StepRecord>;
  /** In a resumed run, inside a step re-entered from the log: where its evaluations read state (see scopeOf). */
  cursor?: ReplayCursor | undefined;
}

export interface ExecutorDeps extends Omit<
  StepKindDeps,
  'runSteps' | 'runStep' | 'runSubWorkflow' | 'updateState' | 'scopeOf' | 'expressionContext'
> {
  clock: Clock;
  random: RandomSource;
  record(runId: string, fact: WorkflowEmitted): void;
  durable(runId: string): Promise<void>;
  /** Why the run's events can no longer be recorded (once one failed to be): no step of it starts from then on. */
  unrecordable?(runId: string): Error | undefined;
  /** The Stately inspector's observer (`retrace run --inspect`); absent, nothing is inspected. */
  inspect?: InspectObserver;
}

export interface Executor {
  /** Runs a workflow as a workflow actor to its end. */
  runWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome>;
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const { clock } = deps;
  /** Each step actor's job, by the actor's system (see StepActorDeps.jobs). */
  const actorOptions = actorSystemOptions(clock, deps.inspect);
  const jobs = new WeakMap<object, StepJob>();
  /** Each workflow actor's execution, by its system too (a sub-workflow's actor id is not unique across runs). */
  const executions = new WeakMap<object, WorkflowExecution>();

  const expressionContext: EvaluationContext = { now: () => clock.now(), random: deps.random };

  /** Any failure as an ExecuteFailure: expression and state errors say what and where. */
  function toFailure(error: unknown, stepId: string): ExecuteFailure {
    if (isStepFailure(error)) return error;
    if (isRetraceError(error)) {
      const type = error.code === 'E_EXPRESSION' ? 'expression' : error.code === 'E_STORE' ? 'store' : 'workflow';
      return stepFailure({ message: error.describe(), type, step_id: stepId }, clock.now());
    }
    return asFailure(error, clock.now());
  }

  const { updateState, recordComputed } = createStateUpdates({ ...deps, expressionContext });
  const kindDeps: StepKindDeps = {
    ...deps,
    runStep,
    runSteps: runStepList,
    updateState,
    scopeOf,
    expressionContext,
    runSubWorkflow: (execution, input) => runWorkflow(execution, input),
  };
  const stepMachine = provideStepActors({
    clock,
    expressionContext,
    jobs,
    kindDeps,
    updateState,
    runStepList,
    toFailure,
  });

  function runStep(execution: WorkflowExecution, step: CompiledStep, frame: Frame): Promise<StepOutcome> {
    let actorId = `${frame.prefix}${step.id}`;
    // Unique within the run (a step id may run twice at once, in parallel branches): not across runs.
    for (let n = 2; execution.running.has(actorId); n += 1) actorId = `${frame.prefix}${step.id}~${n}`;
    const unrecordable = deps.unrecordable?.(execution.runId);
    if (unrecordable) {
      // Nothing it did could be recorded: it does not start (its cancel or failure would not be recorded either).
      return Promise.reject(
        stepFailure({ message: unrecordable.message, type: 'store', step_id: step.id }, clock.now()),
      );
    }
    execution.stepsExecuted += 1;
    const limit = execution.workflow.limits.max_steps;
    if (limit > 0 && execution.stepsExecuted > limit) {
      return Promise.reject(
        stepFailure(
          { message: `more than limits.max_steps (${limit}) steps executed`, type: 'limit', step_id: step.id },
          clock.now(),
        ),
      );
    }
    const occurrence = frame.cursor && execution.replay?.log.nextOccurrence(actorId, frame.cursor.since);
    if (occurrence?.outcome)
      return Promise.resolve(replayed(execution, step, frame, occurrence.outcome, occurrence.endSeq));
    const { resume, frame: stepFrame } = reentry(occurrence, frame);
    execution.running.add(actorId);
    const actor = createActor(stepMachine, {
      ...actorOptions,
      input: {
        actorId,
        parentId: frame.parentId,
        stepId: step.id,
        stepType: step.type,
        strategy: step.onError.strategy,
        // An mcp_call retries inside its tool call (its retry fields are the call's policy); a poll bounds itself.
        retry: step.type === 'mcp_call' ? { ...step.onError.retry, maxRetries: 0 } : step.onError.retry,
        attemptTimeoutMs: step.type === 'mcp_call' || step.type === 'poll' ? undefined : step.timeoutMs,
        hasWhen: step.when !== undefined && resume === undefined,
        hasCleanup: step.cleanup.length > 0,
        startedAt: clock.now(),
        ...(resume === undefined ? {} : { resume }),
      },
    });
    jobs.set(actor.system, { execution, step, frame: stepFrame, actorId, occurrence });
    actor.on('*', (fact) => deps.record(execution.runId, fact));
    return new Promise<StepOutcome>((resolve, reject) => {
      const onAbort = () => actor.send({ type: 'CANCEL', reason: abortReason(frame.signal), at: clock.now() });
      const finish = () => {
        frame.signal.removeEventListener('abort', onAbort);
        jobs.delete(actor.system);
        execution.running.delete(actorId);
        // A step ran live: what its parent evaluates from now on sees the live state.
        if (frame.cursor) frame.cursor.live = true;
      };
      actor.subscribe({
        complete: () => {
          finish();
          const outcome = actor.getSnapshot().output;
          if (!outcome) {
            reject(new Error(`step ${step.id} ended without an outcome`));
            return;
          }
          keepRecord(execution, step, frame, outcome);
          resolve(outcome);
        },
        error: (failure) => {
          finish();
          reject(failure instanceof Error ? failure : new Error(String(failure)));
        },
      });
      frame.signal.addEventListener('abort', onAbort, { once: true });
      actor.start();
      if (frame.signal.aborted) onAbort();
    });
  }

  /** Runs steps in order; a failed or cancelled step stops the list with its failure. Resolves with the last result. */
  async function runStepList(
    execution: WorkflowExecution,
    steps: readonly CompiledStep[],
    frame: Frame,
  ): Promise<unknown> {
    let last: unknown;
    for (const step of steps) {
      if (execution.returned) break;
      if (frame.signal.aborted) {
        throw stepFailure(
          { message: abortReason(frame.signal), type: StepErrorType.cancelled, step_id: step.id },
          clock.now(),
        );
      }
      const outcome = await runStep(execution, step, frame);
      if (outcome.status === 'failed' || outcome.status === 'cancelled') {
        throw stepFailure(
          outcome.error ?? { message: `step ${step.id} ${outcome.status}`, type: outcome.status, step_id: step.id },
          outcome.at,
        );
      }
      if (outcome.status !== 'skipped') last = outcome.result;
    }
    return last;
  }

  const workflowActor = workflowMachine.provide({
    actors: {
      runSteps: fromPromise(async ({ input, system }) => {
        const execution = executions.get(system);
        if (!execution) throw new Error(`no workflow execution ${input.actorId}`);
        const replay = execution.replay;
        const frame: Frame = {
          prefix: execution.prefix,
          parentId: execution.actorId,
          signal: execution.controller.signal,
          locals: undefined,
          error: undefined,
          ...(replay ? { cursor: { seq: replay.since, since: replay.since, live: true } } : {}),
        };
        try {
          // Re-entered from the log: state and computed were folded from it, their evaluations are recorded there.
          if (!replay) {
            const { computed, traces } = await evaluateComputed(
              execution.workflow.computed,
              scopeOf(execution, frame),
              'all',
              {
                ...expressionContext,
                now: () => clock.now(),
              },
            );
            recordComputed(execution, computed, traces);
          }
          await runStepList(execution, execution.workflow.steps, frame);
        } catch (error) {
          throw { ...toFailure(error, execution.actorId), steps: execution.stepsExecuted };
        }
        return { result: execution.returned?.value ?? null, steps: execution.stepsExecuted, at: clock.now() };
      }),
    },
    actions: {
      abortSteps: ({ system }, params: { reason: string }) => {
        // After this transition: aborting makes other actors (the steps) take transitions of their own.
        const execution = executions.get(system);
        queueMicrotask(() => execution?.controller.abort(params.reason));
      },
    },
  });

  function runWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome> {
    const actor = createActor(workflowActor, { ...actorOptions, input });
    executions.set(actor.system, execution);
    const replaying = execution.replay !== undefined;
    actor.on('*', (fact) => {
      // A workflow re-entered from the log started there: it goes on without starting again.
      if (replaying && fact.type === 'workflow.started') return;
      deps.record(execution.runId, fact);
    });
    return new Promise<WorkflowOutcome>((resolve, reject) => {
      actor.subscribe({
        complete: () => {
          executions.delete(actor.system);
          const outcome = actor.getSnapshot().output;
          if (outcome) resolve(outcome);
          else reject(new Error(`workflow ${execution.workflow.name} ended without an outcome`));
        },
        error: (error) => {
          executions.delete(actor.system);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      });
      execution.cancel = (reason: string) => actor.send({ type: 'CANCEL', reason, at: clock.now() });
      actor.start();
      // Cancelled before it started: it starts, and stops at once with its cancel recorded.
      if (execution.controller.signal.aborted) execution.cancel(abortReason(execution.controller.signal));
    });
  }

  return { runWorkflow };
}
