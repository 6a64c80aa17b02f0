// `retrace mcp --http`: Streamable HTTP, loopback by default; beyond loopback only with a bearer token.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect } from 'vitest';
import { cliMain, cliTest as it, tsxLoader, type CliWorkspace } from '../support/cli.js';
import { driveEveryTool, escalatingWorkflow } from './mcpScenario.js';

interface McpChild {
  /** The port it listens on. */
  port: number;
  stop(): Promise<number | null>;
}

/** `retrace mcp --http ADDRESS [--token T]` as a child; resolves once it says where it listens. */
function startMcpHttp(workspace: CliWorkspace, args: string[]): Promise<McpChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', tsxLoader, cliMain, '--data-dir', join(workspace.dir, 'data'), 'mcp', ...args],
    { cwd: workspace.dir, env: { ...process.env, ...workspace.marker }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on http:\/\/\S+:(\d+)\/mcp/.exec(stderr);
      if (match) {
        resolve({
          port: Number(match[1]),
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`retrace mcp exited (${code}) before listening: ${stderr}`)));
  });
}

async function connect(port: number, token?: string): Promise<Client> {
  const client = new Client({ name: 'mcp-http-test', version: '0.0.0' });
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

describe('retrace mcp over Streamable HTTP', () => {
  it('serves every tool on 127.0.0.1 with an inline workflow', async ({ workspace }) => {
    const server = await startMcpHttp(workspace, ['--http', '0']);
    try {
      const client = await connect(server.port);
      try {
        await driveEveryTool(client, escalatingWorkflow);
      } finally {
        await client.close();
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it('bound beyond loopback, refuses a client without the token and accepts one with it', async ({ workspace }) => {
    const server = await startMcpHttp(workspace, ['--http', '0.0.0.0:0', '--token', 's3cret']);
    try {
      await expect(connect(server.port)).rejects.toThrow(/401|Unauthorized/);
      await expect(connect(server.port, 'wrong')).rejects.toThrow(/401|Unauthorized/);
      const client = await connect(server.port, 's3cret');
      try {
        const result = await client.callTool({ name: 'health', arguments: {} });
        expect(result.structuredContent).toMatchObject({ status: 'ok' });
      } finally {
        await client.close();
      }
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 60_000);

  it('refuses to start beyond loopback without --token', async ({ workspace }) => {
    const result = await workspace.run(['mcp', '--http', '0.0.0.0:0']);
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      'retrace: --http 0.0.0.0:0: an address beyond loopback needs --token (clients then send Authorization: Bearer <token>)\n',
    );
  }, 60_000);
});
