// How an MCP server fails, as data (FailureSpec) and as the answers that carry it: JSON-RPC errors, error results,
// hangs, a dead process, HTTP statuses and broken sockets. Shared by the flaky test server and `retrace chaos-proxy`.
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { systemClock, waitOrAbort, type Clock } from './clock.js';
import { rpcError, sendJson } from './httpJson.js';

export const FailureMode = z.enum([
  'is_error_text',
  'is_error_structured',
  'rpc',
  'hang',
  'exit',
  'http_status',
  'drop',
  'reset',
]);
export type FailureMode = z.infer<typeof FailureMode>;

/** How one call fails. `http_status`, `drop` and `reset` need an HTTP host; `exit` needs a process of its own. */
export const FailureSpec = z.object({
  error: FailureMode,
  /** Error text (`is_error_*`), JSON-RPC message (`rpc`). */
  text: z.string().optional(),
  /** JSON-RPC code (`rpc`, default -32603) or exit code (`exit`, default 3). */
  code: z.number().int().optional(),
  status: z.number().int().min(400).max(599).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  error_type: z.string().optional(),
  retry_after: z.number().optional(),
  suggestions: z.array(z.string()).optional(),
  /** Extra fields of a structured error result (`is_error_structured`), beside `error`. */
  fields: z.record(z.string(), z.unknown()).optional(),
  /** `hang`: give up after this many milliseconds with a "timed out" error result (default: until cancelled). */
  ms: z.number().int().min(0).optional(),
});
export type FailureSpec = z.infer<typeof FailureSpec>;

/**
 * A JSON-RPC error answer: a low-level SDK Server sends `code`, `message` and `data` of whatever a handler throws
 * (an McpError would send its `MCP error <code>: ` prefixed message, which the client prefixes again).
 */
export class JsonRpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export function textResult(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

export function errorText(value: string): CallToolResult {
  return { ...textResult(value), isError: true };
}

/** Structured content, with the same JSON as text for clients that read only text. */
export function structuredResult(value: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value,
    ...(isError && { isError }),
  };
}

export interface FailureContext {
  /** The call's signal: a hang ends when it aborts (the client cancelled). */
  signal: AbortSignal;
  /** Whether `exit` may end this process (not when the host shares a process with its caller). */
  allowExit: boolean;
  /** Names the process in the line written before `exit`. */
  name: string;
  /** Times a bounded hang (`ms`). */
  clock?: Clock;
}

/** Answers a call the way `spec` says, as a low-level MCP Server's tools/call handler (throws for `rpc`). */
export async function failureResult(spec: FailureSpec, context: FailureContext): Promise<CallToolResult> {
  switch (spec.error) {
    case 'is_error_text':
      return errorText(spec.text ?? 'Service temporarily unavailable');
    case 'is_error_structured': {
      const error: Record<string, unknown> = { type: spec.error_type ?? 'unavailable' };
      if (spec.retry_after !== undefined) error['retry_after'] = spec.retry_after;
      if (spec.suggestions !== undefined) error['suggestions'] = spec.suggestions;
      const result = structuredResult({ ...spec.fields, error }, true);
      return spec.text === undefined ? result : { ...result, content: [{ type: 'text', text: spec.text }] };
    }
    case 'rpc':
      throw new JsonRpcFailure(spec.code ?? -32603, spec.text ?? 'Internal error');
    case 'hang': {
      const elapsed = await waitOrAbort(context.clock ?? systemClock, spec.ms, context.signal);
      return errorText(elapsed ? (spec.text ?? `Request timed out after ${spec.ms} ms`) : 'cancelled');
    }
    case 'exit':
      if (!context.allowExit) return errorText('exit is disabled in this host (it shares a process with its caller)');
      process.stderr.write(`${context.name}: exiting mid-call with code ${spec.code ?? 3}, as planned\n`);
      process.exit(spec.code ?? 3);
    // eslint-disable-next-line no-fallthrough -- process.exit never returns
    case 'http_status':
    case 'drop':
    case 'reset':
      return errorText(`${spec.error} needs the HTTP host`);
  }
}

/**
 * Failures that happen below MCP, answered by an HTTP host instead of the session's transport: an HTTP status
 * instead of an answer, or a socket destroyed mid-call. False when `spec` is not one of them.
 */
export function answerOverHttp(
  spec: FailureSpec,
  req: IncomingMessage,
  res: ServerResponse,
  sessionId: string,
): boolean {
  switch (spec.error) {
    case 'http_status': {
      const status = spec.status ?? 503;
      const headers = spec.headers ?? (status === 429 ? { 'retry-after': String(spec.retry_after ?? 1) } : {});
      sendJson(res, status, rpcError(-32000, spec.text ?? STATUS_CODES[status] ?? `HTTP ${status}`), headers);
      return true;
    }
    case 'drop':
      // The server accepted the call and opened its event stream, then died.
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'mcp-session-id': sessionId,
      });
      res.write(': started\n\n', () => res.socket?.destroy());
      return true;
    case 'reset':
      req.socket.destroy();
      return true;
    default:
      return false;
  }
}
