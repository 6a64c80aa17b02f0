// Runs a workflow's steps: one step actor (src/machines/workflowStep.ts) per step execution, step lists in order,
// nested lists for conditionals, branches, loops and polls, sub-workflows as child workflow actors.
import { createActor, fromPromise } from 'xstate';
import type { Clock, RandomSource } from '../common/clock.js';
import { isRetraceError } from '../common/errors.js';
import { workflowMachine } from '../machines/workflow.js';
import { asFailure, workflowStepMachine } from '../machines/workflowStep.js';
import type {
  ExecuteFailure,
  StepOutcome,
  StepsOutput,
  WorkflowEmitted,
  WorkflowMachineInput,
  WorkflowOutcome,
} from '../machines/workflowTypes.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { CompiledStep } from '../workflow/compiledWorkflow.js';
import { evaluateComputed, type ComputedTrace } from '../workflow/computedGraph.js';
import type { EvaluationContext } from '../workflow/expression.js';
import { evaluateCondition, renderValue } from '../workflow/render.js';
import type { ErrorInfo, StepRecord, WorkflowScope } from '../workflow/scope.js';
import { applyStateOperation } from '../workflow/stateUpdate.js';
import type { StateOperation } from '../workflow/workflowSchema.js';
import { executeStep, type StateUpdateOptions, type StepKindDeps } from './workflowSteps.js';
import type { ReplayCursor, StepOccurrence } from './workflowReplay.js';
import { abortReason, isStepFailure, stepFailure, type WorkflowExecution } from './workflowExecution.js';

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
}

interface StepJob {
  execution: WorkflowExecution;
  step: CompiledStep;
  frame: Frame;
  actorId: string;
  /** In a resumed run: what the log has of this step execution (it started, and did not end, before the crash). */
  occurrence: StepOccurrence | undefined;
}

export interface Executor {
  /** Runs a workflow as a workflow actor to its end. */
  runWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome>;
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const { clock } = deps;
  /**
   * Each step actor's job, by the actor's system (its invoked actors share it): the lookup does not depend on actor
   * ids, which only need to be unique within a run.
   */
  const jobs = new WeakMap<object, StepJob>();
  /** Each workflow actor's execution, by its system too (a sub-workflow's actor id is not unique across runs). */
  const executions = new WeakMap<object, WorkflowExecution>();

  const expressionContext: EvaluationContext = { now: () => clock.now(), random: deps.random };

  function scopeOf(
    execution: WorkflowExecution,
    frame: Frame,
    error: ErrorInfo | undefined = frame.error,
  ): WorkflowScope {
    // A step re-entered from the log evaluates its conditions and templates against the state as it was when it
    // started (folded from the log up to there, moved on past each child whose outcome the log gives), not the
    // state the run reached later; once one of its children ran live, the live state is the state.
    const cursor = frame.cursor;
    const view =
      cursor && !cursor.live && execution.replay
        ? execution.replay.log.stateAt(execution.actorId, execution.workflow.initialState, cursor.seq)
        : execution;
    return {
      inputs: execution.inputs,
      state: view.state,
      computed: view.computed,
      steps: frame.iterationSteps ? { ...execution.steps, ...frame.iterationSteps } : execution.steps,
      env: execution.env,
      ...(frame.locals === undefined ? {} : { locals: frame.locals }),
      ...(error === undefined ? {} : { error }),
    };
  }

  /** Any failure as an ExecuteFailure: expression and state errors say what and where. */
  function toFailure(error: unknown, stepId: string): ExecuteFailure {
    if (isStepFailure(error)) return error;
    if (isRetraceError(error)) {
      const type = error.code === 'E_EXPRESSION' ? 'expression' : error.code === 'E_STORE' ? 'store' : 'workflow';
      return stepFailure({ message: error.describe(), type, step_id: stepId }, clock.now());
    }
    return asFailure(error, clock.now());
  }

