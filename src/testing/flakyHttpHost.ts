// Hosts the flaky server over Streamable HTTP and injects the failures below MCP (HTTP statuses, dropped and reset sockets).
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { readBody, rpcError, sendJson } from '../common/httpJson.js';
import { FlakyControl } from './flakyControl.js';
import type { FailureSpec, FlakyPlan } from './flakyPlan.js';
import { createFlakyServer } from './flakyServer.js';

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
  /** The MCP server of each session (default: the flaky server); it answers calls with `control.take(…)` decisions. */
  createServer?: (control: FlakyControl) => { connect(transport: Transport): Promise<void> };
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
      await (options.createServer?.(control) ?? createFlakyServer({ control, allowExit })).connect(transport);
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
