// What the steps that hold steps do in one attempt: poll, parallel and foreach (fanned out), sub-workflows.
import type { StepError, StepOutcome, WorkflowOutcome } from '../machines/workflowTypes.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { CompiledStepOf, ForeachStep, ParallelStep, PollStep } from '../workflow/compiledWorkflow.js';
import { resolveInputs } from '../workflow/inputs.js';
import { evaluateCondition } from '../workflow/render.js';
import type { Frame } from './workflowExecutor.js';
import {
  abortReason,
  createExecution,
  isStepFailure,
  stepFailure,
  workflowHash,
  type WorkflowExecution,
} from './workflowExecution.js';
import type { Attempt, Fail, Render, StepKindDeps } from './workflowSteps.js';
import { sleep } from './workflowWaitSteps.js';

export async function poll(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: PollStep,
  attempt: Attempt,
  fail: Fail,
): Promise<unknown> {
  const { clock } = deps;
  const startedAt = attempt.replaying?.at ?? clock.now();
  const deadline = step.timeoutMs === undefined ? undefined : startedAt + step.timeoutMs;
  const inside: Frame = { ...attempt, parentId: attempt.actorId };
  // Cancel steps run to their end, whatever stopped the polling.
  const cancelFrame = (locals: Frame['locals']): Frame => ({ ...inside, locals, signal: new AbortController().signal });
  let last: unknown;
  let locals: Frame['locals'] = attempt.locals;
  for (let round = 1; ; round += 1) {
    let outcome: StepOutcome;
    try {
      outcome = await deps.runStep(execution, step.step, {
        ...inside,
        prefix: `${attempt.prefix}${step.id}#${round}.`,
      });
    } catch (error) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw error;
    }
    if (outcome.status === 'failed' || outcome.status === 'cancelled') {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw stepFailure(
        outcome.error ?? { message: `poll ${step.id} failed`, type: outcome.status, step_id: step.id },
        outcome.at,
      );
    }
    last = outcome.result;
    locals = { ...attempt.locals, result: last, attempt: round };
    const scope = deps.scopeOf(execution, { ...inside, locals });
    if (step.failWhen && (await evaluateCondition(step.failWhen, scope, deps.expressionContext))) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      return fail({ message: `poll ${step.id}: fail_when held at round ${round}`, type: 'poll_failed' });
    }
    if (await evaluateCondition(step.until, scope, deps.expressionContext)) return last;
    const outOfPolls = step.maxPolls !== undefined && round >= step.maxPolls;
    const outOfTime = deadline !== undefined && clock.now() + step.intervalMs > deadline;
    if (outOfPolls || outOfTime) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      if (step.onTimeout === 'fail') {
        const why = outOfPolls ? `${round} polls` : `${step.timeoutMs ?? 0} ms`;
        return fail({ message: `poll ${step.id}: not done after ${why}`, type: StepErrorType.timeout });
      }
      if (step.onTimeout !== 'continue') await deps.runSteps(execution, step.onTimeout, { ...inside, locals });
      return last;
    }
    try {
      await sleep(clock, step.intervalMs, attempt.signal);
    } catch (error) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw error;
    }
  }
}

