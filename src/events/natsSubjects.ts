// NATS subject names for events and escalations, and the checks that keep a run id or type from breaking them.
import { ErrorCode, RetraceError } from '../common/errors.js';

export const DEFAULT_EVENT_SUBJECT_PREFIX = 'retrace.events';
export const DEFAULT_ESCALATION_SUBJECT_PREFIX = 'retrace.escalations';

/** One subject token: no dots, wildcards, whitespace or control characters. */
const tokenPattern = /^[A-Za-z0-9_-]+$/;
/** Dotted tokens, as in a subject prefix or an event type. */
const dottedPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Throws a clear error unless `runId` can stand as one subject token. */
export function assertSubjectSafeRunId(runId: string): void {
  if (!tokenPattern.test(runId)) {
    throw new RetraceError(
      ErrorCode.config,
      `run id ${JSON.stringify(runId)} cannot be a NATS subject token: use only letters, digits, '-' and '_' (no '.', '*', '>' or spaces)`,
      { location: { path: 'runId' } },
    );
  }
}

/** Throws a clear error unless `value` is dotted subject tokens (a prefix, an event type). */
export function assertDottedSubject(value: string, what: string): void {
  if (!dottedPattern.test(value)) {
    throw new RetraceError(
      ErrorCode.config,
      `${what} ${JSON.stringify(value)} is not a valid NATS subject: dotted tokens of letters, digits, '-' and '_'`,
      { location: { path: what } },
    );
  }
}

/** `retrace.events.<runId>.<type>`: where the bus publishes an event on core NATS. */
export function eventSubject(prefix: string, runId: string, type: string): string {
  assertSubjectSafeRunId(runId);
  assertDottedSubject(type, 'type');
  return `${prefix}.${runId}.${type}`;
}
