// A real MCP server that fails on command (JSON-RPC errors, error results, hangs, crashes, HTTP statuses, dropped sockets).
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  isInitializeRequest,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export const FlakyErrorMode = z.enum([
  'is_error_text',
  'is_error_structured',
  'rpc',
  'hang',
  'exit',
  'http_status',
  'drop',
  'reset',
]);
export type FlakyErrorMode = z.infer<typeof FlakyErrorMode>;

/** How one call fails. `http_status`, `drop` and `reset` need the HTTP host; `exit` needs a process of its own. */
export const FailureSpec = z.object({
  error: FlakyErrorMode,
  /** Error text (`is_error_*`), JSON-RPC message (`rpc`). */
  text: z.string().optional(),
  /** JSON-RPC code (`rpc`, default -32603) or exit code (`exit`, default 3). */
  code: z.number().int().optional(),
  status: z.number().int().min(400).max(599).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  error_type: z.string().optional(),
  retry_after: z.number().optional(),
  suggestions: z.array(z.string()).optional(),
});
export type FailureSpec = z.infer<typeof FailureSpec>;

const shorthands = {
  unavailable: { error: 'is_error_text', text: 'Service temporarily unavailable' },
  timeout: { error: 'hang' },
  hang: { error: 'hang' },
  rate_limit: { error: 'is_error_structured', error_type: 'rate_limit', retry_after: 1, text: 'Rate limit exceeded' },
  invalid_params: { error: 'rpc', code: -32602, text: 'Invalid params' },
  internal: { error: 'rpc', code: -32603, text: 'Internal error' },
  exit: { error: 'exit' },
  http_429: { error: 'http_status', status: 429, headers: { 'retry-after': '1' } },
  http_503: { error: 'http_status', status: 503 },
  drop: { error: 'drop' },
  reset: { error: 'reset' },
} satisfies Record<string, FailureSpec>;

/** One scripted outcome: `ok`, a shorthand (`unavailable`, `timeout`, `rate_limit`, `http_429`, …) or a FailureSpec. */
const shorthandNames = Object.keys(shorthands) as [keyof typeof shorthands];
export const PlanStep = z.union([z.enum(['ok', ...shorthandNames]), FailureSpec], {
  error: () =>
    `expected "ok", one of ${shorthandNames.join(', ')}, or {"error": ${FlakyErrorMode.options.join('|')}, …}`,
});
export type PlanStep = z.infer<typeof PlanStep>;

/** Per tool, the outcomes of its next calls, consumed one per call; afterwards the tool behaves normally. */
export const FlakyPlan = z.record(z.string(), z.array(PlanStep));
export type FlakyPlan = z.infer<typeof FlakyPlan>;

const FlakyArgs = FailureSpec.extend({
  key: z.string().min(1),
  failures: z.number().int().min(0),
  error: FlakyErrorMode.default('is_error_text'),
});

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

export interface FlakyStats {
  pid: number;
  calls: Record<string, number>;
  /** `notifications/cancelled` messages received. */
  cancellations: number;
  cancelledRequestIds: (string | number)[];
}

type Decision = { kind: 'run'; attempt: number } | { kind: 'fail'; spec: FailureSpec; attempt: number };

/** The server process's memory: call counters, the plan, the stats, and decisions the HTTP host took for a call. */
export class FlakyControl {
  private plan: FlakyPlan;
  private readonly calls: Record<string, number> = {};
  private readonly keyCounters = new Map<string, number>();
  private readonly stashed = new Map<string, Decision>();
  private readonly cancelledIds: (string | number)[] = [];
  readonly records = new Map<string, unknown>();
  readonly recordWrites = new Map<string, number>();

  constructor(plan: FlakyPlan = {}) {
    this.plan = structuredClone(plan);
  }

  setPlan(plan: FlakyPlan): void {
    this.plan = structuredClone(plan);
  }

  /** Decides one call's outcome; called exactly once per call (by the HTTP host, or by the tool handler). */
  decide(tool: string, args: Record<string, unknown>): Decision {
    const attempt = (this.calls[tool] = (this.calls[tool] ?? 0) + 1);
    const step = this.plan[tool]?.shift();
    if (step !== undefined && step !== 'ok') {
      return { kind: 'fail', spec: typeof step === 'string' ? shorthands[step] : step, attempt };
    }
    if (tool !== 'flaky') return { kind: 'run', attempt };
    const parsed = FlakyArgs.safeParse(args);
    if (!parsed.success) return { kind: 'run', attempt };
    const { key, failures, ...spec } = parsed.data;
    const count = (this.keyCounters.get(key) ?? 0) + 1;
    this.keyCounters.set(key, count);
    return count <= failures ? { kind: 'fail', spec, attempt: count } : { kind: 'run', attempt: count };
  }

  stash(sessionId: string, requestId: string | number, decision: Decision): void {
    this.stashed.set(`${sessionId} ${requestId}`, decision);
  }

  take(sessionId: string | undefined, requestId: string | number): Decision | undefined {
    if (sessionId === undefined) return undefined;
    const key = `${sessionId} ${requestId}`;
    const decision = this.stashed.get(key);
    this.stashed.delete(key);
    return decision;
  }

