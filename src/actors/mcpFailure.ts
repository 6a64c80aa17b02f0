// Turns what an MCP attempt ran into (thrown errors, error results) into RawFailure evidence; it never classifies.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RawFailure } from '../policy/failure.js';

export type TransportFailure = Extract<RawFailure, { source: 'transport' }>;
export type TransportReason = TransportFailure['reason'];

/** A result with `isError: true`: its text content joined, its structured content, and the whole result. */
export function toolErrorFailure(result: CallToolResult): RawFailure {
  const text = result.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
  const failure: Extract<RawFailure, { source: 'tool' }> = { source: 'tool', text, result };
  if (result.structuredContent !== undefined) failure.structuredContent = result.structuredContent;
  return failure;
}

export function cancelledFailure(reason: unknown): RawFailure {
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : undefined;
  return { source: 'cancelled', message: why ? `cancelled: ${why}` : 'cancelled' };
}

export function exceptionFailure(error: unknown): RawFailure {
  if (error instanceof Error) {
    const failure: Extract<RawFailure, { source: 'exception' }> = {
      source: 'exception',
      name: error.name,
      message: describeError(error),
    };
    if (error.stack !== undefined) failure.stack = error.stack;
    return failure;
  }
  return { source: 'exception', name: typeof error, message: String(error) };
}

const reasonByErrno: Record<string, TransportReason> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  ECONNABORTED: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ENOENT: 'spawn_failed',
  EACCES: 'spawn_failed',
  ENOEXEC: 'spawn_failed',
};

/** Whether a request may have reached the server when its connection failed this way. */
const reachedByReason: Record<TransportReason, boolean> = {
  refused: false,
  spawn_failed: false,
  reset: true,
  closed: true,
  exited: true,
  other: false,
};

/** The first errno-like code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …) along an error's cause chain. */
export function errnoOf(error: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof error !== 'object' || error === null) return undefined;
  const code: unknown = Reflect.get(error, 'code');
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = errnoOf(inner, depth + 1);
      if (found) return found;
    }
  }
  return errnoOf(Reflect.get(error, 'cause'), depth + 1);
}

/** Timeouts waiting for an answer: the request itself went out. */
const reachedByErrno = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function transportFailureFromErrno(errno: string, message: string, inFlight: boolean): TransportFailure {
  const reason = reasonByErrno[errno] ?? 'other';
  const sent = inFlight && (reachedByReason[reason] || reachedByErrno.has(errno));
  return { source: 'transport', reason, errno, message, sent };
}

/** An error's message followed by its causes' messages: `fetch failed: connect ECONNREFUSED 127.0.0.1:1`. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message && !parts.includes(message)) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

const plainReason: Record<TransportReason, string> = {
  refused: 'connection refused',
  reset: 'connection reset',
  closed: 'connection closed',
  exited: 'process exited',
  spawn_failed: 'cannot start the command',
  other: 'connection failed',
};

export function describeReason(reason: TransportReason): string {
  return plainReason[reason];
}
