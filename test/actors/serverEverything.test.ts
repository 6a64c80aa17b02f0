// The connector against the reference server @modelcontextprotocol/server-everything over stdio.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpConnector } from '../../src/actors/mcpConnector.js';
import type { McpConnector } from '../../src/actors/mcpTypes.js';
import { childPidsMatching, isAlive, serverEverythingConfig } from '../support/servers.js';

describe('McpConnector with server-everything', () => {
  let connector: McpConnector;

  beforeAll(() => {
    connector = createMcpConnector({ servers: { everything: serverEverythingConfig() } });
  });
  afterAll(() => connector.close());

  it('lists its tools with their annotations', async () => {
    const tools = await connector.listTools('everything');
    const echo = tools.find((tool) => tool.name === 'echo');
    expect(echo).toMatchObject({
      description: expect.any(String) as unknown,
      inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
      annotations: { readOnlyHint: true, idempotentHint: true },
    });
    expect(tools.length).toBeGreaterThan(5);
  });

  it('calls its echo tool', async () => {
    const outcome = await connector.callTool({
      server: 'everything',
      tool: 'echo',
      args: { message: 'hello everything' },
      signal: new AbortController().signal,
    });
    expect(outcome).toMatchObject({
      ok: true,
      result: { content: [{ type: 'text', text: 'Echo: hello everything' }] },
    });
  });

  it('reports its failed input validation as an isError result', async () => {
    const outcome = await connector.callTool({
      server: 'everything',
      tool: 'echo',
      args: { message: 42 },
      signal: new AbortController().signal,
    });
    expect(outcome).toMatchObject({
      ok: false,
      failure: { source: 'tool', text: expect.stringContaining('-32602') as unknown },
    });
  });

  it('leaves no process behind after close()', async () => {
    const before = new Set(childPidsMatching('server-everything'));
    const fresh = createMcpConnector({ servers: { everything: serverEverythingConfig() } });
    await fresh.listTools('everything');
    const pids = childPidsMatching('server-everything').filter((pid) => !before.has(pid));
    expect(pids.length).toBeGreaterThan(0);
    await fresh.close();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });
});
