// `retrace mcp [--http [HOST:]PORT --token T]`: retrace as an MCP server over stdio (default) or Streamable HTTP, with
// one runtime recording to the data directory's log, until stdin closes or a signal (SIGINT, SIGTERM) arrives.
import { createRequire } from 'node:module';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { commandConfig } from './store.js';
import { openRecordingRuntime } from './shared.js';
import {
  createRetraceMcpServer,
  parseListenAddress,
  startMcpHttpServer,
  type McpHost,
} from '../../server/mcp/index.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';

export interface McpCommandOptions {
  http?: string;
  token?: string;
}

const version = (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;

/** Resolves on the first of: SIGINT, SIGTERM, or (stdio) the client closing the connection. */
function untilStopped(onClose?: (stop: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    onClose?.(stop);
  });
}

export async function runMcp(options: McpCommandOptions, globals: GlobalOptions): Promise<number> {
  // A bad address, or one beyond loopback without a token, is refused before the log is opened.
  const address = options.http === undefined ? undefined : parseListenAddress(options.http);
  const config = await commandConfig(globals);
  const { runtime, store, dataDir } = await openRecordingRuntime(globals, config);
  const host: McpHost = { runtime, store, dataDir, cwd: process.cwd(), startedAt: Date.now(), version };
  try {
    if (address) {
      const server = await startMcpHttpServer(host, address, options.token ?? process.env.RETRACE_MCP_TOKEN);
      process.stderr.write(`retrace mcp: listening on ${server.url}\n`);
      try {
        await untilStopped();
      } finally {
        await server.close();
      }
    } else {
      const server = createRetraceMcpServer(host);
      const transport = new StdioServerTransport();
      const closed = untilStopped((stop) => (transport.onclose = stop));
      await server.connect(transport);
      await closed;
      await server.close();
    }
  } finally {
    await runtime.close();
  }
  return ExitCode.ok;
}
