// Pure decisions of the tool-call machine: what a failure allows (retry, fallback, escalate) and the outcome it ends in.
import { backoffDelayMs } from '../policy/backoff.js';
import type { ClassifiedFailure } from '../policy/failure.js';
import { nextRandom } from '../policy/random.js';
import { backoffFor, type ToolPolicy } from '../policy/toolPolicy.js';
import { EscalationTrigger, immediateTrigger } from '../policy/escalation.js';
import type { Decision, FailureSummary, ToolCallContext, ToolCallOutcome, ToolTarget } from './toolCallTypes.js';

export function summarizeFailure(failure: ClassifiedFailure): FailureSummary {
  const summary: FailureSummary = {
    class: failure.class,
    kind: failure.kind,
    message: failure.message,
    rule: failure.rule,
  };
  if (failure.retryAfterMs !== undefined) summary.retryAfterMs = failure.retryAfterMs;
  if (failure.suggestions !== undefined) summary.suggestions = failure.suggestions;
  return summary;
}

export function policyAllowsRetry(policy: ToolPolicy, failure: ClassifiedFailure): boolean {
  return policy.retryable.includes(failure.class) || policy.retryable.includes(failure.kind);
}

export type RetryPlan =
  | { retry: true; delayMs: number; until: number; retryAfter: boolean; rng: number }
  | { retry: false; reason: 'not_retryable' | 'not_retryable_by_policy' | 'retries_exhausted' | 'deadline' };

/** Whether the last failure may be retried on the current tool, and after how long. Same context, same plan. */
export function planRetry(context: ToolCallContext): RetryPlan {
  const failure = context.lastFailure;
  if (failure?.kind === 'circuit_open') return planCircuitWait(context);
  if (!failure || !failure.retryable) return { retry: false, reason: 'not_retryable' };
  const policy = context.current.policy;
  if (!policyAllowsRetry(policy, failure)) return { retry: false, reason: 'not_retryable_by_policy' };
  const settings = backoffFor(policy, failure.kind);
  if (context.retry.onTarget >= settings.maxRetries) return { retry: false, reason: 'retries_exhausted' };
  let delayMs: number;
  let rng = context.retry.rng;
  const retryAfter = failure.retryAfterMs !== undefined;
  if (failure.retryAfterMs !== undefined) {
    delayMs = failure.retryAfterMs;
  } else {
    const draw = nextRandom(context.retry.rng);
    rng = draw.state;
    delayMs = backoffDelayMs(settings, context.retry.onTarget, draw.value, context.retry.previousDelayMs);
  }
  const until = context.now + delayMs;
  if (until >= context.targetDeadlineAt) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs, until, retryAfter, rng };
}

/**
 * A call refused by an open circuit goes to its fallbacks (a next tool or the empty answer) or its cache when it has
 * them. With none, it waits out the breaker's cool-down and asks again, as long as a retry is left and the wait ends
 * before its deadline: the breaker protects the server from a burst, it should not fail a call that can wait.
 * The wait is what is left of the cool-down, as the breaker said when it refused (a millisecond more, so that its own
 * timer has fired), or the whole cool-down when it did not say (half-open with its probes under way).
 */
function planCircuitWait(context: ToolCallContext): RetryPlan {
  const hasFallback =
    nextTarget(context) !== undefined || (!context.cacheTried && context.input.target.policy.cache.enabled);
  if (hasFallback) return { retry: false, reason: 'not_retryable' };
  const policy = context.current.policy;
  if (context.retry.onTarget >= backoffFor(policy, 'circuit_open').maxRetries) {
    return { retry: false, reason: 'retries_exhausted' };
  }
  const failure = context.lastFailure;
  const delayMs = failure?.retryAfterMs === undefined ? policy.breaker.cooldownMs : failure.retryAfterMs + 1;
  const until = context.now + delayMs;
  if (until >= context.targetDeadlineAt) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs, until, retryAfter: false, rng: context.retry.rng };
}

/** The attempt timeout in force: the policy's, cut to what is left of the tool's deadline. */
export function attemptTimeoutMs(context: ToolCallContext): number {
  return Math.max(0, Math.min(context.current.policy.timeoutMs, context.targetDeadlineAt - context.now));
}

export function probeToken(callId: string, attemptNumber: number): string {
  return `${callId}#${attemptNumber}`;
}

export function buildOutcome(context: ToolCallContext): ToolCallOutcome {
  const answer = context.answer;
  const outcome: ToolCallOutcome = {
    callId: context.input.callId,
    status: answer?.status ?? 'failed',
    attempts: context.attempts,
    warnings: context.warnings,
    startedAt: context.input.startedAt,
    finishedAt: context.now,
  };
  if (answer?.result !== undefined) outcome.result = answer.result;
  if (answer?.answeredBy !== undefined) outcome.tool = answer.answeredBy;
  if (answer?.escalation !== undefined) outcome.escalation = answer.escalation;
  if (answer?.cachedAgeMs !== undefined) outcome.cachedAgeMs = answer.cachedAgeMs;
  if (context.lastFailure !== undefined && outcome.status !== 'succeeded' && outcome.status !== 'fallback') {
    outcome.error = summarizeFailure(context.lastFailure);
  }
  return outcome;
}

export function nextTarget(context: ToolCallContext): ToolTarget | null | undefined {
  return context.input.fallbacks[context.chainIndex + 1];
}

export function describeFailure(context: ToolCallContext): string {
  const failure = context.lastFailure;
  const what = `${context.current.server}/${context.current.tool}`;
  return failure ? `${what} failed (${failure.class}/${failure.kind}: ${failure.message})` : `${what} failed`;
}

/** Why the machine took a decision, in words that go into its events and logs. */
export function explainDecision(context: ToolCallContext, decision: Decision): string {
  const failure = context.lastFailure;
  switch (decision) {
    case 'retry':
      if (failure?.kind === 'circuit_open') return 'circuit open: waiting out its cool-down';
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