  function job(system: object, actorId: string): StepJob {
    const found = jobs.get(system);
    if (!found) throw new Error(`no step job ${actorId}`);
    return found;
  }

  const stepMachine = workflowStepMachine.provide({
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
          const result = await executeStep(kindDeps, current.execution, current.step, {
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
            await updateState(execution, step.id, update.path, 'set', value, 'error_state_update', {
              stepActorId: input.actorId,
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

  function runStep(execution: WorkflowExecution, step: CompiledStep, frame: Frame): Promise<StepOutcome> {
    let actorId = `${frame.prefix}${step.id}`;
    // Unique within the run (a step id may run twice at once, in parallel branches): not across runs.
    for (let n = 2; execution.running.has(actorId); n += 1) actorId = `${frame.prefix}${step.id}~${n}`;
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
    // Re-entered from the log (it had started): it resumes at its last attempt, without evaluating `when` again.
    const started = occurrence?.started;
    const resume = started
      ? occurrence.retrying
        ? { attempts: occurrence.retrying.attempt, retryAt: occurrence.retrying.until }
        : { attempts: started.attempt - 1 }
      : occurrence?.aborted
        ? { attempts: 0 }
        : undefined;
    // Its children are looked up in the log after `since`; its evaluations read the state as of its start, unless
    // it resumes into a new attempt (a pending retry), which starts now.
    const stepFrame: Frame = started
      ? { ...frame, cursor: { seq: started.seq, since: occurrence.since, live: occurrence.retrying !== undefined } }
      : { ...frame, cursor: undefined };
    execution.running.add(actorId);
    const actor = createActor(stepMachine, {
      clock,
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
          const record = recordOf(outcome);
          execution.steps[step.id] = record;
          if (frame.iterationSteps) frame.iterationSteps[step.id] = record;
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

  /** A step execution the log says ended: its recorded outcome, without running it or recording anything. */
  function replayed(
    execution: WorkflowExecution,
    step: CompiledStep,
    frame: Frame,
    outcome: StepOutcome,
    endSeq: number | undefined,
  ): StepOutcome {
    const record = recordOf(outcome);
    execution.steps[step.id] = record;
    if (frame.iterationSteps) frame.iterationSteps[step.id] = record;
    if (step.type === 'return' && outcome.status === 'succeeded') execution.returned = { value: outcome.result };
    if (frame.cursor && endSeq !== undefined) frame.cursor.seq = Math.max(frame.cursor.seq, endSeq);
    return outcome;
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

  async function updateState(
    execution: WorkflowExecution,
    stepId: string,
    path: readonly string[],
    operation: StateOperation,
    value: unknown,
    recordedOp: StateOperation | 'error_state_update' = operation,
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
          op: recordedOp,
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
          if (replay) return await runReplayedSteps(execution, frame);
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

  async function runReplayedSteps(execution: WorkflowExecution, frame: Frame): Promise<StepsOutput> {
    try {
      await runStepList(execution, execution.workflow.steps, frame);
    } catch (error) {
      throw { ...toFailure(error, execution.actorId), steps: execution.stepsExecuted };
    }
    return { result: execution.returned?.value ?? null, steps: execution.stepsExecuted, at: clock.now() };
  }

  function runWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome> {
    const actor = createActor(workflowActor, { clock, input });
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

  const kindDeps: StepKindDeps = {
    ...deps,
    runStep,
    runSteps: runStepList,
    updateState: (execution, stepId, path, operation, value, options) =>
      updateState(execution, stepId, path, operation, value, operation, options),
    scopeOf,
    expressionContext,
    runSubWorkflow: (execution, input) => runWorkflow(execution, input),
  };

  return { runWorkflow };
}

function recordOf(outcome: StepOutcome): StepRecord {
  const status = outcome.status === 'cancelled' ? 'failed' : outcome.status;
  return {
    status,
    ...(outcome.result === undefined ? {} : { result: outcome.result }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
}
