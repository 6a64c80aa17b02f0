// The life of one workflow step: `when`, attempts bounded by the step's timeout, on_error (retry on the clock,
// continue, fallback, fail), error_state_update, cleanup on failure and on cancel. Facts are emitted; work is
// done by the actors the executor provides (src/actors/workflowSteps.ts).
import { assign, emit, fromPromise, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import { backoffDelayMs } from '../policy/backoff.js';
import type {
  ExecuteFailure,
  ExecuteOutput,
  StepContext,
  StepError,
  StepMachineInput,
  StepOutcome,
  StepStatus,
  WorkflowEmitted,
} from './workflowTypes.js';
import { StepErrorType } from './workflowTypes.js';

export type StepCancelEvent = { type: 'CANCEL'; reason?: string; at?: number };

function where(context: StepContext) {
  const { actorId, parentId, stepId, stepType } = context.input;
  return { actorId, parentId, stepId, stepType, at: context.now };
}

/** A rejection of an actor as a step failure: the executor rejects with ExecuteFailure; anything else is a bug to report, not to hide. */
export function asFailure(error: unknown, now: number): ExecuteFailure {
  if (typeof error === 'object' && error !== null && 'error' in error && 'at' in error) {
    return error as ExecuteFailure;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: { message, type: 'internal' }, at: now };
}

/** Escalated (waiting for a person) or aborted by one: no retry, continue or fallback recovers from it. */
function needsPerson(error: StepError | undefined): boolean {
  return error?.type === StepErrorType.escalated || error?.type === StepErrorType.aborted;
}

function notProvided(name: string): never {
  throw new Error(`workflowStepMachine: the ${name} actor was not provided`);
}

/** One attempt of the step's work, invoked by both attempt states (`running`, `runningBounded`). */
const attempt = {
  src: 'execute',
  input: ({ context }: { context: StepContext }) => ({ actorId: context.input.actorId, attempt: context.attempt }),
  onDone: {
    target: 'succeeded',
    actions: {
      type: 'recordResult',
      params: ({ event }: { event: DoneActorEvent<ExecuteOutput> }) => event.output,
    },
  },
  onError: {
    target: 'noting',
    actions: { type: 'recordFailure', params: ({ event }: { event: ErrorActorEvent }) => ({ error: event.error }) },
  },
} as const;

/** A retry's delay is over: the next attempt, bounded or not. */
const attemptAgain = [
  { guard: 'hasTimeout', target: 'runningBounded', actions: 'retryDue' },
  { target: 'running', actions: 'retryDue' },
] as const;

export const workflowStepMachine = setup({
  types: {
    context: {} as StepContext,
    input: {} as StepMachineInput,
    events: {} as StepCancelEvent,
    emitted: {} as WorkflowEmitted,
    output: {} as StepOutcome,
  },
  actors: {
    /** Evaluates the step's `when`. */
    checkWhen: fromPromise<{ run: boolean; at: number }, { actorId: string }>(() => notProvided('checkWhen')),
    /** One attempt of the step's work; stopping it aborts the work (kills the child, cancels the call). */
    execute: fromPromise<ExecuteOutput, { actorId: string; attempt: number }>(() => notProvided('execute')),
    /** Writes the step's `error_state_update` (a no-op without one). */
    noteError: fromPromise<{ at: number }, { actorId: string; error: StepError }>(() => notProvided('noteError')),
    /** Renders `fallback_value` with `error` in scope (nothing when there is none). */
    renderFallback: fromPromise<{ value: unknown; at: number }, { actorId: string; error: StepError }>(() =>
      notProvided('renderFallback'),
    ),
    /** Runs the step's cleanup steps; never cancelled, their own failures are recorded and do not replace the step's. */
    cleanup: fromPromise<{ at: number }, { actorId: string; error: StepError | undefined }>(() =>
      notProvided('cleanup'),
    ),
  },
  delays: {
    retryDelay: ({ context }) => Math.max(0, (context.retryAt ?? context.now) - context.now),
    attemptTimeout: ({ context }) => context.input.attemptTimeoutMs ?? 0,
  },
  guards: {
    hasWhen: ({ context }) => context.input.hasWhen,
    hasTimeout: ({ context }) => context.input.attemptTimeoutMs !== undefined,
    hasCleanup: ({ context }) => context.input.hasCleanup,
    // An escalated step waits for a person: its cleanup runs only if they abort the run.
    cleansUpNow: ({ context }) => context.input.hasCleanup && context.error?.type !== StepErrorType.escalated,
    resumesInBackoff: ({ context }) => context.retryAt !== undefined,
    shouldRun: (_args, output: { run: boolean }) => output.run,
    shouldRunBounded: ({ context }, output: { run: boolean }) =>
      output.run && context.input.attemptTimeoutMs !== undefined,
    wasCancelled: ({ context }) => context.error?.type === StepErrorType.cancelled,
    canRetry: ({ context }) =>
      context.input.strategy === 'retry' &&
      !needsPerson(context.error) &&
      context.attempt <= context.input.retry.maxRetries,
    recovers: ({ context }) =>
      (context.input.strategy === 'continue' || context.input.strategy === 'fallback') && !needsPerson(context.error),
  },
  actions: {
    startAttempt: assign(({ context }) => ({ attempt: context.attempt + 1, error: undefined })),
    recordResult: assign((_args, output: ExecuteOutput) => ({ result: output.result, now: output.at })),
    recordFailure: assign(({ context }, params: { error: unknown }) => {
      const failure = asFailure(params.error, context.now);
      return {
        now: Math.max(context.now, failure.at),
        error: {
          ...failure.error,
          step_id: failure.error.step_id ?? context.input.stepId,
          actor_id: failure.error.actor_id ?? context.input.actorId,
          attempt: context.attempt,
        },
      };
    }),
    recordTimeout: assign(({ context }) => ({
      now: context.now + (context.input.attemptTimeoutMs ?? 0),
      error: {
        message: `step ${context.input.stepId} timed out after ${context.input.attemptTimeoutMs ?? 0} ms`,
        type: StepErrorType.timeout,
        step_id: context.input.stepId,
        attempt: context.attempt,
      },
    })),
    markStatus: assign((_args, params: { status: StepStatus }) => ({ status: params.status })),
    advanceClock: assign((_args, params: { at: number }) => ({ now: params.at })),
    scheduleRetry: assign(({ context }) => ({
      retryAt: context.now + backoffDelayMs(context.input.retry, context.attempt - 1, 0),
    })),
    retryDue: assign(({ context }) => ({ now: context.retryAt ?? context.now, retryAt: undefined })),
    recordFallback: assign((_args, output: { value: unknown; at: number }) => ({
      result: output.value,
      now: output.at,
    })),
    recordCancel: assign(({ context, event }) => ({
      cancelReason: event.reason ?? 'cancelled',
      now: Math.max(context.now, event.at ?? context.now),
      error: {
        message: event.reason ?? 'cancelled',
        type: StepErrorType.cancelled,
        step_id: context.input.stepId,
        attempt: context.attempt,
      },
    })),

    emitStarted: emit(({ context }) => ({
      type: 'workflow.step.started' as const,
      ...where(context),
      attempt: context.attempt,
    })),
    emitSucceeded: emit(({ context }) => ({
      type: 'workflow.step.succeeded' as const,
      ...where(context),
      attempt: context.attempt,
      ...(context.result === undefined ? {} : { result: context.result }),
    })),
    emitSkipped: emit(({ context }) => ({
      type: 'workflow.step.skipped' as const,
      ...where(context),
      reason: 'when' as const,
    })),
    emitRetrying: emit(({ context }) => ({
      type: 'workflow.step.retrying' as const,
      ...where(context),
      attempt: context.attempt,
      delayMs: Math.max(0, (context.retryAt ?? context.now) - context.now),
      until: context.retryAt ?? context.now,
      error: context.error ?? { message: 'unknown failure', type: 'internal' },
    })),
    emitFallback: emit(({ context }) => ({
      type: 'workflow.step.fallback' as const,
      ...where(context),
      strategy: context.input.strategy === 'fallback' ? ('fallback' as const) : ('continue' as const),
      ...(context.result === undefined ? {} : { value: context.result }),
      error: context.error ?? { message: 'unknown failure', type: 'internal' },
    })),
    emitFailed: emit(({ context }) => ({
      type: 'workflow.step.failed' as const,
      ...where(context),
      attempts: context.attempt,
      error: context.error ?? { message: 'unknown failure', type: 'internal' },
    })),
    emitCancelled: emit(({ context }) => ({
      type: 'workflow.step.cancelled' as const,
      ...where(context),
      reason: context.cancelReason ?? 'cancelled',
    })),
  },
}).createMachine({
  id: 'step',
  context: ({ input }) => ({
    input,
    attempt: input.resume?.attempts ?? 0,
    now: input.startedAt,
    result: undefined,
    error: undefined,
    retryAt: input.resume?.retryAt,
    cancelReason: undefined,
    status: undefined,
  }),
  initial: 'starting',
  on: { CANCEL: { target: '.cancelling', actions: 'recordCancel' } },
  states: {
    starting: {
      always: [
        { guard: 'resumesInBackoff', target: 'resumingBackoff' },
        { guard: 'hasWhen', target: 'checking' },
        { guard: 'hasTimeout', target: 'runningBounded' },
        { target: 'running' },
      ],
    },
    /** A resumed step whose retry was pending: it keeps the recorded deadline, without recording it again. */
    resumingBackoff: { after: { retryDelay: attemptAgain } },
    checking: {
      invoke: {
        src: 'checkWhen',
        input: ({ context }) => ({ actorId: context.input.actorId }),
        onDone: [
          {
            guard: { type: 'shouldRunBounded', params: ({ event }) => event.output },
            target: 'runningBounded',
            actions: { type: 'advanceClock', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'shouldRun', params: ({ event }) => event.output },
            target: 'running',
            actions: { type: 'advanceClock', params: ({ event }) => event.output },
          },
          { target: 'skipped', actions: { type: 'advanceClock', params: ({ event }) => event.output } },
        ],
        onError: {
          target: 'noting',
          actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
        },
      },
    },
    // An attempt; one bounded by the step's timeout is its own state (a flat state costs XState far less per
    // step than a compound one choosing its timer with an eventless hop).
    running: { entry: ['startAttempt', 'emitStarted'], invoke: attempt },
    runningBounded: {
      entry: ['startAttempt', 'emitStarted'],
      invoke: attempt,
      after: { attemptTimeout: { target: 'noting', actions: 'recordTimeout' } },
    },
    noting: {
      invoke: {
        src: 'noteError',
        input: ({ context }) => ({
          actorId: context.input.actorId,
          error: context.error ?? { message: 'unknown failure', type: 'internal' },
        }),
        onDone: { target: 'deciding', actions: { type: 'advanceClock', params: ({ event }) => event.output } },
        // A failed error_state_update replaces the step's failure: the state it meant to write is not there.
        onError: {
          target: 'failing',
          actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
        },
      },
    },
    deciding: {
      always: [
        { guard: 'wasCancelled', target: 'cancelling' },
        { guard: 'canRetry', target: 'backingOff', actions: 'scheduleRetry' },
        { guard: 'recovers', target: 'recovering' },
        { target: 'failing' },
      ],
    },
    backingOff: {
      entry: 'emitRetrying',
      after: { retryDelay: attemptAgain },
    },
    recovering: {
      invoke: {
        src: 'renderFallback',
        input: ({ context }) => ({
          actorId: context.input.actorId,
          error: context.error ?? { message: 'unknown failure', type: 'internal' },
        }),
        onDone: { target: 'recovered', actions: { type: 'recordFallback', params: ({ event }) => event.output } },
        onError: {
          target: 'failing',
          actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) },
        },
      },
    },
    failing: { on: { CANCEL: {} }, always: [{ guard: 'cleansUpNow', target: 'cleaningUp' }, { target: 'failed' }] },
    cleaningUp: {
      // Cleanup runs to its end: a cancel arriving now changes nothing.
      on: { CANCEL: {} },
      invoke: {
        src: 'cleanup',
        input: ({ context }) => ({ actorId: context.input.actorId, error: context.error }),
        onDone: { target: 'failed', actions: { type: 'advanceClock', params: ({ event }) => event.output } },
        onError: { target: 'failed' },
      },
    },
    cancelling: {
      on: { CANCEL: {} },
      always: [{ guard: 'hasCleanup', target: 'cancelCleanup' }, { target: 'cancelled' }],
    },
    cancelCleanup: {
      on: { CANCEL: {} },
      invoke: {
        src: 'cleanup',
        input: ({ context }) => ({ actorId: context.input.actorId, error: context.error }),
        onDone: { target: 'cancelled', actions: { type: 'advanceClock', params: ({ event }) => event.output } },
        onError: { target: 'cancelled' },
      },
    },
    succeeded: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'succeeded' } }, 'emitSucceeded'] },
    skipped: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'skipped' } }, 'emitSkipped'] },
    recovered: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'fallback' } }, 'emitFallback'] },
    failed: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'failed' } }, 'emitFailed'] },
    cancelled: { type: 'final', entry: [{ type: 'markStatus', params: { status: 'cancelled' } }, 'emitCancelled'] },
  },
  output: ({ context }): StepOutcome => ({
    status: context.status ?? 'failed',
    attempts: context.attempt,
    at: context.now,
    ...(context.result === undefined ? {} : { result: context.result }),
    ...(context.error === undefined || context.status === 'succeeded' ? {} : { error: context.error }),
  }),
});

export type WorkflowStepMachine = typeof workflowStepMachine;
