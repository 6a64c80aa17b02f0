// A real MCP server whose tools fail on command (JSON-RPC errors, error results, hangs, crashes); flakyHttpHost.ts adds HTTP faults.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { FlakyControl } from './flakyControl.js';
import {
  JsonRpcFailure,
  errorText,
  failureResult,
  structuredResult as structured,
  textResult as text,
} from '../common/failureShapes.js';
import { waitOrAbort, systemClock } from '../common/clock.js';
import { FlakyArgs, type FlakyPlan } from './flakyPlan.js';

const FailArgs = z.object({
  kind: z.enum([
    'invalid_params',
    'unimplemented',
    'internal',
    'rpc',
    'throw',
    'auth',
    'permission',
    'not_found',
    'constraint',
    'partial',
    'text',
    'structured',
  ]),
  text: z.string().optional(),
  code: z.number().int().optional(),
  structured: z.record(z.string(), z.unknown()).optional(),
});

export interface FlakyServerOptions {
  control?: FlakyControl;
  plan?: FlakyPlan;
  /** Whether `exit` may end this process (not when the host shares a process with its tests). */
  allowExit?: boolean;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface FlakyTool {
  name: string;
  description: string;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
  inputSchema: { type: 'object'; [key: string]: unknown };
  call(args: Record<string, unknown>, extra: Extra, attempt: number): Promise<CallToolResult>;
}

function defineTool<S extends z.ZodType<Record<string, unknown>>>(tool: {
  name: string;
  description: string;
  annotations: FlakyTool['annotations'];
  schema: S;
  run: (args: z.output<S>, extra: Extra, attempt: number) => CallToolResult | Promise<CallToolResult>;
}): FlakyTool {
  return {
    name: tool.name,
    description: tool.description,
    annotations: tool.annotations,
    inputSchema: { ...z.toJSONSchema(tool.schema, { io: 'input' }), type: 'object' },
    async call(args, extra, attempt) {
      const parsed = tool.schema.safeParse(args);
      if (!parsed.success) {
        return errorText(`MCP error -32602: Input validation error: ${z.prettifyError(parsed.error)}`);
      }
      return tool.run(parsed.data, extra, attempt);
    },
  };
}

function buildTools(control: FlakyControl): Map<string, FlakyTool> {
  const tools = [
    defineTool({
      name: 'echo',
      description: 'Echoes the message back.',
      annotations: { readOnlyHint: true, openWorldHint: false },
      schema: z.object({ message: z.string() }),
      run: ({ message }) => text(message),
    }),
    defineTool({
      name: 'flaky',
      description: 'Fails the first `failures` calls for `key` (as `error` says), then succeeds with {attempt}.',
      annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: false },
      schema: FlakyArgs,
      run: (_args, _extra, attempt) => structured({ attempt }),
    }),
    defineTool({
      name: 'fail',
      description: 'Always fails the given way (permanent errors, partial data, …).',
      annotations: { readOnlyHint: true, openWorldHint: false },
      schema: FailArgs,
      run: ({ kind, text: given, code, structured: content }) => {
        switch (kind) {
          case 'invalid_params':
            throw new JsonRpcFailure(-32602, given ?? 'Invalid params: field "id" must be a positive integer');
          case 'unimplemented':
            throw new JsonRpcFailure(-32601, given ?? 'Method not found');
          case 'internal':
            throw new JsonRpcFailure(-32603, given ?? 'Internal error');
          case 'rpc':
            throw new JsonRpcFailure(code ?? -32000, given ?? 'Server error', content);
          case 'throw':
            throw new Error(given ?? 'Unexpected failure inside the tool');
          case 'auth':
            return errorText(given ?? 'Authentication failed: invalid API key');
          case 'permission':
            return errorText(given ?? 'Permission denied: read-only credentials');
          case 'not_found':
            return errorText(given ?? 'Not found: record 42 does not exist');
          case 'constraint':
            return structured(
              content ?? {
                error: {
                  type: 'constraint_violation',
                  message: given ?? 'Unique constraint violated: email already exists',
                  suggestions: ['use a different email', 'update the existing record'],
                },
              },
              true,
            );
          case 'partial':
            return structured(content ?? { partial: true, items: [1, 2], error: { type: 'partial_data' } }, true);
          case 'text':
            return errorText(given ?? 'failed');
          case 'structured':
            return structured(content ?? { error: { type: 'unknown' } }, true);
        }
      },
    }),
    defineTool({
      name: 'partial',
      description: 'Succeeds with partial data: {partial: true, items, missing}.',
      annotations: { readOnlyHint: true, openWorldHint: false },
      schema: z.object({ count: z.number().int().min(0).default(3) }),
      run: ({ count }) =>
        structured({ partial: true, items: Array.from({ length: count }, (_, index) => index + 1), missing: 2 }),
    }),
    defineTool({
      name: 'slow',
      description: 'Answers after `ms` milliseconds (with a progress notification halfway); honours cancellation.',
      annotations: { readOnlyHint: true, openWorldHint: false },
      schema: z.object({ ms: z.number().int().min(0) }),
      run: async ({ ms }, extra) => {
        const progressToken = extra._meta?.progressToken;
        if (!(await waitOrAbort(systemClock, ms / 2, extra.signal))) return errorText('cancelled');
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: 1, total: 2, message: 'halfway' },
          });
        }
        if (!(await waitOrAbort(systemClock, ms / 2, extra.signal))) return errorText('cancelled');
        return text(`slept ${ms} ms`);
      },
    }),
    defineTool({
      name: 'write_record',
      description: 'Writes a record (not idempotent: each call is another write).',
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      schema: z.object({ id: z.string(), data: z.unknown().optional() }),
      run: ({ id, data }) => {
        const writes = (control.recordWrites.get(id) ?? 0) + 1;
        control.recordWrites.set(id, writes);
        control.records.set(id, data);
        return structured({ id, writes });
      },
    }),
    defineTool({
      name: 'idempotent_write',
      description: 'Sets key to value (repeating it changes nothing).',
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      schema: z.object({ key: z.string(), value: z.unknown() }),
      run: ({ key, value }) => {
        control.records.set(key, value);
        return structured({ key, value });
      },
    }),
    defineTool({
      name: 'stats',
      description: 'Counters of this server process: calls per tool, cancellations received, pid.',
      annotations: { readOnlyHint: true, openWorldHint: false },
      schema: z.object({}),
      run: () => structured({ ...control.stats() }),
    }),
  ];
  return new Map(tools.map((tool) => [tool.name, tool]));
}

