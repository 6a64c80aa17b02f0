// The tool-call actor: one MCP call with retry, backoff, circuit breaking, cache, fallback chain and escalation.
import { assign, emit, fromPromise, setup } from 'xstate';
import { formatDurationMs } from '../common/duration.js';
import { classifyFailure } from '../policy/classify.js';
import { detectPartial } from '../policy/detectPartial.js';
import { buildEscalation, EscalationTrigger, immediateTrigger } from '../policy/escalation.js';
import type { RawFailure } from '../policy/failure.js';
import { seedFrom } from '../policy/random.js';
import {
  attemptTimeoutMs,
  buildOutcome,
  planRetry,
  probeToken,
  summarizeFailure,
  type RetryPlan,
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
  ToolTarget,
} from './toolCallTypes.js';

const emptyResult = { content: [] };

function initialContext(input: ToolCallInput): ToolCallContext {
  return {
    input,
    current: input.target,
    chainIndex: -1,
    route: 'primary',
    now: input.startedAt,
    targetDeadlineAt: input.startedAt + input.target.policy.deadlineMs,
    attemptStartedAt: input.startedAt,
    attemptNumber: 0,
    retriesOnTarget: 0,
    previousDelayMs: undefined,
    retryAt: undefined,
    rng: seedFrom(input.seed),
    attempts: [],
    warnings: [],
    lastFailure: undefined,
    cacheTried: false,
    result: undefined,
    answeredBy: undefined,
    cachedAgeMs: undefined,
    escalation: undefined,
    status: undefined,
  };
}

function where(context: ToolCallContext) {
  return { callId: context.input.callId, server: context.current.server, tool: context.current.tool, at: context.now };
}

/** Records a failed attempt: classification, attempt record, logical time. */
function failedAttempt(context: ToolCallContext, raw: RawFailure, finishedAt: number): Partial<ToolCallContext> {
  const failure = classifyFailure(raw, context.current.policy.rules, finishedAt);
  return {
    now: finishedAt,
    lastFailure: failure,
    attempts: [
      ...context.attempts,
      {
        n: context.attemptNumber,
        server: context.current.server,
        tool: context.current.tool,
        startedAt: context.attemptStartedAt,
        durationMs: Math.max(0, finishedAt - context.attemptStartedAt),
        error: summarizeFailure(failure),
      },
    ],
  };
}

function nextTarget(context: ToolCallContext): ToolTarget | null | undefined {
  return context.input.fallbacks[context.chainIndex + 1];
}

function describeFailure(context: ToolCallContext): string {
  const failure = context.lastFailure;
  const what = `${context.current.server}/${context.current.tool}`;
  return failure ? `${what} failed (${failure.class}/${failure.kind}: ${failure.message})` : `${what} failed`;
}

function explainDecision(context: ToolCallContext, decision: Decision): string {
  const failure = context.lastFailure;
  switch (decision) {
    case 'retry':
      return failure?.retryAfterMs !== undefined ? 'retryable; server asked to wait' : 'retryable';
    case 'escalate':
      return (failure && immediateTrigger(failure)) ?? EscalationTrigger.unsafeToRepeat;
    case 'partial':
      return 'partial data';
    case 'skip':
      return 'server degraded and the tool is not critical';
    case 'sync_alternative':
      return 'worker offline: synchronous alternative';
    case 'fail':
      return `permanent failure (${failure?.kind ?? 'unknown'})`;
    case 'cancel':
      return 'cancelled';
    case 'fallback': {
      if (failure?.kind === 'unimplemented' || failure?.kind === 'circuit_open' || failure?.kind === 'backend_down') {
        return failure.kind;
      }
      const plan = planRetry(context);
      return plan.retry ? 'retryable' : plan.reason;
    }
  }
}

