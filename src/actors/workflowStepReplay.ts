// A step execution in a resumed run: the scope its evaluations read, where it re-enters, and the outcome the log gives.
import type { StepMachineInput, StepOutcome } from '../machines/workflowTypes.js';
import type { CompiledStep } from '../workflow/compiledWorkflow.js';
import type { ErrorInfo, StepRecord, WorkflowScope } from '../workflow/scope.js';
import type { WorkflowExecution } from './workflowExecution.js';
import type { Frame } from './workflowExecutor.js';
import type { StepOccurrence } from './workflowReplay.js';

export function scopeOf(
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

/** Where a step the log says started goes on: the step actor's resume input, and the frame its children run in. */
export function reentry(
  occurrence: StepOccurrence | undefined,
  frame: Frame,
): { resume: StepMachineInput['resume']; frame: Frame } {
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
  return { resume, frame: stepFrame };
}

/** A step execution the log says ended: its recorded outcome, without running it or recording anything. */
export function replayed(
  execution: WorkflowExecution,
  step: CompiledStep,
  frame: Frame,
  outcome: StepOutcome,
  endSeq: number | undefined,
): StepOutcome {
  keepRecord(execution, step, frame, outcome);
  if (step.type === 'return' && outcome.status === 'succeeded') execution.returned = { value: outcome.result };
  if (frame.cursor && endSeq !== undefined) frame.cursor.seq = Math.max(frame.cursor.seq, endSeq);
  return outcome;
}

/** Keeps a step's outcome as `steps.<id>` reads it: in the run, and in the loop iteration it ran in. */
export function keepRecord(execution: WorkflowExecution, step: CompiledStep, frame: Frame, outcome: StepOutcome): void {
  const status = outcome.status === 'cancelled' ? 'failed' : outcome.status;
  const record: StepRecord = {
    status,
    ...(outcome.result === undefined ? {} : { result: outcome.result }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
  execution.steps[step.id] = record;
  if (frame.iterationSteps) frame.iterationSteps[step.id] = record;
}
