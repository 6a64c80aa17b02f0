// Stateful MCP sessions over Streamable HTTP on node:http: each request goes to its session's transport, a POSTed
// `initialize` without a session opens one; shared by `retrace mcp --http` and the flaky / example test servers.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { readBody, rpcError, sendJson } from './httpJson.js';

export interface McpSessionRouterOptions {
  /** Sees every request at `/mcp` first; false when it refused (answered) it. */
  admit?(req: IncomingMessage, res: ServerResponse): boolean;
  /** Connects a new session's transport to a fresh MCP server. */
  connect(transport: StreamableHTTPServerTransport): Promise<void>;
  /** Sees a request of an open session before its transport does; true when it answered the request itself. */
  intercept?(req: IncomingMessage, res: ServerResponse, sessionId: string, body: unknown): boolean;
}

export interface McpSessionRouter {
  /** Answers one request at `/mcp` (404 elsewhere). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** How many sessions are open. */
  size(): number;
  /** Closes every open session (clients must initialize again). */
  closeAll(): Promise<void>;
}

export function createMcpSessionRouter(options: McpSessionRouterOptions): McpSessionRouter {
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      return sendJson(res, 404, { error: 'not found' });
    }
    if (options.admit && !options.admit(req, res)) return;
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
    if (session && sessionId !== undefined) {
      if (options.intercept?.(req, res, sessionId, body)) return;
      return session.handleRequest(req, res, body);
    }
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
    await options.connect(transport);
    return transport.handleRequest(req, res, body);
  }

  return {
    handle,
    size: () => sessions.size,
    async closeAll() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((transport) => transport.close()));
    },
  };
}

export interface ListeningRouter {
  /** `http://HOST:PORT/mcp` as bound (an IPv6 address in brackets). */
  url: string;
  /** Closes the router's sessions, every connection, and the HTTP server. */
  close(): Promise<void>;
}

/** Serves the router over node:http on `host:port` (0: a free port); an error a request throws is a JSON-RPC 500. */
export async function listenMcpRouter(router: McpSessionRouter, host: string, port: number): Promise<ListeningRouter> {
  const httpServer = createServer((req, res) => {
    router.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, rpcError(-32603, error instanceof Error ? error.message : String(error)));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const bound = httpServer.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}/mcp`,
    async close() {
      await router.closeAll();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
