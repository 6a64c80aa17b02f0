// A classification rule is data: match a failure by source, code, status, message or structured field; say its kind.
import { z } from 'zod';
import { FailureClass, FailureKind } from './failure.js';

const OneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]);

export const FieldMatch = z
  .object({
    /** Dotted path into `structuredContent` (tool results) or `data` (JSON-RPC errors), e.g. `error.type`. */
    path: z.string().min(1),
    equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** Case-insensitive regular expression tested against the field's string value. */
    matches: z.string().optional(),
    exists: z.boolean().optional(),
  })
  .strict();
export type FieldMatch = z.infer<typeof FieldMatch>;

export const RuleMatch = z
  .object({
    source: OneOrMany(
      z.enum(['rpc', 'tool', 'http', 'transport', 'timeout', 'circuit', 'cancelled', 'exception']),
    ).optional(),
    /** JSON-RPC error code(s). */
    code: OneOrMany(z.number().int()).optional(),
    /** HTTP status(es). */
    status: OneOrMany(z.number().int()).optional(),
    /** Transport reason(s): refused, reset, closed, exited, spawn_failed, other. */
    reason: OneOrMany(z.string()).optional(),
    /** Case-insensitive regular expression tested against the message or the result text. */
    message: z.string().optional(),
    field: FieldMatch.optional(),
  })
  .strict();
export type RuleMatch = z.infer<typeof RuleMatch>;

export const ClassificationRule = z
  .object({
    name: z.string().optional(),
    when: RuleMatch,
    kind: FailureKind,
    /** Defaults to the class of the kind. */
    class: FailureClass.optional(),
    /** Defaults to true for transient failures, false otherwise. */
    retryable: z.boolean().optional(),
    /** Dotted path of a seconds value to wait (e.g. `retry_after`, `error.retry_after`). */
    retry_after_field: z.string().optional(),
    /** Dotted path of a list of suggestion strings (constraint violations). */
    suggestions_field: z.string().optional(),
  })
  .strict();
export type ClassificationRule = z.infer<typeof ClassificationRule>;
