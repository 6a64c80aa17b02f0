// `retrace resolve --input`: a run whose log redacted an input (a secret) goes on after the resolution only with that
// input given again, as `retrace resume` takes it (found by the crash campaign: a deployment escalated by a crash could
// not be resolved, its approval token being redacted).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { exampleStdioConfig } from '../support/exampleServer.js';

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

describe('retrace resolve --input', { timeout: 120_000 }, () => {
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
      {
        timeoutMs: 60_000,
      },
    );
    expect(run.code, run.stderr).toBe(2);

    const refused = await workspace.run(['resolve', 'r1', '--action', 'retry'], { timeoutMs: 60_000 });
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('the log redacted inputs.approval_token');

    const resolved = await workspace.run(
      ['resolve', 'r1', '--action', 'retry', '--input', 'approval_token=s3cret', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(stdoutJson(resolved)).toMatchObject({ status: 'succeeded', result: { fetched: 'ok', token: 's3cret' } });
  });
});
