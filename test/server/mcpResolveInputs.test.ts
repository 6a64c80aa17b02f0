// workflow_resolve `inputs` over stdio: a run escalated by `retrace run` (a process gone since) whose log redacted an
// input (a secret) is resolved by the MCP server only with that input given again, as `retrace resolve --input`.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect } from 'vitest';
import { cliMain, cliTest as it, tsxLoader } from '../support/cli.js';
import { exampleStdioConfig } from '../support/exampleServer.js';
import { call, failure } from './mcpScenario.js';

const workflow = `name: resolve-secret
inputs:
  approval_token: { type: string }
steps:
  - id: fetch
    type: mcp_call
    server: scheduler
    tool: external_api
    arguments: { endpoint: '/rotations', query: '{{ inputs.approval_token }}' }
  - type: return
    value: { fetched: '{{ steps.fetch.result.status }}', token: '{{ inputs.approval_token }}' }
`;

describe('workflow_resolve inputs', { timeout: 120_000 }, () => {
  it('continues a run whose redacted input is given again; without it, says which input is missing', async ({
    workspace,
  }) => {
    // The first call fails authentication: an escalation for a person, who fixes the access and retries. The state
    // file keeps the server's call count across its processes.
    const plan = { faults: { external_api: { first: 1, fail: 'auth' as const } } };
    const stateFile = join(workspace.dir, 'server-state.json');
    await workspace.writeConfig({ servers: { scheduler: workspace.stdio(exampleStdioConfig({ plan, stateFile })) } });
    await writeFile(join(workspace.dir, 'flow.yaml'), workflow);
    const run = await workspace.run(
      ['run', 'flow.yaml', '--input', 'approval_token=s3cret', '--run-id', 'r1', '--json', '-q'],
      { timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(2);

    const client = new Client({ name: 'mcp-resolve-inputs-test', version: '0.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', tsxLoader, cliMain, 'mcp'],
      cwd: workspace.dir,
      env: { ...(process.env as Record<string, string>), ...workspace.marker },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
    try {
      expect(await failure(client, 'workflow_resolve', { run_id: 'r1', action: 'retry' })).toContain(
        'the log redacted inputs.approval_token',
      );
      expect(await failure(client, 'workflow_resolve', { run_id: 'r1', action: 'retry', inputs: '[1]' })).toBe(
        'E_BAD_ARGUMENTS: inputs: expected a JSON object of name: value, got a list',
      );
      // Still waiting: neither refusal continued it.
      expect(await call(client, 'workflow_status', { run_id: 'r1' })).toMatchObject({ status: 'escalated' });
      const resolved = await call(client, 'workflow_resolve', {
        run_id: 'r1',
        action: 'retry',
        inputs: { approval_token: 's3cret' },
      });
      // The status is read from the log, which redacts the token again.
      expect(resolved).toMatchObject({ status: 'succeeded', result: { fetched: 'ok', token: '[redacted]' } });
    } finally {
      await client.close();
    }
    expect(stderr).toBe('');
  });
});
