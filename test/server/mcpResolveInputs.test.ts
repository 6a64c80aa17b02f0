// workflow_resolve `inputs` over stdio: a run escalated by `retrace run` (a process gone since) whose log redacted an
// input (a secret) is resolved by the MCP server only with that input given again, as `retrace resolve --input`.
import { describe, expect } from 'vitest';
import { cliTest as it } from '../support/cli.js';
import { escalateWithRedactedInput } from '../support/redactedInputRun.js';
import { call, connectMcpStdio, failure } from './mcpScenario.js';

describe('workflow_resolve inputs', { timeout: 120_000 }, () => {
  it('continues a run whose redacted input is given again; without it, says which input is missing', async ({
    workspace,
  }) => {
    const run = await escalateWithRedactedInput(workspace);
    expect(run.code, run.stderr).toBe(2);

    const { client, stderr } = await connectMcpStdio(workspace, 'mcp-resolve-inputs-test');
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
    expect(stderr()).toBe('');
  });
});
