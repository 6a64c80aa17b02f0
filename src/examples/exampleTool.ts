// One example tool: its MCP description (zod input, annotations) and its behaviour over the world; and how a planned fault answers.
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { errorText, structuredResult } from '../common/failureShapes.js';
import type { FailureSpec } from '../testing/flakyPlan.js';
import type { ExampleFaults } from './exampleFaults.js';
import type { ExampleWorld, ToolFailureDetails } from './exampleWorld.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  world: ExampleWorld;
  faults: ExampleFaults;
  extra: ToolExtra;
}

export type ToolInput = z.ZodObject<z.ZodRawShape>;

export interface ExampleTool {
  name: string;
  description: string;
  annotations: ToolAnnotations;
  input: ToolInput;
  /** Parses the (already validated) arguments again for their type, then runs; throws `ToolFailure` to fail. */
  run(args: unknown, context: ToolContext): Promise<Record<string, unknown>>;
}

export function defineTool<S extends ToolInput>(tool: {
  name: string;
  description: string;
  annotations: ToolAnnotations;
  input: S;
  run: (args: z.output<S>, context: ToolContext) => Record<string, unknown> | Promise<Record<string, unknown>>;
}): ExampleTool {
  return { ...tool, run: async (args, context) => tool.run(tool.input.parse(args), context) };
}

/**
 * A failure the tool explains: its message as text (what a person, or a client that reads only text, sees) and as
 * structured content with its type and, when it has one, the wait it asks for (`retry_after`, in seconds).
 */
export function explainedFailure(message: string, details: ToolFailureDetails): CallToolResult {
  const error: Record<string, unknown> = { type: details.type, message };
  if (details.retryAfterSeconds !== undefined) error['retry_after'] = details.retryAfterSeconds;
  return { content: [{ type: 'text', text: message }], structuredContent: { error }, isError: true };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A planned failure, answered as an McpServer-based server answers (not as the flaky server's low-level one, whose
 * `failureResult` in src/common/failureShapes.ts sends `rpc` as a JSON-RPC error and bounds a hang by `ms`): error results, thrown errors (which the
 * SDK turns into `isError` results reading `MCP error <code>: …`), a call that never answers, or a dead process.
 */
export async function failWith(spec: FailureSpec, extra: ToolExtra, allowExit: boolean): Promise<CallToolResult> {
  switch (spec.error) {
    case 'is_error_text':
      return errorText(spec.text ?? 'Service temporarily unavailable');
    case 'is_error_structured': {
      const error: Record<string, unknown> = { type: spec.error_type ?? 'unavailable' };
      if (spec.text !== undefined) error['message'] = spec.text;
      if (spec.retry_after !== undefined) error['retry_after'] = spec.retry_after;
      if (spec.suggestions !== undefined) error['suggestions'] = spec.suggestions;
      return structuredResult({ error }, true);
    }
    case 'rpc':
      throw new McpError(spec.code ?? -32603, spec.text ?? 'Internal error');
    case 'hang':
      await untilAborted(extra.signal);
      return errorText('cancelled');
    case 'exit':
      if (!allowExit) return errorText('exit is disabled in this host (it shares a process with its caller)');
      process.stderr.write(`example-server: exiting mid-call with code ${spec.code ?? 3}, as planned\n`);
      process.exit(spec.code ?? 3);
    // eslint-disable-next-line no-fallthrough -- process.exit never returns
    case 'http_status':
    case 'drop':
    case 'reset':
      return errorText(`${spec.error} needs the HTTP host`);
  }
}
