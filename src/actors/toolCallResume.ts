// How a workflow step's tool call continues after a crash, from the call's recorded events: its recorded end, its
// pending backoff (kept to its deadline), an idempotent attempt cut off in flight (tried again), or a
// non-idempotent one (escalated: it may have taken effect).
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { EventEnvelope } from '../events/envelope.js';
import type {
  FailureSummary,
  OutcomeStatus,
  ToolCallContext,
  ToolCallInput,
  ToolCallOutcome,
  ToolTarget,
} from '../machines/toolCallTypes.js';
import { initialContext } from '../machines/toolCallUpdates.js';
import { buildEscalation, EscalationTrigger, type Escalation } from '../policy/escalation.js';
import { resumeToolCall } from '../store/projections/resumption.js';

export type ResumedCall =
  /** The call ended before the crash: its outcome as recorded, without calling again. */
  | { kind: 'settled'; outcome: ToolCallOutcome }
  /** A non-idempotent attempt was in flight: the call escalates instead of repeating it. */
  | { kind: 'unsafe'; escalation: Escalation; outcome: ToolCallOutcome }
  /** The call goes on parked in backoff: the next attempt is due at `context.retry.retryAt`. */
  | { kind: 'continue'; context: ToolCallContext };

/** The recorded call of a step attempt (its last call's events, in seq order) and how it goes on at `now`. */
export function planResumedCall(events: readonly EventEnvelope[], input: ToolCallInput, now: number): ResumedCall {
  const point = resumeToolCall(events, now);
  const base = { callId: input.callId, attempts: [], warnings: [], startedAt: input.startedAt, finishedAt: now };
  if (point.next === 'done') {
    const end = events.findLast((event) =>
      ['toolcall.succeeded', 'toolcall.failed', 'toolcall.escalated'].includes(event.type),
    );
    const data = end?.data ?? {};
    const finishedAt = end?.ts ?? now;
    if (end?.type === 'toolcall.succeeded') {
      const result = data['result'] as CallToolResult | undefined;
      return {
        kind: 'settled',
        outcome: {
          ...base,
          finishedAt,
          status: data['status'] as OutcomeStatus,
          ...(result === undefined ? {} : { result }),
          tool: { server: String(data['server']), tool: String(data['tool']) },
          warnings: (data['warnings'] as string[] | undefined) ?? [],
        },
      };
    }
    if (end?.type === 'toolcall.escalated') {
      return {
        kind: 'settled',
        outcome: { ...base, finishedAt, status: 'escalated', escalation: data['escalation'] as Escalation },
      };
    }
    const error = data['error'] as FailureSummary | undefined;
    return { kind: 'settled', outcome: { ...base, finishedAt, status: 'failed', ...(error ? { error } : {}) } };
  }
  const chainIndex = point.fallbacksStarted - 1;
  const current: ToolTarget =
    point.route === 'sync' && input.syncAlternative
      ? input.syncAlternative
      : point.route === 'fallback'
        ? (input.fallbacks[chainIndex] ?? input.target)
        : input.target;
  if (point.next === 'recover_in_flight' && !current.policy.idempotent) {
    const escalation = buildEscalation(current.policy, EscalationTrigger.unsafeToRepeat, {
      server: current.server,
      tool: current.tool,
      at: now,
      callId: input.callId,
      message: `attempt ${point.inFlight?.n ?? point.attempts} of ${current.server}/${current.tool} was in flight when the process stopped; it may have taken effect, and the tool is not idempotent`,
    });
    return { kind: 'unsafe', escalation, outcome: { ...base, status: 'escalated', escalation } };
  }
  const context = initialContext(input);
  return {
    kind: 'continue',
    context: {
      ...context,
      current,
      chainIndex,
      route: point.route,
      now,
      attemptNumber: point.attempts,
      cacheTried: point.cacheTried,
      retry: {
        ...context.retry,
        onTarget: point.retriesOnTarget,
        // A pending backoff keeps its deadline; an attempt cut off (idempotent) or not yet started goes now.
        retryAt: point.backoff?.until ?? now,
      },
    },
  };
}