/** A low-level MCP Server whose tools fail on command; several servers (HTTP sessions) may share one control. */
export function createFlakyServer(options: FlakyServerOptions = {}): Server {
  const control = options.control ?? new FlakyControl(options.plan);
  const allowExit = options.allowExit ?? false;
  const tools = buildTools(control);
  const server = new Server(
    { name: 'retrace-flaky', version: '0.1.0' },
    { capabilities: { tools: {}, resources: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...tools.values()].map(({ name, description, annotations, inputSchema }) => ({
      name,
      description,
      annotations,
      inputSchema,
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const tool = tools.get(name);
    if (!tool) return errorText(`MCP error -32602: Tool ${name} not found`);
    const decision = control.take(extra.sessionId, extra.requestId) ?? control.decide(name, args);
    if (decision.kind === 'fail') {
      return failureResult(decision.spec, { signal: extra.signal, allowExit, name: 'flaky' });
    }
    return tool.call(args, extra, decision.attempt);
  });
  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [{ uri: 'flaky://stats', name: 'stats', mimeType: 'application/json' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => {
    if (request.params.uri !== 'flaky://stats')
      throw new JsonRpcFailure(-32002, `Resource not found: ${request.params.uri}`);
    return {
      contents: [{ uri: 'flaky://stats', mimeType: 'application/json', text: JSON.stringify(control.stats()) }],
    };
  });
  return server;
}
