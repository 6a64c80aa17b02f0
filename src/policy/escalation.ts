// When a failure needs a person: the seed's triggers, levels and recommended actions, as data with defaults.
import type { EscalationLevel } from './escalationLevel.js';
import type { ClassifiedFailure, FailureKind } from './failure.js';
import type { ToolPolicy } from './toolPolicy.js';

export const EscalationTrigger = {
  criticalTool: 'critical_tool_failed',
  auth: 'auth_failed',
  permission: 'permission_denied',
  constraint: 'data_integrity',
  unsafeToRepeat: 'unsafe_to_repeat',
  fallbacksExhausted: 'fallbacks_exhausted',
  repeatedFailures: 'repeated_failures',
  errorRate: 'error_rate',
} as const;
export type EscalationTrigger = (typeof EscalationTrigger)[keyof typeof EscalationTrigger];

export interface Escalation {
  level: EscalationLevel;
  trigger: EscalationTrigger;
  server: string;
  tool: string;
  message: string;
  recommendedAction: string;
  kind?: FailureKind;
  suggestions?: string[];
  callId?: string;
  at: number;
}

const defaultLevel: Record<EscalationTrigger, EscalationLevel> = {
  critical_tool_failed: 'critical',
  auth_failed: 'critical',
  permission_denied: 'critical',
  data_integrity: 'critical',
  unsafe_to_repeat: 'warning',
  fallbacks_exhausted: 'warning',
  repeated_failures: 'warning',
  error_rate: 'warning',
};

/** Default recommended actions, worded like the seed's `get_recommended_action`. */
export const defaultRecommendedActions: Partial<Record<FailureKind | EscalationTrigger, string>> = {
  invalid_input: '1. Review input parameters\n2. Check API documentation\n3. Verify data format matches schema',
  auth: '1. Check the credentials or token configured for this server\n2. Renew or rotate them\n3. Retry once access is restored',
  permission:
    '1. Check the privileges of the account used for this tool\n2. Request the missing permission\n3. Retry once it is granted',
  constraint:
    '1. Review the constraint that was violated\n2. Apply one of the suggested fixes\n3. Re-run the call with corrected data',
  not_found: '1. Check that the referenced resource exists\n2. Verify the identifier passed to the tool',
  unsafe_to_repeat:
    '1. Check whether the call took effect before repeating it: the tool is not idempotent\n2. Repeat it by hand only if it did not',
  fallbacks_exhausted:
    '1. Check the health of the server and of every fallback tool\n2. Inspect the attempts of this call\n3. Retry once the service has recovered',
  repeated_failures: '1. Check the server logs and health\n2. Consider disabling the tool until it is stable',
  error_rate: '1. Check the server logs and health\n2. Look for a recent deployment or configuration change',
};

export const genericRecommendedAction = 'Review error logs and tool documentation';

/** The level and recommended action for one escalation: per-kind config, then the tool's, then the defaults. */
export function escalationSettings(
  policy: ToolPolicy,
  trigger: EscalationTrigger,
  kind: FailureKind | undefined,
): { level: EscalationLevel; recommendedAction: string } {
  const byKind = kind === undefined ? undefined : policy.escalation.byKind[kind];
  return {
    level: byKind?.level ?? policy.escalation.level ?? defaultLevel[trigger],
    recommendedAction:
      byKind?.recommendedAction ??
      policy.escalation.recommendedAction ??
      (kind === undefined ? undefined : defaultRecommendedActions[kind]) ??
      defaultRecommendedActions[trigger] ??
      genericRecommendedAction,
  };
}

/** The trigger that a failure raises by its kind alone (security and data integrity escalate at once). */
export function immediateTrigger(failure: ClassifiedFailure): EscalationTrigger | undefined {
  switch (failure.kind) {
    case 'auth':
      return EscalationTrigger.auth;
    case 'permission':
      return EscalationTrigger.permission;
    case 'constraint':
      return EscalationTrigger.constraint;
    default:
      return undefined;
  }
}

export function buildEscalation(
  policy: ToolPolicy,
  trigger: EscalationTrigger,
  details: { server: string; tool: string; at: number; callId?: string; failure?: ClassifiedFailure; message?: string },
): Escalation {
  const kind = details.failure?.kind;
  const { level, recommendedAction } = escalationSettings(policy, trigger, kind);
  const escalation: Escalation = {
    level,
    trigger,
    server: details.server,
    tool: details.tool,
    message: details.message ?? details.failure?.message ?? trigger,
    recommendedAction,
    at: details.at,
  };
  if (kind !== undefined) escalation.kind = kind;
  if (details.failure?.suggestions) escalation.suggestions = details.failure.suggestions;
  if (details.callId !== undefined) escalation.callId = details.callId;
  return escalation;
}