  /** Counts `notifications/cancelled` as they arrive; call before `server.connect(transport)`. */
  observe(transport: Transport): void {
    transport.onmessage = (message) => {
      if ('method' in message && message.method === 'notifications/cancelled') {
        const requestId: unknown = message.params?.['requestId'];
        if (typeof requestId === 'string' || typeof requestId === 'number') this.cancelledIds.push(requestId);
      }
    };
  }

  stats(): FlakyStats {
    return {
      pid: process.pid,
      calls: { ...this.calls },
      cancellations: this.cancelledIds.length,
      cancelledRequestIds: [...this.cancelledIds],
    };
  }
}

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

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

function structured(value: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value,
    ...(isError && { isError }),
  };
}

function errorText(value: string): CallToolResult {
  return { ...text(value), isError: true };
}

/** A JSON-RPC error answer: the SDK sends `code`, `message` and `data` of whatever a handler throws. */
class JsonRpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve(false)), { once: true });
  });
}

async function failWith(spec: FailureSpec, extra: Extra, allowExit: boolean): Promise<CallToolResult> {
  switch (spec.error) {
    case 'is_error_text':
      return errorText(spec.text ?? 'Service temporarily unavailable');
    case 'is_error_structured': {
      const error: Record<string, unknown> = { type: spec.error_type ?? 'unavailable' };
      if (spec.retry_after !== undefined) error['retry_after'] = spec.retry_after;
      if (spec.suggestions !== undefined) error['suggestions'] = spec.suggestions;
      const result = structured({ error }, true);
      return spec.text === undefined ? result : { ...result, content: [{ type: 'text', text: spec.text }] };
    }
    case 'rpc':
      throw new JsonRpcFailure(spec.code ?? -32603, spec.text ?? 'Internal error');
    case 'hang':
      await untilAborted(extra.signal);
      return errorText('cancelled');
    case 'exit':
      if (!allowExit) return errorText('exit is disabled in this host (it shares a process with its caller)');
      process.stderr.write(`flaky: exiting mid-call with code ${spec.code ?? 3}, as planned\n`);
      process.exit(spec.code ?? 3);
    // eslint-disable-next-line no-fallthrough -- process.exit never returns
    case 'http_status':
    case 'drop':
    case 'reset':
      return errorText(`${spec.error} needs the HTTP host`);
  }
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
        if (!(await sleep(ms / 2, extra.signal))) return errorText('cancelled');
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: 1, total: 2, message: 'halfway' },
          });
        }
        if (!(await sleep(ms / 2, extra.signal))) return errorText('cancelled');
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
    if (decision.kind === 'fail') return failWith(decision.spec, extra, allowExit);
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

export interface FlakyHttpServer {
  /** `http://127.0.0.1:PORT/mcp` */
  url: string;
  control: FlakyControl;
  /** Forgets every session: the next request on an old session id gets 404. */
  expireSessions(): Promise<void>;
  sessionCount(): number;
  close(): Promise<void>;
}

export interface FlakyHttpOptions {
  port?: number;
  host?: string;
  plan?: FlakyPlan;
  control?: FlakyControl;
  allowExit?: boolean;
}

const ToolCallMessage = z.object({
  id: z.union([z.string(), z.number()]),
  method: z.literal('tools/call'),
  params: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional() }),
});

/** Hosts the flaky server over Streamable HTTP (stateful sessions) on node:http. */
export async function startFlakyHttpServer(options: FlakyHttpOptions = {}): Promise<FlakyHttpServer> {
  const control = options.control ?? new FlakyControl(options.plan);
  const allowExit = options.allowExit ?? false;
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp')
      return sendJson(res, 404, { error: 'not found' });
    const header = req.headers['mcp-session-id'];
    const sessionId = typeof header === 'string' ? header : undefined;
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, rpcError(-32700, 'Parse error'));
      }
    }
    const session = sessionId === undefined ? undefined : sessions.get(sessionId);
    if (!session) {
      if (sessionId !== undefined) return sendJson(res, 404, rpcError(-32001, 'Session not found'));
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        return sendJson(res, 400, rpcError(-32000, 'Bad Request: No valid session ID provided'));
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      control.observe(transport);
      await createFlakyServer({ control, allowExit }).connect(transport);
      return transport.handleRequest(req, res, body);
    }
    const call = req.method === 'POST' ? ToolCallMessage.safeParse(body) : undefined;
    if (call?.success && sessionId !== undefined) {
      const decision = control.decide(call.data.params.name, call.data.params.arguments ?? {});
      if (decision.kind === 'fail' && answeredByHost(decision.spec, req, res, sessionId)) return;
      control.stash(sessionId, call.data.id, decision);
    }
    return session.handleRequest(req, res, body);
  }

  const httpServer = createHttpServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, String(error)));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = httpServer.address() as AddressInfo;

  async function expireSessions(): Promise<void> {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((transport) => transport.close()));
  }

  return {
    url: `http://${address}:${port}/mcp`,
    control,
    expireSessions,
    sessionCount: () => sessions.size,
    async close() {
      await expireSessions();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Failures that happen below MCP: an HTTP status instead of an answer, or a socket destroyed mid-call. */
function answeredByHost(spec: FailureSpec, req: IncomingMessage, res: ServerResponse, sessionId: string): boolean {
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

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 4 * 1024 * 1024) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
