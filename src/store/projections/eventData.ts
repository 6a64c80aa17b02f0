// Small readers of an envelope's `data` for the projections, until the typed event schemas land.
import type { EscalationLevel } from '../../policy/escalationLevel.js';
import type { FailureClass, FailureKind } from '../../policy/failure.js';

export interface ToolRef {
  server: string;
  tool: string;
}

export type Data = Record<string, unknown>;

export const isRecord = (value: unknown): value is Data =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const numberOr = <T>(value: unknown, fallback: T): number | T =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;
export const stringOr = <T>(value: unknown, fallback: T): string | T => (typeof value === 'string' ? value : fallback);

const failureClasses: readonly string[] = ['transient', 'permanent', 'degraded'];
const escalationLevels: readonly string[] = ['info', 'warning', 'critical', 'emergency'];

/** `server/tool`, the key of per-tool projections and the actorId of a breaker's events. */
export const toolKey = (ref: ToolRef): string => `${ref.server}/${ref.tool}`;

export function splitToolKey(key: string): ToolRef {
  const slash = key.indexOf('/');
  return slash < 0 ? { server: '', tool: key } : { server: key.slice(0, slash), tool: key.slice(slash + 1) };
}

/** The tool an event is about (`data.server`, `data.tool`). */
export function toolOf(data: Data): ToolRef | undefined {
  const { server, tool } = data;
  return typeof server === 'string' && typeof tool === 'string' ? { server, tool } : undefined;
}

export type Route = 'primary' | 'fallback' | 'sync';

export function readAttemptStarted(data: Data): { n: number; route: Route | undefined } {
  const route = data.route;
  return {
    n: numberOr(data.n, 0),
    route: route === 'primary' || route === 'fallback' || route === 'sync' ? route : undefined,
  };
}

/** The classification of a failure, as far as the projections need it. */
export interface FailureView {
  class: FailureClass;
  kind: FailureKind;
  message: string;
  retryAfterMs?: number;
}

export function readFailure(value: unknown): FailureView | undefined {
  if (!isRecord(value) || typeof value.class !== 'string' || !failureClasses.includes(value.class)) return undefined;
  const view: FailureView = {
    class: value.class as FailureClass,
    kind: stringOr(value.kind, 'unknown') as FailureKind,
    message: stringOr(value.message, ''),
  };
  const retryAfterMs = numberOr(value.retryAfterMs, undefined);
  if (retryAfterMs !== undefined) view.retryAfterMs = retryAfterMs;
  return view;
}

export interface AttemptFailedView {
  n: number;
  durationMs: number;
  failure: FailureView;
  decision: string;
  reason: string;
}

export function readAttemptFailed(data: Data): AttemptFailedView {
  return {
    n: numberOr(data.n, 0),
    durationMs: numberOr(data.durationMs, 0),
    failure: readFailure(data.failure) ?? { class: 'transient', kind: 'unknown', message: '' },
    decision: stringOr(data.decision, ''),
    reason: stringOr(data.reason, ''),
  };
}

export interface BackoffView {
  n: number;
  delayMs: number;
  until: number;
  retryAfter: boolean;
}

export function readBackoff(data: Data, ts: number): BackoffView {
  const delayMs = numberOr(data.delayMs, 0);
  return {
    n: numberOr(data.n, 0),
    delayMs,
    until: numberOr(data.until, ts + delayMs),
    retryAfter: data.retryAfter === true,
  };
}

export function readFallback(data: Data): { to: ToolRef | null; reason: string } {
  const to = isRecord(data.to) ? toolOf(data.to) : undefined;
  return { to: to ?? null, reason: stringOr(data.reason, '') };
}

export function readCacheHit(data: Data): { ageMs: number } {
  return { ageMs: numberOr(data.ageMs, 0) };
}

/** `n` is present only when an attempt itself answered (not for a cached, empty or skipped answer). */
export function readSucceeded(data: Data): { status: string; n: number | undefined } {
  return { status: stringOr(data.status, 'succeeded'), n: numberOr(data.n, undefined) };
}

export function readFailed(data: Data): { error: FailureView | undefined; attempts: number } {
  return { error: readFailure(data.error), attempts: numberOr(data.attempts, 0) };
}

export interface EscalationView extends ToolRef {
  level: EscalationLevel;
  trigger: string;
  message: string;
  recommendedAction: string;
}

export function readEscalation(data: Data): EscalationView | undefined {
  const escalation = data.escalation;
  if (!isRecord(escalation) || typeof escalation.level !== 'string' || !escalationLevels.includes(escalation.level)) {
    return undefined;
  }
  const tool = toolOf(escalation) ?? toolOf(data);
  return {
    server: tool?.server ?? '',
    tool: tool?.tool ?? '',
    level: escalation.level as EscalationLevel,
    trigger: stringOr(escalation.trigger, ''),
    message: stringOr(escalation.message, ''),
    recommendedAction: stringOr(escalation.recommendedAction, ''),
  };
}

export interface AdvisoryView {
  escalation: EscalationView;
  windowMs: number;
  failures: number;
  calls: number;
  threshold: number;
}

/** `toolcall.advisory.raised`: the escalation and the window figures that raised it. */
export function readAdvisory(data: Data): AdvisoryView | undefined {
  const escalation = readEscalation(data);
  if (!escalation) return undefined;
  return {
    escalation,
    windowMs: numberOr(data.windowMs, 0),
    failures: numberOr(data.failures, 0),
    calls: numberOr(data.calls, 0),
    threshold: numberOr(data.threshold, 0),
  };
}
