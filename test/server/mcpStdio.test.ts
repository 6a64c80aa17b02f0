// `retrace mcp` over stdio: an SDK client drives every tool against the CLI as a child process.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it } from '../support/cli.js';
import { connectMcpStdio, driveEveryTool, escalatingWorkflow } from './mcpScenario.js';

describe('retrace mcp over stdio', () => {
  it('starts a run that escalates, resolves, replays, measures and debugs it, and refuses bad arguments', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'escalates.yaml'), escalatingWorkflow);
    const { client, stderr } = await connectMcpStdio(workspace, 'mcp-stdio-test', [
      '--data-dir',
      join(workspace.dir, 'data'),
    ]);
    try {
      await driveEveryTool(client, 'escalates.yaml');
    } finally {
      await client.close();
    }
    expect(stderr()).toBe('');
  }, 120_000);
});
