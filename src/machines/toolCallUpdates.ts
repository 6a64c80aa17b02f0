// Pure context updates of the tool-call machine: each takes the context (and what happened) and returns the change.
import { formatDurationMs } from '../common/duration.js';
import { classifyFailure } from '../policy/classify.js';
import { detectPartial } from '../policy/detectPartial.js';
import { buildEscalation, EscalationTrigger, immediateTrigger } from '../policy/escalation.js';
import type { RawFailure } from '../policy/failure.js';
import { seedFrom } from '../policy/random.js';
import { describeFailure, nextTarget, planRetry, summarizeFailure, type RetryPlan } from './toolCallDecisions.js';
import type { AttemptActorOutput, CachedEntry, ToolCallContext, ToolCallInput, ToolTarget } from './toolCallTypes.js';

type Update = Partial<ToolCallContext>;

const emptyResult = { content: [] };

export function initialContext(input: ToolCallInput): ToolCallContext {
  return {
    input,
    current: input.target,
    chainIndex: -1,
    route: 'primary',
    now: input.startedAt,
    targetDeadlineAt: input.startedAt + input.target.policy.deadlineMs,
    attemptNumber: 0,
    attemptStartedAt: input.startedAt,
    retry: { onTarget: 0, previousDelayMs: undefined, retryAt: undefined, rng: seedFrom(input.seed) },
    attempts: [],
    warnings: [],
    lastFailure: undefined,
    cacheTried: false,
    answer: undefined,
  };
}

export function startAttempt(context: ToolCallContext): Update {
  return { attemptNumber: context.attemptNumber + 1, attemptStartedAt: context.now };
}

