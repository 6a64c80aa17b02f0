// The workflow actor: starts the run, runs its steps (the executor's `runSteps` actor), bounds it by the workflow's
// timeout, and ends succeeded, failed, escalated or cancelled — a cancel or timeout aborts the steps, whose cleanup
// runs before the run ends.
import { assign, emit, fromPromise, setup } from 'xstate';
import { asFailure } from './workflowStep.js';
import type {
  StepsOutput,
  WorkflowContext,
  WorkflowEmitted,
  WorkflowMachineInput,
  WorkflowOutcome,
  WorkflowStatus,
} from './workflowTypes.js';
import { StepErrorType } from './workflowTypes.js';

export type WorkflowCancelEvent = { type: 'CANCEL'; reason?: string; at?: number };

function where(context: WorkflowContext) {
  const { actorId, parentId } = context.input;
  return { actorId, ...(parentId === undefined ? {} : { parentId }), at: context.now };
}

const unknownError = { message: 'unknown failure', type: 'internal' };

export const workflowMachine = setup({
  types: {
    context: {} as WorkflowContext,
    input: {} as WorkflowMachineInput,
    events: {} as WorkflowCancelEvent,
    emitted: {} as WorkflowEmitted,
    output: {} as WorkflowOutcome,
  },
  actors: {
    /** Evaluates computed fields, then runs the steps; rejects with an ExecuteFailure. */
    runSteps: fromPromise<StepsOutput, { actorId: string }>(() => {
      throw new Error('workflowMachine: the runSteps actor was not provided');
    }),
  },
  delays: {
    workflowTimeout: ({ context }) => context.input.timeoutMs ?? 0,
  },
  guards: {
    hasTimeout: ({ context }) => context.input.timeoutMs !== undefined,
    wasCancelled: ({ context }) => context.cancelReason !== undefined,
    escalated: ({ context }) => context.error?.type === StepErrorType.escalated,
  },
  actions: {
    /** Provided by the executor: aborts the running steps (they cancel, run their cleanup, then `runSteps` settles). */
    abortSteps: (_args, _params: { reason: string }) => undefined,
    recordDone: assign((_args, output: StepsOutput) => ({
      result: output.result,
      steps: output.steps,
      now: output.at,
    })),
    recordFailure: assign(({ context }, params: { error: unknown }) => {
      const failure = asFailure(params.error, context.now);
      const steps = (params.error as { steps?: unknown }).steps;
      const error = context.timedOut
        ? {
            message: `workflow ${context.input.name} timed out after ${context.input.timeoutMs ?? 0} ms`,
            type: StepErrorType.timeout,
          }
        : failure.error;
      return {
        error,
        now: Math.max(context.now, failure.at),
        ...(typeof steps === 'number' ? { steps } : {}),
      };
    }),
    recordCancel: assign(({ context, event }) => ({
      cancelReason: event.reason ?? 'cancelled',
      now: Math.max(context.now, event.at ?? context.now),
    })),
    recordTimeout: assign(({ context }) => ({
      now: context.now + (context.input.timeoutMs ?? 0),
      timedOut: true,
    })),
    markStatus: assign((_args, params: { status: WorkflowStatus }) => ({ status: params.status })),
    emitStarted: emit(({ context }) => ({
      type: 'workflow.started' as const,
      ...where(context),
      name: context.input.name,
      file: context.input.file,
      hash: context.input.hash,
      inputs: context.input.inputs,
      ...(context.input.initialState === undefined ? {} : { state: context.input.initialState }),
      ...(context.input.stepId === undefined ? {} : { stepId: context.input.stepId }),
    })),
    emitSucceeded: emit(({ context }) => ({
      type: 'workflow.succeeded' as const,
      ...where(context),
      ...(context.result === undefined ? {} : { result: context.result }),
      steps: context.steps,
    })),
    emitFailed: emit(({ context }) => ({
      type: 'workflow.failed' as const,
      ...where(context),
      error: context.error ?? unknownError,
      steps: context.steps,
    })),
    emitEscalated: emit(({ context }) => ({
      type: 'workflow.escalated' as const,
      ...where(context),
      error: context.error ?? unknownError,
      steps: context.steps,
      ...(context.error?.actor_id === undefined ? {} : { stepActorId: context.error.actor_id }),
    })),
    emitCancelled: emit(({ context }) => ({
      type: 'workflow.cancelled' as const,
      ...where(context),
      reason: context.cancelReason ?? 'cancelled',
      steps: context.steps,
      ...(context.error === undefined ? {} : { error: context.error }),
    })),
  },
}).createMachine({
  id: 'workflow',
  context: ({ input }) => ({
    input,
    now: input.startedAt,
    status: 'running',
    result: undefined,
    error: undefined,
    steps: 0,
    cancelReason: undefined,
    timedOut: false,
  }),
  initial: 'running',
  states: {
    running: {
      entry: 'emitStarted',
      invoke: {
        src: 'runSteps',
        input: ({ context }) => ({ actorId: context.input.actorId }),
        onDone: { target: 'succeeded', actions: { type: 'recordDone', params: ({ event }) => event.output } },
        onError: {
          target: 'deciding',
          actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
        },
      },
      on: {
        CANCEL: {
          target: '.stopping',
          actions: [
            'recordCancel',
            { type: 'abortSteps', params: ({ event }) => ({ reason: event.reason ?? 'cancelled' }) },
          ],
        },
      },
      initial: 'bounding',
      states: {
        bounding: { always: [{ guard: 'hasTimeout', target: 'bounded' }, { target: 'unbounded' }] },
        bounded: {
          after: {
            workflowTimeout: {
              target: 'stopping',
              actions: [
                'recordTimeout',
                {
                  type: 'abortSteps',
                  params: ({ context }) => ({
                    reason: `workflow ${context.input.name} timed out after ${context.input.timeoutMs ?? 0} ms`,
                  }),
                },
              ],
            },
          },
        },
        unbounded: {},
        /** Waiting for the aborted steps to finish their cleanup. */
        stopping: { on: { CANCEL: {} } },
      },
    },
    deciding: {
      always: [
        { guard: 'wasCancelled', target: 'cancelled' },
        { guard: 'escalated', target: 'escalated' },
        { target: 'failed' },
      ],
    },
    succeeded: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'succeeded' } }, 'emitSucceeded'] },
    failed: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'failed' } }, 'emitFailed'] },
    escalated: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'escalated' } }, 'emitEscalated'] },
    cancelled: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'cancelled' } }, 'emitCancelled'] },
  },
  output: ({ context }): WorkflowOutcome => ({
    status: context.status === 'running' ? 'failed' : context.status,
    steps: context.steps,
    at: context.now,
    ...(context.result === undefined ? {} : { result: context.result }),
    ...(context.error === undefined || context.status === 'succeeded' ? {} : { error: context.error }),
  }),
});

export type WorkflowMachine = typeof workflowMachine;