/** Runs `count` tasks with at most `limit` at a time; the first failure (when `failFast`) aborts the rest. */
async function fanOut(
  deps: StepKindDeps,
  stepId: string,
  count: number,
  limit: number,
  failFast: boolean,
  frame: Frame,
  task: (index: number, signal: AbortSignal) => Promise<unknown>,
): Promise<unknown[]> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(frame.signal.reason);
  frame.signal.addEventListener('abort', onAbort, { once: true });
  if (frame.signal.aborted) onAbort();
  const results: unknown[] = new Array<unknown>(count).fill(null);
  const failures: Array<{ index: number; error: StepError }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !controller.signal.aborted) {
      const index = next++;
      try {
        results[index] = await task(index, controller.signal);
      } catch (error) {
        const failure = isStepFailure(error) ? error.error : { message: String(error), type: 'internal' };
        failures.push({ index, error: failure });
        if (failFast && !controller.signal.aborted) controller.abort(`${stepId}: ${failure.message}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  } finally {
    frame.signal.removeEventListener('abort', onAbort);
  }
  if (frame.signal.aborted) {
    throw stepFailure(
      { message: abortReason(frame.signal), type: StepErrorType.cancelled, step_id: stepId },
      deps.clock.now(),
    );
  }
  // Under fail_fast, branches cancelled because of the first failure are not failures of their own.
  const real = failures.filter((failure) => failure.error.type !== StepErrorType.cancelled || !failFast);
  const first = real.sort((a, b) => a.index - b.index)[0] ?? failures[0];
  if (first === undefined) return results;
  if (failFast || real.length === 1) throw stepFailure(first.error, deps.clock.now());
  throw stepFailure(
    {
      message: `${real.length} of ${count} branches of ${stepId} failed: ${real.map((failure) => failure.error.message).join('; ')}`,
      type: first.error.type,
      step_id: stepId,
      errors: real.map(({ error }) => ({
        message: error.message,
        type: error.type,
        ...(error.step_id === undefined ? {} : { step_id: error.step_id }),
      })),
    },
    deps.clock.now(),
  );
}

export function parallel(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: ParallelStep,
  frame: Frame,
): Promise<unknown[]> {
  const count = step.branches.length;
  return fanOut(
    deps,
    step.id,
    count,
    step.concurrency ?? count,
    step.strategy === 'fail_fast',
    frame,
    (index, signal) => deps.runSteps(execution, step.branches[index] ?? [], { ...frame, signal }),
  );
}

export async function foreach(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: ForeachStep,
  frame: Frame,
  render: Render,
): Promise<unknown[]> {
  const items = await render(step.items);
  if (!Array.isArray(items)) {
    throw stepFailure(
      {
        message: `foreach ${step.id}: items is ${items === null || items === undefined ? 'nothing' : typeof items}, not a list`,
        type: 'expression',
        step_id: step.id,
      },
      deps.clock.now(),
    );
  }
  return fanOut(deps, step.id, items.length, step.concurrency, true, frame, (index, signal) =>
    deps.runSteps(execution, step.steps, {
      ...frame,
      signal,
      prefix: `${frame.prefix}${step.id}[${index}].`,
      iterationSteps: {},
      locals: { ...frame.locals, [step.as]: items[index] as unknown, [step.indexAs]: index },
    }),
  );
}

export async function subWorkflow(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'workflow'>,
  attempt: Attempt,
  render: Render,
  fail: Fail,
): Promise<unknown> {
  const given = (await render(step.inputs)) as Record<string, unknown>;
  let inputs: Record<string, unknown>;
  try {
    inputs = resolveInputs(step.workflow, given ?? {});
  } catch (error) {
    return fail({ message: error instanceof Error ? error.message : String(error), type: 'inputs' });
  }
  const actorId = `${attempt.actorId}:workflow`;
  const child = createExecution({
    runId: execution.runId,
    workflow: step.workflow,
    inputs,
    actorId,
    prefix: `${attempt.actorId}/`,
  });
  const log = execution.replay?.log;
  if (attempt.replaying && log?.startedAfter(actorId, attempt.replaying.since)) {
    // The sub-workflow had started: it is re-entered from the log too, with its state as recorded.
    child.replay = { log, since: attempt.replaying.since };
    Object.assign(child, log.stateAt(actorId, step.workflow.initialState));
  }
  const onAbort = () => child.controller.abort(attempt.signal.reason);
  attempt.signal.addEventListener('abort', onAbort, { once: true });
  if (attempt.signal.aborted) onAbort();
  let outcome: WorkflowOutcome;
  try {
    outcome = await deps.runSubWorkflow(child, {
      actorId,
      parentId: attempt.actorId,
      stepId: step.id,
      name: step.workflow.name,
      file: step.workflow.file,
      hash: workflowHash(step.workflow),
      inputs,
      timeoutMs: step.workflow.timeoutMs,
      startedAt: deps.clock.now(),
    });
  } finally {
    attempt.signal.removeEventListener('abort', onAbort);
  }
  if (outcome.status === 'succeeded') return outcome.result;
  if (outcome.status === 'cancelled' || attempt.signal.aborted) {
    return fail({ message: abortReason(attempt.signal), type: StepErrorType.cancelled });
  }
  return fail(
    outcome.error ?? { message: `sub-workflow ${step.workflow.name} ${outcome.status}`, type: outcome.status },
  );
}
