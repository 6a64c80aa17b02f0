// An SDK McpServer with an echo tool and a Client linked to it in memory: MCP without a process or a socket.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface InMemoryEcho {
  /** One `tools/call` of `echo` through the SDK client. */
  echo(message: string, signal?: AbortSignal): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** The SDK's type also admits the pre-2024 `toolResult` shape; a current server always answers with `content`. */
function hasContent(result: Record<string, unknown>): result is CallToolResult {
  return Array.isArray(result['content']);
}

export async function startInMemoryEcho(): Promise<InMemoryEcho> {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes the message', inputSchema: { message: z.string() } },
    ({ message }) => ({
      content: [{ type: 'text', text: `Echo: ${message}` }],
    }),
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'retrace-bench', version: '1.0.0' }, { capabilities: {} });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    async echo(message, signal) {
      const result = await client.callTool(
        { name: 'echo', arguments: { message } },
        undefined,
        signal ? { signal } : {},
      );
      if (!hasContent(result)) throw new Error('echo answered without content');
      return result;
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}