export const toolCallMachine = setup({
  types: {
    context: {} as ToolCallContext,
    input: {} as ToolCallInput,
    events: {} as ToolCallEvent,
    emitted: {} as ToolCallEmitted,
    output: {} as ToolCallOutcome,
  },
  actors: {
    /** One MCP attempt; provided by the runtime (src/actors). Leaving `calling` aborts its signal. */
    attempt: fromPromise<AttemptActorOutput, AttemptActorInput>(() =>
      Promise.reject(new Error('toolCallMachine: the attempt actor was not provided')),
    ),
    /** Looks up a cached result of a read-only tool; provided by the runtime. */
    readCache: fromPromise<CachedEntry | undefined, CacheLookupInput>(() => Promise.resolve(undefined)),
  },
  guards: {
    /** Asks the shared breaker of (server, tool) for a permit; provided by the runtime. Must be idempotent per token. */
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
      !context.current.policy.idempotent &&
      context.lastFailure.retryable,
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
  delays: {
    attemptTimeout: ({ context }) => attemptTimeoutMs(context),
    backoffDelay: ({ context }) => Math.max(0, (context.retryAt ?? context.now) - context.now),
  },
  actions: {
    emitRequested: emit(({ context }) => ({
      type: 'toolcall.requested' as const,
      ...where(context),
      args: context.input.args,
      fallbacks: context.input.fallbacks.map((target) => (target ? `${target.server}/${target.tool}` : null)),
    })),
    startAttempt: assign(({ context }) => ({
      attemptNumber: context.attemptNumber + 1,
      attemptStartedAt: context.now,
    })),
    emitAttemptStarted: emit(({ context }) => ({
      type: 'toolcall.attempt.started' as const,
      ...where(context),
      n: context.attemptNumber,
      route: context.route,
    })),
    noteShortCircuit: assign(({ context }) => ({
      attemptNumber: context.attemptNumber + 1,
      attemptStartedAt: context.now,
      ...failedAttempt(
        { ...context, attemptNumber: context.attemptNumber + 1, attemptStartedAt: context.now },
        {
          source: 'circuit',
          state: 'open',
          message: `circuit open for ${context.current.server}/${context.current.tool}`,
        },
        context.now,
      ),
    })),
    recordSuccess: assign(({ context }, output: AttemptActorOutput) => {
      if (!output.ok) return {};
      const partial = detectPartial(output.result);
      const attempts = [
        ...context.attempts,
        {
          n: context.attemptNumber,
          server: context.current.server,
          tool: context.current.tool,
          startedAt: output.startedAt,
          durationMs: Math.max(0, output.finishedAt - output.startedAt),
        },
      ];
      const warnings = [...context.warnings];
      if (partial) warnings.push(partial.warning);
      if (context.route !== 'primary') {
        warnings.push(
          `answered by ${context.current.server}/${context.current.tool} instead of ${context.input.target.tool}`,
        );
      }
      return {
        now: output.finishedAt,
        attempts,
        warnings,
        result: output.result,
        answeredBy: { server: context.current.server, tool: context.current.tool },
        status: partial
          ? ('partial' as const)
          : context.route === 'primary'
            ? ('succeeded' as const)
            : ('fallback' as const),
      };
    }),
    recordFailure: assign(({ context }, output: AttemptActorOutput) =>
      output.ok ? {} : failedAttempt(context, output.failure, output.finishedAt),
    ),
    recordException: assign(({ context }, params: { error: unknown }) => {
      const error = params.error instanceof Error ? params.error : new Error(String(params.error));
      return failedAttempt(context, { source: 'exception', name: error.name, message: error.message }, context.now);
    }),
    recordTimeout: assign(({ context }) => {
      const timeoutMs = attemptTimeoutMs(context);
      return failedAttempt(
        context,
        { source: 'timeout', timeoutMs, message: `no answer within ${timeoutMs} ms` },
        context.attemptStartedAt + timeoutMs,
      );
    }),
    emitAttemptFailed: emit(({ context }, params: { decision: Decision }) => {
      const last = context.attempts[context.attempts.length - 1];
      const failure =
        context.lastFailure ??
        classifyFailure({ source: 'exception', name: 'Error', message: 'unknown' }, [], context.now);
      return {
        type: 'toolcall.attempt.failed' as const,
        ...where(context),
        n: context.attemptNumber,
        durationMs: last?.durationMs ?? 0,
        failure,
        decision: params.decision,
        reason: explainDecision(context, params.decision),
        probeToken: probeToken(context.input.callId, context.attemptNumber),
      };
    }),
    scheduleRetry: assign(({ context }) => {
      const plan = planRetry(context) as Extract<RetryPlan, { retry: true }>;
      const attempts = context.attempts.slice();
      const last = attempts[attempts.length - 1];
      if (last) attempts[attempts.length - 1] = { ...last, delayMs: plan.delayMs };
      return {
        retryAt: plan.until,
        rng: plan.rng,
        previousDelayMs: plan.delayMs,
        retriesOnTarget: context.retriesOnTarget + 1,
        attempts,
      };
    }),
    emitBackoffScheduled: emit(({ context }) => ({
      type: 'toolcall.backoff.scheduled' as const,
      ...where(context),
      n: context.attemptNumber,
      delayMs: context.previousDelayMs ?? 0,
      until: context.retryAt ?? context.now,
      retryAfter: context.lastFailure?.retryAfterMs !== undefined,
    })),
    resumeAfterBackoff: assign(({ context }) => ({ now: context.retryAt ?? context.now, retryAt: undefined })),
    switchToSync: assign(({ context }) => {
      const sync = context.input.syncAlternative as ToolTarget;
      return {
        current: sync,
        route: 'sync' as const,
        retriesOnTarget: 0,
        previousDelayMs: undefined,
        targetDeadlineAt: context.now + sync.policy.deadlineMs,
        warnings: [...context.warnings, `${describeFailure(context)}; running ${sync.tool} synchronously`],
      };
    }),
    emitFallbackStarted: emit(({ context }) => {
      const next = nextTarget(context);
      return {
        type: 'toolcall.fallback.started' as const,
        ...where(context),
        to: next ? { server: next.server, tool: next.tool } : null,
        reason: explainDecision(context, 'fallback'),
      };
    }),
    advanceToNextTool: assign(({ context }) => {
      const next = nextTarget(context) as ToolTarget;
      return {
        current: next,
        chainIndex: context.chainIndex + 1,
        route: 'fallback' as const,
        retriesOnTarget: 0,
        previousDelayMs: undefined,
        targetDeadlineAt: context.now + next.policy.deadlineMs,
        warnings: [...context.warnings, `${describeFailure(context)}; trying ${next.server}/${next.tool}`],
      };
    }),
    answerEmpty: assign(({ context }) => ({
      chainIndex: context.chainIndex + 1,
      result: emptyResult,
      status: 'fallback' as const,
      warnings: [...context.warnings, `${describeFailure(context)}; no fallback tool: returning an empty result`],
    })),
    useCache: assign(({ context }, entry: CachedEntry | undefined) => {
      const ageMs = entry ? context.now - entry.storedAt : 0;
      return {
        cacheTried: true,
        result: entry?.result,
        cachedAgeMs: ageMs,
        status: 'cached' as const,
        answeredBy: { server: context.input.target.server, tool: context.input.target.tool },
        warnings: [
          ...context.warnings,
          `${describeFailure(context)}; serving a cached result ${formatDurationMs(ageMs)} old`,
        ],
      };
    }),
    emitCacheHit: emit(({ context }) => ({
      type: 'toolcall.cache.hit' as const,
      ...where(context),
      ageMs: context.cachedAgeMs ?? 0,
    })),
    missCache: assign(() => ({ cacheTried: true })),
    emitCacheMiss: emit(({ context }, entry: CachedEntry | undefined) => {
      const event = {
        type: 'toolcall.cache.miss' as const,
        ...where(context),
        reason: entry ? ('stale' as const) : ('absent' as const),
      };
      return entry ? { ...event, ageMs: context.now - entry.storedAt } : event;
    }),
    markPartialFailure: assign(({ context }) => {
      const cause = context.lastFailure?.cause;
      const result = cause?.source === 'tool' ? (cause.result as ToolCallContext['result']) : undefined;
      return {
        status: 'partial' as const,
        result,
        answeredBy: { server: context.current.server, tool: context.current.tool },
        warnings: [...context.warnings, `${describeFailure(context)}; returning partial data`],
      };
    }),
    markSkipped: assign(({ context }) => ({
      status: 'skipped' as const,
      warnings: [
        ...context.warnings,
        `${describeFailure(context)}; skipped: the server is degraded and the tool is not critical`,
      ],
    })),
    escalate: assign(({ context }, params: { trigger?: EscalationTrigger }) => {
      const failure = context.lastFailure;
      const trigger = params.trigger ?? (failure && immediateTrigger(failure)) ?? EscalationTrigger.unsafeToRepeat;
      const policy = trigger === EscalationTrigger.criticalTool ? context.input.target.policy : context.current.policy;
      const details: Parameters<typeof buildEscalation>[2] = {
        server: context.current.server,
        tool: context.current.tool,
        at: context.now,
        callId: context.input.callId,
        message: describeFailure(context),
      };
      if (failure) details.failure = failure;
      return { status: 'escalated' as const, escalation: buildEscalation(policy, trigger, details) };
    }),
    markFailed: assign(() => ({ status: 'failed' as const })),
    markCancelled: assign(({ context }, params: { reason: string | undefined }) => ({
      status: 'failed' as const,
      lastFailure: classifyFailure(
        { source: 'cancelled', message: params.reason ?? 'the call was cancelled' },
        [],
        context.now,
      ),
    })),
    emitSucceeded: emit(({ context }) => ({
      type: 'toolcall.succeeded' as const,
      ...where(context),
      server: context.answeredBy?.server ?? context.current.server,
      tool: context.answeredBy?.tool ?? context.current.tool,
      status: context.status ?? 'succeeded',
      n: context.status === 'cached' || context.status === 'skipped' ? undefined : context.attemptNumber,
      probeToken:
        context.status === 'succeeded' || context.status === 'fallback' || context.status === 'partial'
          ? probeToken(context.input.callId, context.attemptNumber)
          : undefined,
      result: context.result,
      cacheable:
        (context.status === 'succeeded' || context.status === 'fallback') &&
        context.answeredBy !== undefined &&
        context.current.policy.cache.enabled,
      args: context.input.args,
      warnings: context.warnings,
    })),
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
      escalation: context.escalation as NonNullable<ToolCallContext['escalation']>,
    })),
  },
}).createMachine({
  id: 'toolCall',
  context: ({ input }) => initialContext(input),
  initial: 'idle',
  output: ({ context }) => buildOutcome(context),
  on: {
    CANCEL: {
      target: '.cancelled',
      actions: { type: 'markCancelled', params: ({ event }) => ({ reason: event.reason }) },
    },
  },
  states: {
    idle: { entry: 'emitRequested', always: 'preparing' },
    preparing: {
      always: [
        {
          guard: {
            type: 'breakerRefuses',
            params: ({ context }) => ({
              key: `${context.current.server}/${context.current.tool}`,
              token: probeToken(context.input.callId, context.attemptNumber + 1),
            }),
          },
          target: 'judging',
          actions: 'noteShortCircuit',
        },
        { target: 'calling' },
      ],
    },
    calling: {
      entry: ['startAttempt', 'emitAttemptStarted'],
      invoke: {
        src: 'attempt',
        input: ({ context }) => ({
          callId: context.input.callId,
          n: context.attemptNumber,
          server: context.current.server,
          tool: context.current.tool,
          args: context.input.args,
        }),
        onDone: [
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
        onError: {
          target: 'judging',
          actions: { type: 'recordException', params: ({ event }) => ({ error: event.error }) },
        },
      },
      after: { attemptTimeout: { target: 'judging', actions: 'recordTimeout' } },
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
    backoff: {
      after: { backoffDelay: { target: 'preparing', actions: 'resumeAfterBackoff' } },
    },
    fallback: {
      always: [
        { guard: 'cacheWorthReading', target: 'readingCache' },
        { guard: 'nextIsTool', target: 'preparing', actions: ['emitFallbackStarted', 'advanceToNextTool'] },
        { guard: 'nextIsEmpty', target: 'emptyResult', actions: ['emitFallbackStarted', 'answerEmpty'] },
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
