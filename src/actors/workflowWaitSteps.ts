// What a wait step does, and the cancellable wait on the clock that polls share.
import type { Clock } from '../common/clock.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { CompiledStepOf } from '../workflow/compiledWorkflow.js';
import { evaluateCondition } from '../workflow/render.js';
import { abortReason, stepFailure, type WorkflowExecution } from './workflowExecution.js';
import type { Attempt, StepKindDeps } from './workflowSteps.js';

export async function wait(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'wait'>,
  attempt: Attempt,
): Promise<unknown> {
  const scope = () => deps.scopeOf(execution, attempt);
  // A resumed wait keeps the deadline it had.
  const started = attempt.replaying?.at ?? deps.clock.now();
  if (step.durationMs !== undefined) {
    await sleep(deps.clock, Math.max(0, started + step.durationMs - deps.clock.now()), attempt.signal);
  } else if (step.until !== undefined) {
    while (!(await evaluateCondition(step.until, scope(), deps.expressionContext))) {
      await sleep(deps.clock, step.intervalMs, attempt.signal);
    }
  }
  return { waited_ms: deps.clock.now() - started };
}

/** Waits on the clock; rejects as cancelled when the signal aborts. */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(stepFailure({ message: abortReason(signal), type: StepErrorType.cancelled }, clock.now()));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
