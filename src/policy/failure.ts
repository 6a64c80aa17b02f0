// The failure taxonomy of seed 000: what went wrong (raw evidence) and what it means (a classified failure).
import { z } from 'zod';

export const FailureClass = z.enum(['transient', 'permanent', 'degraded']);
export type FailureClass = z.infer<typeof FailureClass>;

/** One kind per row of the seed's three tables, plus the two the runtime itself produces. */
export const FailureKind = z.enum([
  // transient
  'timeout',
  'lock',
  'rate_limit',
  'unavailable',
  'resource',
  // permanent
  'invalid_input',
  'not_found',
  'auth',
  'permission',
  'constraint',
  'unimplemented',
  // degraded
  'backend_down',
  'worker_offline',
  'server_degraded',
  'partial',
  // produced by retrace
  'circuit_open',
  'cancelled',
  'unknown',
]);
export type FailureKind = z.infer<typeof FailureKind>;

export const classOfKind: Record<FailureKind, FailureClass> = {
  timeout: 'transient',
  lock: 'transient',
  rate_limit: 'transient',
  unavailable: 'transient',
  resource: 'transient',
  invalid_input: 'permanent',
  not_found: 'permanent',
  auth: 'permanent',
  permission: 'permanent',
  constraint: 'permanent',
  unimplemented: 'permanent',
  backend_down: 'degraded',
  worker_offline: 'degraded',
  server_degraded: 'degraded',
  partial: 'degraded',
  circuit_open: 'transient',
  cancelled: 'permanent',
  unknown: 'transient',
};

/**
 * The evidence of a failed attempt, exactly as the transport saw it. The MCP client actor never
 * throws for a failed call: it returns one of these, and the classifier decides what it means.
 */
export const RawFailure = z.discriminatedUnion('source', [
  /** A JSON-RPC error (`McpError`): -32000 closed, -32001 timeout, -32601, -32602, -32603, … */
  z.object({ source: z.literal('rpc'), code: z.number(), message: z.string(), data: z.unknown().optional() }),
  /** A tool result with `isError: true`. `text` joins its text content. */
  z.object({
    source: z.literal('tool'),
    text: z.string(),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    result: z.unknown(),
  }),
  /** An HTTP status from the Streamable HTTP transport, with the response headers (lower-case names). */
  z.object({
    source: z.literal('http'),
    status: z.number(),
    headers: z.record(z.string(), z.string()),
    message: z.string(),
  }),
  /** The connection failed: refused, reset, closed mid-call, or the stdio server process died. */
  z.object({
    source: z.literal('transport'),
    reason: z.enum(['refused', 'reset', 'closed', 'exited', 'spawn_failed', 'other']),
    message: z.string(),
    errno: z.string().optional(),
    exitCode: z.number().nullable().optional(),
    signal: z.string().nullable().optional(),
    /** Whether the request may have reached the server (matters for non-idempotent tools). */
    sent: z.boolean(),
  }),
  /** The attempt ran past its timeout and was cancelled by retrace. */
  z.object({ source: z.literal('timeout'), timeoutMs: z.number(), message: z.string() }),
  /** The circuit breaker refused the attempt before it was made. */
  z.object({
    source: z.literal('circuit'),
    state: z.enum(['open', 'halfOpen']),
    message: z.string(),
    /** How long until the open breaker turns half-open (absent when unknown: probes under way). */
    retryInMs: z.number().nonnegative().optional(),
  }),
  /** The caller cancelled the call. */
  z.object({ source: z.literal('cancelled'), message: z.string() }),
  /** Anything else that was thrown. */
  z.object({ source: z.literal('exception'), name: z.string(), message: z.string(), stack: z.string().optional() }),
]);
export type RawFailure = z.infer<typeof RawFailure>;

/** What a failure means: the data every decision (retry, fallback, cache, escalate) is taken from. */
export const ClassifiedFailure = z.object({
  class: FailureClass,
  kind: FailureKind,
  retryable: z.boolean(),
  /** A server-given wait (Retry-After header, `retry_after` field), already converted to ms. */
  retryAfterMs: z.number().optional(),
  /** The request may have taken effect (timeout, connection lost mid-call): unsafe to repeat unless idempotent. */
  maybeExecuted: z.boolean(),
  message: z.string(),
  /** The rule that matched, for explanations: `default:http-429`, `tool:my_rule`, … */
  rule: z.string(),
  /** Constraint violations carry the server's suggestions. */
  suggestions: z.array(z.string()).optional(),
  /** The raw evidence (redacted before it is logged). */
  cause: RawFailure,
});
export type ClassifiedFailure = z.infer<typeof ClassifiedFailure>;