/** Records a failed attempt: classification, attempt record, logical time. */
export function failedAttempt(context: ToolCallContext, raw: RawFailure, finishedAt: number): Update {
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

/** The breaker refused the attempt; `retryInMs`: how long until it turns half-open, when it says. */
export function shortCircuited(context: ToolCallContext, retryInMs?: number): Update {
  const started = { ...context, ...startAttempt(context) };
  return {
    ...startAttempt(context),
    ...failedAttempt(
      started,
      {
        source: 'circuit',
        state: 'open',
        message: `circuit open for ${context.current.server}/${context.current.tool}`,
        ...(retryInMs === undefined || retryInMs <= 0 ? {} : { retryInMs }),
      },
      context.now,
    ),
  };
}

export function succeeded(context: ToolCallContext, output: AttemptActorOutput): Update {
  if (!output.ok) return {};
  const partial = detectPartial(output.result);
  const warnings = partial || context.route !== 'primary' ? [...context.warnings] : context.warnings;
  if (partial) warnings.push(partial.warning);
  if (context.route !== 'primary') {
    warnings.push(
      `answered by ${context.current.server}/${context.current.tool} instead of ${context.input.target.tool}`,
    );
  }
  return {
    now: output.finishedAt,
    attempts: [
      ...context.attempts,
      {
        n: context.attemptNumber,
        server: context.current.server,
        tool: context.current.tool,
        startedAt: output.startedAt,
        durationMs: Math.max(0, output.finishedAt - output.startedAt),
      },
    ],
    warnings,
    answer: {
      status: partial ? 'partial' : context.route === 'primary' ? 'succeeded' : 'fallback',
      result: output.result,
      answeredBy: { server: context.current.server, tool: context.current.tool },
    },
  };
}

export function exceptionThrown(context: ToolCallContext, error: unknown): Update {
  const cause = error instanceof Error ? error : new Error(String(error));
  const raw: RawFailure = { source: 'exception', name: cause.name, message: cause.message };
  if (cause.stack !== undefined) raw.stack = cause.stack;
  return failedAttempt(context, raw, context.now);
}

export function scheduleRetry(context: ToolCallContext): Update {
  const plan = planRetry(context) as Extract<RetryPlan, { retry: true }>;
  const attempts = context.attempts.slice();
  const last = attempts[attempts.length - 1];
  if (last) attempts[attempts.length - 1] = { ...last, delayMs: plan.delayMs };
  return {
    retry: { onTarget: context.retry.onTarget + 1, previousDelayMs: plan.delayMs, retryAt: plan.until, rng: plan.rng },
    attempts,
  };
}

export function retryDue(context: ToolCallContext): Update {
  return { now: context.retry.retryAt ?? context.now, retry: { ...context.retry, retryAt: undefined } };
}

function onNewTarget(context: ToolCallContext, target: ToolTarget, warning: string): Update {
  return {
    current: target,
    retry: { onTarget: 0, previousDelayMs: undefined, retryAt: undefined, rng: context.retry.rng },
    targetDeadlineAt: context.now + target.policy.deadlineMs,
    warnings: [...context.warnings, warning],
  };
}

export function switchToSync(context: ToolCallContext): Update {
  const sync = context.input.syncAlternative as ToolTarget;
  return {
    ...onNewTarget(context, sync, `${describeFailure(context)}; running ${sync.tool} synchronously`),
    route: 'sync',
  };
}

export function advanceToNextTool(context: ToolCallContext): Update {
  const next = nextTarget(context) as ToolTarget;
  return {
    ...onNewTarget(context, next, `${describeFailure(context)}; trying ${next.server}/${next.tool}`),
    chainIndex: context.chainIndex + 1,
    route: 'fallback',
  };
}

export function answerEmpty(context: ToolCallContext): Update {
  return {
    chainIndex: context.chainIndex + 1,
    answer: { status: 'fallback', result: emptyResult },
    warnings: [...context.warnings, `${describeFailure(context)}; no fallback tool: returning an empty result`],
  };
}

export function servedFromCache(context: ToolCallContext, entry: CachedEntry | undefined): Update {
  const ageMs = entry ? context.now - entry.storedAt : 0;
  const answer: ToolCallContext['answer'] = {
    status: 'cached',
    cachedAgeMs: ageMs,
    answeredBy: { server: context.input.target.server, tool: context.input.target.tool },
  };
  if (entry) answer.result = entry.result;
  return {
    cacheTried: true,
    answer,
    warnings: [
      ...context.warnings,
      `${describeFailure(context)}; serving a cached result ${formatDurationMs(ageMs)} old`,
    ],
  };
}

export function partialFailure(context: ToolCallContext): Update {
  const cause = context.lastFailure?.cause;
  const answer: ToolCallContext['answer'] = {
    status: 'partial',
    answeredBy: { server: context.current.server, tool: context.current.tool },
  };
  if (cause?.source === 'tool') answer.result = cause.result as NonNullable<typeof answer.result>;
  return { answer, warnings: [...context.warnings, `${describeFailure(context)}; returning partial data`] };
}

export function skipped(context: ToolCallContext): Update {
  return {
    answer: { status: 'skipped' },
    warnings: [
      ...context.warnings,
      `${describeFailure(context)}; skipped: the server is degraded and the tool is not critical`,
    ],
  };
}

export function escalated(context: ToolCallContext, trigger: EscalationTrigger | undefined): Update {
  const failure = context.lastFailure;
  const chosen = trigger ?? (failure && immediateTrigger(failure)) ?? EscalationTrigger.unsafeToRepeat;
  const policy = chosen === EscalationTrigger.criticalTool ? context.input.target.policy : context.current.policy;
  const details: Parameters<typeof buildEscalation>[2] = {
    server: context.current.server,
    tool: context.current.tool,
    at: context.now,
    callId: context.input.callId,
    message: describeFailure(context),
  };
  if (failure) details.failure = failure;
  return { answer: { status: 'escalated', escalation: buildEscalation(policy, chosen, details) } };
}

export function failed(): Update {
  return { answer: { status: 'failed' } };
}

export function cancelled(context: ToolCallContext, reason: string | undefined): Update {
  return {
    answer: { status: 'failed' },
    lastFailure: classifyFailure({ source: 'cancelled', message: reason ?? 'the call was cancelled' }, [], context.now),
  };
}
