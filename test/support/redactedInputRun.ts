// A run escalated by `retrace run` (the process gone since) whose log redacted an input (a secret): the scenario of
// `retrace resolve --input` and MCP `workflow_resolve` with `inputs`, run `r1` in the workspace.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult, CliWorkspace } from './cli.js';
import { exampleStdioConfig } from './exampleServer.js';

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

/** Runs `flow.yaml` as `r1` with `approval_token=s3cret`; its first call fails authentication, so it escalates. */
export async function escalateWithRedactedInput(workspace: CliWorkspace): Promise<CliResult> {
  // The first call fails authentication: an escalation for a person, who fixes the access and retries. The state
  // file keeps the server's call count across its processes.
  const plan = { faults: { external_api: { first: 1, fail: 'auth' as const } } };
  const stateFile = join(workspace.dir, 'server-state.json');
  await workspace.writeConfig({ servers: { scheduler: workspace.stdio(exampleStdioConfig({ plan, stateFile })) } });
  await writeFile(join(workspace.dir, 'flow.yaml'), workflow);
  return workspace.run(['run', 'flow.yaml', '--input', 'approval_token=s3cret', '--run-id', 'r1', '--json', '-q'], {
    timeoutMs: 60_000,
  });
}
