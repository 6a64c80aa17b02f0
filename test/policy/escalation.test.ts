import { describe, expect, it } from 'vitest';
import {
  buildEscalation,
  defaultRecommendedActions,
  EscalationTrigger,
  escalationSettings,
  genericRecommendedAction,
  immediateTrigger,
} from '../../src/policy/escalation.js';
import { FailureKind, classOfKind, type ClassifiedFailure } from '../../src/policy/failure.js';
import { defaultToolPolicy, type EscalationSettings, type ToolPolicy } from '../../src/policy/toolPolicy.js';

function policyWith(escalation: EscalationSettings): ToolPolicy {
  return { ...defaultToolPolicy, escalation };
}

function failureOf(kind: FailureKind, extra: Partial<ClassifiedFailure> = {}): ClassifiedFailure {
  return {
    class: classOfKind[kind],
    kind,
    retryable: false,
    maybeExecuted: false,
    message: `${kind} happened`,
    rule: 'test',
    cause: { source: 'exception', name: 'Error', message: `${kind} happened` },
    ...extra,
  };
}

describe('escalationSettings', () => {
  const everyLayer = policyWith({
    level: 'info',
    recommendedAction: 'tool action',
    byKind: { auth: { level: 'emergency', recommendedAction: 'auth action' } },
  });

  it('prefers the per-kind configuration to everything else', () => {
    expect(escalationSettings(everyLayer, EscalationTrigger.auth, 'auth')).toEqual({
      level: 'emergency',
      recommendedAction: 'auth action',
    });
  });

  it("falls back to the tool's configuration for a kind that has none of its own", () => {
    expect(escalationSettings(everyLayer, EscalationTrigger.permission, 'permission')).toEqual({
      level: 'info',
      recommendedAction: 'tool action',
    });
  });

  it("takes each field separately: a per-kind level keeps the tool's action", () => {
    const policy = policyWith({ recommendedAction: 'tool action', byKind: { auth: { level: 'info' } } });
    expect(escalationSettings(policy, EscalationTrigger.auth, 'auth')).toEqual({
      level: 'info',
      recommendedAction: 'tool action',
    });
  });

  it("uses the kind's default action when nothing is configured, over the trigger's", () => {
    expect(escalationSettings(defaultToolPolicy, EscalationTrigger.fallbacksExhausted, 'not_found')).toEqual({
      level: 'warning',
      recommendedAction: defaultRecommendedActions.not_found,
    });
  });

  it("uses the trigger's default action when the kind has none", () => {
    expect(escalationSettings(defaultToolPolicy, EscalationTrigger.repeatedFailures, 'timeout')).toEqual({
      level: 'warning',
      recommendedAction: '1. Check the server logs and health\n2. Consider disabling the tool until it is stable',
    });
    expect(escalationSettings(defaultToolPolicy, EscalationTrigger.errorRate, undefined).recommendedAction).toBe(
      defaultRecommendedActions.error_rate,
    );
  });

  it('uses the generic action when neither the kind nor the trigger has one', () => {
    expect(escalationSettings(defaultToolPolicy, EscalationTrigger.criticalTool, 'timeout')).toEqual({
      level: 'critical',
      recommendedAction: 'Review error logs and tool documentation',
    });
    expect(genericRecommendedAction).toBe('Review error logs and tool documentation');
  });

  it('escalates security, data integrity and critical tools as critical and the rest as warnings by default', () => {
    const levels = Object.fromEntries(
      Object.values(EscalationTrigger).map((trigger) => [
        trigger,
        escalationSettings(defaultToolPolicy, trigger, undefined).level,
      ]),
    );
    expect(levels).toEqual({
      critical_tool_failed: 'critical',
      auth_failed: 'critical',
      permission_denied: 'critical',
      data_integrity: 'critical',
      unsafe_to_repeat: 'warning',
      fallbacks_exhausted: 'warning',
      repeated_failures: 'warning',
      error_rate: 'warning',
    });
  });
});

describe('immediateTrigger', () => {
  it('escalates auth, permission and constraint failures at once', () => {
    expect(immediateTrigger(failureOf('auth'))).toBe('auth_failed');
    expect(immediateTrigger(failureOf('permission'))).toBe('permission_denied');
    expect(immediateTrigger(failureOf('constraint'))).toBe('data_integrity');
  });

  it('raises no trigger for any other kind', () => {
    const others = FailureKind.options.filter((kind) => !['auth', 'permission', 'constraint'].includes(kind));
    expect(others).toHaveLength(15);
    for (const kind of others) expect(immediateTrigger(failureOf(kind))).toBeUndefined();
  });
});

describe('buildEscalation', () => {
  it("keeps the failure's kind, message and suggestions and the call id", () => {
    const failure = failureOf('constraint', {
      message: 'duplicate key',
      suggestions: ['use another id', 'update instead'],
    });
    expect(
      buildEscalation(defaultToolPolicy, EscalationTrigger.constraint, {
        server: 'db',
        tool: 'insert',
        at: 1234,
        callId: 'call-1',
        failure,
      }),
    ).toStrictEqual({
      level: 'critical',
      trigger: 'data_integrity',
      server: 'db',
      tool: 'insert',
      message: 'duplicate key',
      recommendedAction: defaultRecommendedActions.constraint,
      kind: 'constraint',
      suggestions: ['use another id', 'update instead'],
      callId: 'call-1',
      at: 1234,
    });
  });

  it("prefers an explicit message to the failure's", () => {
    const escalation = buildEscalation(defaultToolPolicy, EscalationTrigger.auth, {
      server: 's',
      tool: 't',
      at: 0,
      failure: failureOf('auth'),
      message: 'token expired',
    });
    expect(escalation.message).toBe('token expired');
  });

  it('names the trigger as the message and leaves out absent fields when there is no failure', () => {
    expect(
      buildEscalation(policyWith({ level: 'emergency', byKind: {} }), EscalationTrigger.errorRate, {
        server: 's',
        tool: 't',
        at: 5,
      }),
    ).toStrictEqual({
      level: 'emergency',
      trigger: 'error_rate',
      server: 's',
      tool: 't',
      message: 'error_rate',
      recommendedAction: defaultRecommendedActions.error_rate,
      at: 5,
    });
  });
});
