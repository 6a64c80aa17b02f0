// Turns what a machine emitted into a validated envelope: id, per-run gap-free seq, redacted and size-limited data.
import type { Clock, RandomSource } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { createRedactor } from '../common/redact.js';
import type { CircuitBreakerEmitted } from '../machines/circuitBreaker.js';
import type { ToolCallEmitted } from '../machines/toolCallTypes.js';
import type { WorkflowEmitted } from '../machines/workflowTypes.js';
import type { AdvisoryRaised } from './advisoryEvents.js';
import { CURRENT_EVENT_VERSION } from './envelope.js';
import { createEventIdFactory } from './eventIds.js';
import { issueError } from './parseEvent.js';
import { limitSize } from './recordedValue.js';
import { RetraceEvent } from './retraceEvent.js';

/** Every fact that becomes an event: what a machine emits, and the runtime's advisories. */
export type EmittedFact = ToolCallEmitted | CircuitBreakerEmitted | AdvisoryRaised | WorkflowEmitted;

export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;

/** The data fields that may carry user data, and so are redacted by path. */
const redactedKeys = ['args', 'result', 'failure', 'inputs', 'value'] as const;

export interface EventWriterOptions {
  /** Stamps event ids (an event's `ts` is the fact's own `at`). */
  clock: Pick<Clock, 'now'>;
  random: RandomSource;
  /**
   * Dotted paths from the event's data, with `*` for any key: `args.token`, `result.structuredContent.ssn`,
   * `failure.cause.headers.*`. Only `args`, `result`, `failure`, and a workflow's `inputs` and `value` are redacted;
   * secret-looking keys in them (DEFAULT_SECRET_KEYS) are redacted as well.
   */
  redact?: readonly string[];
  /** A result (or a failed attempt's raw result) whose JSON is over this becomes a TruncatedValue. */
  maxResultBytes?: number;
  /**
   * Checks each envelope against its schema (the default: every envelope written is validated). Off only where
   * nothing is written — a runtime without a store folds its envelopes into live metrics alone, and the check
   * would be most of the cost of its calls; the facts' types are checked against the schemas at compile time.
   */
  validate?: boolean;
}

export interface EventWriter {
  /** The next event of `runId`; throws a RetraceError (and uses no seq) when the fact does not fit its schema. */
  toEnvelope(runId: string, emitted: EmittedFact, parentId?: string): RetraceEvent;
  /** The last seq given in `runId` (0 when none). */
  lastSeq(runId: string): number;
  /** Continues `runId` after `lastSeq`, e.g. after a restart, from the store's last event of that run. */
  resumeRun(runId: string, lastSeq: number): void;
  /** Drops a finished run's counter; writing to it again starts from 1. */
  forgetRun(runId: string): void;
}

/**
 * Marks the envelopes `toEnvelope` validated (frozen, so what was checked is what is stored): a store need not
 * validate them again, while an envelope from anywhere else (import, a caller's own object, a copy) still is. A
 * non-enumerable symbol: JSON, spreads and copies leave it behind.
 */
const validatedOnWrite = Symbol('retrace.validatedOnWrite');

/** Whether `event` is an envelope this process's event writer made and validated (and nobody changed since). */
export function isValidatedOnWrite(event: object): boolean {
  return (event as { [validatedOnWrite]?: true })[validatedOnWrite] === true;
}

export function createEventWriter(options: EventWriterOptions): EventWriter {
  const nextId = createEventIdFactory(options);
  const redact = createRedactor(options.redact ?? []);
  const maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  if (!Number.isInteger(maxResultBytes) || maxResultBytes < 1) {
    throw new RetraceError(
      ErrorCode.config,
      `maxResultBytes must be a whole number of bytes from 1, not ${maxResultBytes}`,
    );
  }
  const lastSeqs = new Map<string, number>();
  const validate = options.validate ?? true;

  /** Redacts `args`, `result` and `failure` together, so paths are rooted at the data; other fields stay as they are. */
  function recorded(data: Record<string, unknown>): Record<string, unknown> {
    const view: Record<string, unknown> = {};
    let any = false;
    for (const key of redactedKeys) {
      if (data[key] !== undefined) {
        view[key] = data[key];
        any = true;
      }
    }
    if (!any) return data;
    const redacted = redact(view) as Record<string, unknown>;
    const out = redacted === view ? { ...data } : { ...data, ...redacted };
    if (out['result'] !== undefined) out['result'] = limitSize(out['result'], maxResultBytes);
    if (out['value'] !== undefined) out['value'] = limitSize(out['value'], maxResultBytes);
    const failure = out['failure'];
    if (typeof failure === 'object' && failure !== null)
      out['failure'] = limitFailure(failure as Record<string, unknown>);
    return out;
  }

  /** A failed attempt's raw evidence can carry a whole tool result: the same limit applies to it. */
  function limitFailure(failure: Record<string, unknown>): Record<string, unknown> {
    const cause = failure['cause'];
    if (typeof cause !== 'object' || cause === null) return failure;
    let limited: Record<string, unknown> | undefined;
    for (const key of ['result', 'structuredContent', 'data']) {
      const value = (cause as Record<string, unknown>)[key];
      const kept = limitSize(value, maxResultBytes);
      if (kept !== value) {
        limited ??= { ...(cause as Record<string, unknown>) };
        limited[key] = kept;
      }
    }
    return limited === undefined ? failure : { ...failure, cause: limited };
  }

  return {
    toEnvelope(runId, emitted, parentId) {
      let actorId: string;
      let rest: Record<string, unknown>;
      if (emitted.type.startsWith('workflow.')) {
        const { type: _type, at: _at, actorId: id, parentId: parent, ...data } = emitted as WorkflowEmitted;
        actorId = id;
        parentId ??= parent;
        rest = data;
      } else if (emitted.type.startsWith('breaker.')) {
        const { type: _type, at: _at, key, ...data } = emitted as CircuitBreakerEmitted;
        actorId = key;
        rest = data;
      } else {
        const { type: _type, at: _at, callId, ...data } = emitted as ToolCallEmitted | AdvisoryRaised;
        actorId = callId;
        rest = data;
      }
      const seq = (lastSeqs.get(runId) ?? 0) + 1;
      const envelope = {
        v: CURRENT_EVENT_VERSION,
        id: nextId(),
        runId,
        actorId,
        ...(parentId === undefined ? {} : { parentId }),
        seq,
        ts: emitted.at,
        type: emitted.type,
        data: recorded(rest),
      };
      if (!validate) {
        lastSeqs.set(runId, seq);
        return envelope as RetraceEvent;
      }
      const parsed = RetraceEvent.safeParse(envelope);
      if (!parsed.success) throw issueError(emitted.type, parsed.error);
      lastSeqs.set(runId, seq);
      Object.defineProperty(parsed.data, validatedOnWrite, { value: true });
      Object.freeze(parsed.data);
      return parsed.data;
    },
    lastSeq: (runId) => lastSeqs.get(runId) ?? 0,
    resumeRun(runId, lastSeq) {
      if (!Number.isInteger(lastSeq) || lastSeq < 0) {
        throw new RetraceError(
          ErrorCode.badArguments,
          `run ${runId}: the last seq must be a whole number from 0, not ${lastSeq}`,
        );
      }
      lastSeqs.set(runId, lastSeq);
    },
    forgetRun(runId) {
      lastSeqs.delete(runId);
    },
  };
}
