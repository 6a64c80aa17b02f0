// `retrace mcp` over stdio: an SDK client drives every tool against the CLI as a child process.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect } from 'vitest';
import { cliMain, cliTest as it, tsxLoader } from '../support/cli.js';
import { driveEveryTool, escalatingWorkflow } from './mcpScenario.js';

describe('retrace mcp over stdio', () => {
  it('starts a run that escalates, resolves, replays, measures and debugs it, and refuses bad arguments', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'escalates.yaml'), escalatingWorkflow);
    const client = new Client({ name: 'mcp-stdio-test', version: '0.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', tsxLoader, cliMain, '--data-dir', join(workspace.dir, 'data'), 'mcp'],
      cwd: workspace.dir,
      env: { ...(process.env as Record<string, string>), ...workspace.marker },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
    try {
      await driveEveryTool(client, 'escalates.yaml');
    } finally {
      await client.close();
    }
    expect(stderr).toBe('');
  }, 120_000);
});
