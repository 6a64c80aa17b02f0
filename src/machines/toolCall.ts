// The tool-call actor: one MCP call with retry, backoff, circuit breaking, cache, fallback chain and escalation.
import { assign, emit, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import { classifyFailure } from '../policy/classify.js';
import { detectPartial } from '../policy/detectPartial.js';
import { EscalationTrigger, immediateTrigger } from '../policy/escalation.js';
import {
  attemptTimeoutMs,
  buildOutcome,
  explainDecision,
  nextTarget,
  planRetry,
  probeToken,
  summarizeFailure,
} from './toolCallDecisions.js';
import type {
  AttemptActorInput,
  AttemptActorOutput,
  CachedEntry,
  CacheLookupInput,
  Decision,
  ToolCallContext,
  ToolCallEmitted,
  ToolCallEvent,
  ToolCallInput,
  ToolCallOutcome,
} from './toolCallTypes.js';
import * as update from './toolCallUpdates.js';

function where(context: ToolCallContext) {
  return { callId: context.input.callId, server: context.current.server, tool: context.current.tool, at: context.now };
}

/** The breaker consulted before every attempt, with the attempt's token so that asking twice takes one probe. */
const breakerGate = {
  type: 'breakerRefuses' as const,
  params: ({ context }: { context: ToolCallContext }) => ({
    key: `${context.current.server}/${context.current.tool}`,
    token: probeToken(context.input.callId, context.attemptNumber + 1),
  }),
};

const unknownFailure = classifyFailure({ source: 'exception', name: 'Error', message: 'unknown failure' }, [], 0);

export const toolCallMachine = setup({
  types: {
    context: {} as ToolCallContext,
    input: {} as ToolCallInput,
    events: {} as ToolCallEvent,
    emitted: {} as ToolCallEmitted,
    output: {} as ToolCallOutcome,
  },
  actors: {
    /**
     * One MCP attempt; provided by the runtime (src/actors/attemptActor.ts). It sends back `ATTEMPT.DONE` with
     * the outcome — a `timeout` failure when `timeoutMs` passes on the clock — and stopping it cancels the call.
     */
    attempt: fromCallback<EventObject, AttemptActorInput>(() => {
      throw new Error('toolCallMachine: the attempt actor was not provided');
    }),
    /** Looks up a cached result of a read-only tool; provided by the runtime. */
    readCache: fromPromise<CachedEntry | undefined, CacheLookupInput>(() => Promise.resolve(undefined)),
  },
  guards: {
    /** Asks the shared breaker of (server, tool) for a permit; provided by the runtime. Idempotent per token. */
    breakerRefuses: (_args, _params: { key: string; token: string }) => false,
    attemptSucceeded: (_args, output: AttemptActorOutput) => output.ok,
    resultIsPartial: (_args, output: AttemptActorOutput) => output.ok && detectPartial(output.result) !== undefined,
    wasCancelled: ({ context }) => context.lastFailure?.kind === 'cancelled',
    needsPersonNow: ({ context }) =>
      context.lastFailure !== undefined && immediateTrigger(context.lastFailure) !== undefined,
    isPartialFailure: ({ context }) => context.lastFailure?.kind === 'partial',
    skippableDegraded: ({ context }) =>
      context.lastFailure?.kind === 'server_degraded' && !context.input.target.policy.critical,
    canUseSyncAlternative: ({ context }) =>
      context.lastFailure?.kind === 'worker_offline' &&
      context.route !== 'sync' &&
      context.input.syncAlternative !== undefined,
    unsafeToRepeat: ({ context }) =>
      context.lastFailure !== undefined &&
      context.lastFailure.maybeExecuted &&
      context.lastFailure.retryable &&
      !context.current.policy.idempotent,
    canRetry: ({ context }) => planRetry(context).retry,
    failsForCaller: ({ context }) =>
      context.route === 'primary' &&
      (context.lastFailure?.kind === 'invalid_input' || context.lastFailure?.kind === 'not_found'),
    cacheWorthReading: ({ context }) => !context.cacheTried && context.input.target.policy.cache.enabled,
    cacheFresh: ({ context }, entry: CachedEntry | undefined) =>
      entry !== undefined && context.now - entry.storedAt < context.input.target.policy.cache.ttlMs,
    nextIsTool: ({ context }) => Boolean(nextTarget(context)),
    nextIsEmpty: ({ context }) => nextTarget(context) === null,
    primaryIsCritical: ({ context }) => context.input.target.policy.critical,
    triedFallbacks: ({ context }) => context.chainIndex >= 0,
  },
  actions: {
    startAttempt: assign(({ context }) => update.startAttempt(context)),
    /** Provided by the runtime with the breaker's word on when it turns half-open (`update.shortCircuited`). */
    noteShortCircuit: assign(({ context }, _params: { key: string; token: string }) => update.shortCircuited(context)),
    recordSuccess: assign(({ context }, output: AttemptActorOutput) => update.succeeded(context, output)),
    recordFailure: assign(({ context }, output: AttemptActorOutput) =>
      output.ok ? {} : update.failedAttempt(context, output.failure, output.finishedAt),
    ),
    recordException: assign(({ context }, params: { error: unknown }) => update.exceptionThrown(context, params.error)),
    scheduleRetry: assign(({ context }) => update.scheduleRetry(context)),
    resumeAfterBackoff: assign(({ context }) => update.retryDue(context)),
    switchToSync: assign(({ context }) => update.switchToSync(context)),
    advanceToNextTool: assign(({ context }) => update.advanceToNextTool(context)),
    answerEmpty: assign(({ context }) => update.answerEmpty(context)),
    useCache: assign(({ context }, entry: CachedEntry | undefined) => update.servedFromCache(context, entry)),
    missCache: assign({ cacheTried: true }),
    markPartialFailure: assign(({ context }) => update.partialFailure(context)),
    markSkipped: assign(({ context }) => update.skipped(context)),
    escalate: assign(({ context }, params: { trigger?: EscalationTrigger }) =>
      update.escalated(context, params.trigger),
    ),
    markFailed: assign(() => update.failed()),
    markCancelled: assign(({ context }, params: { reason: string | undefined }) =>
      update.cancelled(context, params.reason),
    ),

    emitRequested: emit(({ context }) => ({
      type: 'toolcall.requested' as const,
      ...where(context),
      args: context.input.args,
      fallbacks: context.input.fallbacks.map((target) => (target ? `${target.server}/${target.tool}` : null)),
    })),
    emitAttemptStarted: emit(({ context }) => ({
      type: 'toolcall.attempt.started' as const,
      ...where(context),
      n: context.attemptNumber,
      route: context.route,
    })),
    emitAttemptFailed: emit(({ context }, params: { decision: Decision }) => ({
      type: 'toolcall.attempt.failed' as const,
      ...where(context),
      n: context.attemptNumber,
      durationMs: context.attempts[context.attempts.length - 1]?.durationMs ?? 0,
      failure: context.lastFailure ?? unknownFailure,
      decision: params.decision,
      reason: explainDecision(context, params.decision),
      probeToken: probeToken(context.input.callId, context.attemptNumber),
    })),
    emitBackoffScheduled: emit(({ context }) => ({
      type: 'toolcall.backoff.scheduled' as const,
      ...where(context),
      n: context.attemptNumber,
      delayMs: context.retry.previousDelayMs ?? 0,
      until: context.retry.retryAt ?? context.now,
      retryAfter: context.lastFailure?.retryAfterMs !== undefined,
    })),
    emitFallbackStarted: emit(({ context }) => {
      const next = nextTarget(context);
      return {
        type: 'toolcall.fallback.started' as const,
        ...where(context),
        to: next ? { server: next.server, tool: next.tool } : null,
        reason: explainDecision(context, 'fallback'),
      };
    }),
    emitCacheHit: emit(({ context }) => ({
      type: 'toolcall.cache.hit' as const,
      ...where(context),
      ageMs: context.answer?.cachedAgeMs ?? 0,
    })),
    emitCacheMiss: emit(({ context }, entry: CachedEntry | undefined) => {
      const event = {
        type: 'toolcall.cache.miss' as const,
        ...where(context),
        reason: entry ? ('stale' as const) : ('absent' as const),
      };
      return entry ? { ...event, ageMs: context.now - entry.storedAt } : event;
    }),
    emitSucceeded: emit(({ context }) => {
      const answer = context.answer;
      const status = answer?.status ?? 'succeeded';
      // Only an attempt that itself answered counts as a success (an empty fallback or partial data judged from
      // a failure leave the failed attempt's outcome as it was recorded).
      const lastAttempt = context.attempts[context.attempts.length - 1];
      const answered = lastAttempt !== undefined && lastAttempt.error === undefined;
      return {
        type: 'toolcall.succeeded' as const,
        ...where(context),
        server: answer?.answeredBy?.server ?? context.current.server,
        tool: answer?.answeredBy?.tool ?? context.current.tool,
        status,
        n: answered ? context.attemptNumber : undefined,
        probeToken: answered ? probeToken(context.input.callId, context.attemptNumber) : undefined,
        result: answer?.result,
        cacheable:
          (status === 'succeeded' || status === 'fallback') &&
          answer?.answeredBy !== undefined &&
          context.current.policy.cache.enabled,
        args: context.input.args,
        warnings: context.warnings,
      };
    }),
    emitFailed: emit(({ context }) => ({
      type: 'toolcall.failed' as const,
      ...where(context),
      error: context.lastFailure ? summarizeFailure(context.lastFailure) : undefined,
      attempts: context.attempts.length,
      n: context.attemptNumber,
      probeToken: probeToken(context.input.callId, context.attemptNumber),
    })),
    emitEscalated: emit(({ context }) => ({
      type: 'toolcall.escalated' as const,
      ...where(context),
      escalation: context.answer?.escalation as NonNullable<NonNullable<ToolCallContext['answer']>['escalation']>,
    })),
  },
}).createMachine({
  id: 'toolCall',
  context: ({ input }) => update.initialContext(input),
  initial: 'idle',
  output: ({ context }) => buildOutcome(context),
  on: {
    CANCEL: {
      target: '.cancelled',
      actions: { type: 'markCancelled', params: ({ event }) => ({ reason: event.reason }) },
    },
  },
  states: {
    // `idle` and `preparing` share one gate (the breaker) so that the first attempt costs no extra step.
    idle: {
      entry: 'emitRequested',
      always: [
        { guard: breakerGate, target: 'judging', actions: { type: 'noteShortCircuit', params: breakerGate.params } },
        { target: 'calling', actions: 'startAttempt' },
      ],
    },
    preparing: {
      always: [
        { guard: breakerGate, target: 'judging', actions: { type: 'noteShortCircuit', params: breakerGate.params } },
        { target: 'calling', actions: 'startAttempt' },
      ],
    },
    calling: {
      entry: 'emitAttemptStarted',
      invoke: {
        src: 'attempt',
        input: ({ context }) => ({
          callId: context.input.callId,
          n: context.attemptNumber,
          server: context.current.server,
          tool: context.current.tool,
          args: context.input.args,
          timeoutMs: attemptTimeoutMs(context),
          idempotent: context.current.policy.idempotent,
        }),
        onError: {
          target: 'judging',
          actions: { type: 'recordException', params: ({ event }) => ({ error: event.error }) },
        },
      },
      on: {
        'ATTEMPT.DONE': [
          {
            guard: { type: 'resultIsPartial', params: ({ event }) => event.output },
            target: 'partial',
            actions: { type: 'recordSuccess', params: ({ event }) => event.output },
          },
          {
            guard: { type: 'attemptSucceeded', params: ({ event }) => event.output },
            target: 'succeeded',
            actions: { type: 'recordSuccess', params: ({ event }) => event.output },
          },
          { target: 'judging', actions: { type: 'recordFailure', params: ({ event }) => event.output } },
        ],
      },
    },
    judging: {
      always: [
        {
          guard: 'wasCancelled',
          target: 'cancelled',
          actions: { type: 'emitAttemptFailed', params: { decision: 'cancel' } },
        },
        {
          guard: 'needsPersonNow',
          target: 'escalated',
          actions: [
            { type: 'emitAttemptFailed', params: { decision: 'escalate' } },
            { type: 'escalate', params: {} },
          ],
        },
        {
          guard: 'isPartialFailure',
          target: 'partial',
          actions: [{ type: 'emitAttemptFailed', params: { decision: 'partial' } }, 'markPartialFailure'],
        },
        {
          guard: 'skippableDegraded',
          target: 'skipped',
          actions: [{ type: 'emitAttemptFailed', params: { decision: 'skip' } }, 'markSkipped'],
        },
        {
          guard: 'canUseSyncAlternative',
          target: 'preparing',
          actions: [{ type: 'emitAttemptFailed', params: { decision: 'sync_alternative' } }, 'switchToSync'],
        },
        {
          guard: 'unsafeToRepeat',
          target: 'escalated',
          actions: [
            { type: 'emitAttemptFailed', params: { decision: 'escalate' } },
            { type: 'escalate', params: { trigger: EscalationTrigger.unsafeToRepeat } },
          ],
        },
        {
          guard: 'canRetry',
          target: 'backoff',
          actions: [
            { type: 'emitAttemptFailed', params: { decision: 'retry' } },
            'scheduleRetry',
            'emitBackoffScheduled',
          ],
        },
        {
          guard: 'failsForCaller',
          target: 'exhausted',
          actions: { type: 'emitAttemptFailed', params: { decision: 'fail' } },
        },
        { target: 'fallback', actions: { type: 'emitAttemptFailed', params: { decision: 'fallback' } } },
      ],
    },
    // No timer here: `retryAt` is in the context and the runner's scheduler sends RETRY.DUE (a restored
    // actor would lose an `after` timer, statelyai/xstate#5331), so a waiting call can be parked as a snapshot.
    backoff: {
      on: { 'RETRY.DUE': { target: 'preparing', actions: 'resumeAfterBackoff' } },
    },
    fallback: {
      always: [
        { guard: 'cacheWorthReading', target: 'readingCache' },
        { guard: 'nextIsTool', target: 'preparing', actions: ['emitFallbackStarted', 'advanceToNextTool'] },
        { guard: 'nextIsEmpty', target: 'emptyResult', actions: ['emitFallbackStarted', 'answerEmpty'] },
        // Refused by an open circuit, and the cache had nothing: wait out the cool-down (planRetry says when).
        { guard: 'canRetry', target: 'backoff', actions: ['scheduleRetry', 'emitBackoffScheduled'] },
        { target: 'exhausted' },
      ],
    },
    readingCache: {
      invoke: {
        src: 'readCache',
        input: ({ context }) => ({
          server: context.input.target.server,
          tool: context.input.target.tool,
          args: context.input.args,
        }),
        onDone: [
          {
            guard: { type: 'cacheFresh', params: ({ event }) => event.output },
            target: 'cached',
            actions: [{ type: 'useCache', params: ({ event }) => event.output }, 'emitCacheHit'],
          },
          {
            target: 'fallback',
            actions: [{ type: 'emitCacheMiss', params: ({ event }) => event.output }, 'missCache'],
          },
        ],
        onError: { target: 'fallback', actions: 'missCache' },
      },
    },
    exhausted: {
      always: [
        {
          guard: 'primaryIsCritical',
          target: 'escalated',
          actions: { type: 'escalate', params: { trigger: EscalationTrigger.criticalTool } },
        },
        {
          guard: 'triedFallbacks',
          target: 'escalated',
          actions: { type: 'escalate', params: { trigger: EscalationTrigger.fallbacksExhausted } },
        },
        { target: 'failed' },
      ],
    },
    succeeded: { type: 'final', entry: 'emitSucceeded' },
    partial: { type: 'final', entry: 'emitSucceeded' },
    cached: { type: 'final', entry: 'emitSucceeded' },
    skipped: { type: 'final', entry: 'emitSucceeded' },
    emptyResult: { type: 'final', entry: 'emitSucceeded' },
    failed: { type: 'final', entry: ['markFailed', 'emitFailed'] },
    escalated: { type: 'final', entry: 'emitEscalated' },
    cancelled: { type: 'final', entry: 'emitFailed' },
  },
});

export type ToolCallMachine = typeof toolCallMachine;
