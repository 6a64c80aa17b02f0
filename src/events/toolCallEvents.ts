// The `data` of every `toolcall.*` event: the tool-call machine's emitted facts minus `type`, `at` and `callId`.
import { z } from 'zod';
import type { ToolCallEmitted } from '../machines/toolCallTypes.js';
import { OutcomeStatus } from '../machines/toolCallTypes.js';
import { EscalationTrigger } from '../policy/escalation.js';
import { EscalationLevel } from '../policy/escalationLevel.js';
import { ClassifiedFailure, FailureClass, FailureKind } from '../policy/failure.js';
import { RecordedResult } from './recordedValue.js';

/** Which server and tool a call is on at the moment of the fact (a fallback changes it). */
const onTool = { server: z.string(), tool: z.string() };

export const ToolRef = z.object({ server: z.string(), tool: z.string() });
export type ToolRef = z.infer<typeof ToolRef>;

export const Route = z.enum(['primary', 'fallback', 'sync']);
export const Decision = z.enum([
  'retry',
  'fallback',
  'fail',
  'escalate',
  'skip',
  'partial',
  'sync_alternative',
  'cancel',
]);

export const FailureSummary = z.object({
  class: FailureClass,
  kind: FailureKind,
  message: z.string(),
  rule: z.string(),
  retryAfterMs: z.number().optional(),
  suggestions: z.array(z.string()).optional(),
});
export type FailureSummary = z.infer<typeof FailureSummary>;

export const EscalationRecord = z.object({
  level: EscalationLevel,
  trigger: z.enum(EscalationTrigger),
  server: z.string(),
  tool: z.string(),
  message: z.string(),
  recommendedAction: z.string(),
  kind: FailureKind.optional(),
  suggestions: z.array(z.string()).optional(),
  callId: z.string().optional(),
  at: z.number(),
});
export type EscalationRecord = z.infer<typeof EscalationRecord>;

const Args = z.record(z.string(), z.unknown());

export const ToolCallRequestedData = z.object({
  ...onTool,
  /** Redacted by path. */
  args: Args,
  /** The fallback chain as `server/tool`, null for "an empty result". */
  fallbacks: z.array(z.string().nullable()),
});

export const AttemptStartedData = z.object({ ...onTool, n: z.number().int().min(0), route: Route });

export const AttemptFailedData = z.object({
  ...onTool,
  n: z.number().int().min(0),
  durationMs: z.number().min(0),
  failure: ClassifiedFailure,
  decision: Decision,
  reason: z.string(),
  probeToken: z.string(),
});

export const BackoffScheduledData = z.object({
  ...onTool,
  n: z.number().int().min(0),
  delayMs: z.number().min(0),
  /** Clock time the retry is due: a resumed run keeps this deadline. */
  until: z.number(),
  /** The delay came from the server's Retry-After. */
  retryAfter: z.boolean(),
});

export const FallbackStartedData = z.object({ ...onTool, to: ToolRef.nullable(), reason: z.string() });

export const CacheHitData = z.object({ ...onTool, ageMs: z.number() });

export const CacheMissData = z.object({
  ...onTool,
  reason: z.enum(['absent', 'stale']),
  ageMs: z.number().optional(),
});

export const ToolCallSucceededData = z.object({
  ...onTool,
  status: z.enum(OutcomeStatus),
  n: z.number().int().min(0).optional(),
  probeToken: z.string().optional(),
  /** Redacted by path; a TruncatedValue when over the writer's size limit. */
  result: RecordedResult.optional(),
  cacheable: z.boolean(),
  /** Redacted by path. */
  args: Args,
  warnings: z.array(z.string()),
});

export const ToolCallFailedData = z.object({
  ...onTool,
  error: FailureSummary.optional(),
  attempts: z.number().int().min(0),
  n: z.number().int().min(0),
  probeToken: z.string(),
});

export const ToolCallEscalatedData = z.object({ ...onTool, escalation: EscalationRecord });

export const ToolCallWarningData = z.object({ ...onTool, message: z.string() });

/** The data schema of each `toolcall.*` type. */
export const toolCallDataSchemas = {
  'toolcall.requested': ToolCallRequestedData,
  'toolcall.attempt.started': AttemptStartedData,
  'toolcall.attempt.failed': AttemptFailedData,
  'toolcall.backoff.scheduled': BackoffScheduledData,
  'toolcall.fallback.started': FallbackStartedData,
  'toolcall.cache.hit': CacheHitData,
  'toolcall.cache.miss': CacheMissData,
  'toolcall.succeeded': ToolCallSucceededData,
  'toolcall.failed': ToolCallFailedData,
  'toolcall.escalated': ToolCallEscalatedData,
  'toolcall.warning': ToolCallWarningData,
} as const;

/** What the machine says of type `T`, as it becomes an event's data. */
export type ToolCallEmittedData<T extends ToolCallEmitted['type']> = Omit<
  Extract<ToolCallEmitted, { type: T }>,
  'type' | 'at' | 'callId'
>;

/** Fails to compile when the machine emits a type without a schema, or a payload its schema would refuse. */
type EveryPayloadFits = {
  [T in ToolCallEmitted['type']]: ToolCallEmittedData<T> extends z.input<(typeof toolCallDataSchemas)[T]>
    ? true
    : never;
};
const _everyToolCallPayloadFits: EveryPayloadFits = {
  'toolcall.requested': true,
  'toolcall.attempt.started': true,
  'toolcall.attempt.failed': true,
  'toolcall.backoff.scheduled': true,
  'toolcall.fallback.started': true,
  'toolcall.cache.hit': true,
  'toolcall.cache.miss': true,
  'toolcall.succeeded': true,
  'toolcall.failed': true,
  'toolcall.escalated': true,
  'toolcall.warning': true,
};
