// `retrace mcp --http [HOST:]PORT`: the MCP server over Streamable HTTP (stateful sessions) at /mcp. Loopback by
// default; any other address needs a bearer token, and every request without it is refused with 401.
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { bearerAdmission, tokenFor } from '../../common/loopback.js';
import { createMcpSessionRouter, listenMcpRouter } from '../../common/mcpSessionRouter.js';
import type { McpHost } from './mcpHost.js';
import { createRetraceMcpServer } from './mcpServer.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to 127.0.0.1. */
export function parseListenAddress(text: string, flag = '--http'): ListenAddress {
  const match = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RetraceError(ErrorCode.usage, `${flag} ${text}: expected PORT or HOST:PORT (e.g. 8765 or 0.0.0.0:8765)`);
  }
  return { host: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

export interface McpHttpServer {
  /** `http://HOST:PORT/mcp` as bound. */
  url: string;
  close(): Promise<void>;
}

export async function startMcpHttpServer(
  host: McpHost,
  address: ListenAddress,
  token: string | undefined,
): Promise<McpHttpServer> {
  const required = tokenFor(
    address.host,
    token,
    `--http ${address.host}:${address.port}: an address beyond loopback needs --token (clients then send Authorization: Bearer <token>)`,
  );
  const router = createMcpSessionRouter({
    admit: bearerAdmission(required),
    connect: (transport) => createRetraceMcpServer(host).connect(transport),
  });

  const listening = await listenMcpRouter(router, address.host, address.port);
  return {
    url: listening.url,
    close: () => listening.close(),
  };
}
