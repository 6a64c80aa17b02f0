// Drives every tool of `retrace mcp` through a real MCP client: a run that escalates, is resolved, replayed, measured
// and debugged; a run cancelled; bad arguments refused with a clear message.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { cliMain, tsxLoader, type CliWorkspace } from '../support/cli.js';
import { textOf } from '../support/exampleServer.js';
import { repoRoot } from '../support/servers.js';

const flakyMain = join(repoRoot, 'src', 'testing', 'flakyServerMain.ts');

/** `retrace ARGS… mcp` in the workspace as a stdio child, connected; `stderr()` is what it wrote there so far. */
export async function connectMcpStdio(
  workspace: CliWorkspace,
  name: string,
  globalArgs: string[] = [],
): Promise<{ client: Client; stderr(): string }> {
  const client = new Client({ name, version: '0.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', tsxLoader, cliMain, ...globalArgs, 'mcp'],
    cwd: workspace.dir,
    env: { ...(process.env as Record<string, string>), ...workspace.marker },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** A workflow whose critical tool fails: the run escalates and waits for a person. */
export const escalatingWorkflow = `name: mcp-escalates
inputs:
  n: { type: number, default: 2 }
state: { count: 0 }
computed:
  doubled: { from: state.count, transform: $input * 2 }
servers:
  flaky: { command: ${JSON.stringify(process.execPath)}, args: [--import, ${JSON.stringify(tsxLoader)}, ${JSON.stringify(flakyMain)}] }
tools:
  fail: { critical: true, max_retries: 0 }
steps:
  - { id: bump, type: state_update, path: count, operation: increment }
  - { id: risky, type: mcp_call, server: flaky, tool: fail, arguments: { kind: throw, text: boom } }
  - { id: done, type: return, value: { risky: '{{ steps.risky.result }}', doubled: '{{ computed.doubled }}' } }
`;

const slowWorkflow = `name: mcp-slow
steps:
  - { id: hold, type: wait, duration: 10m }
`;

type Structured = Record<string, unknown>;

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<Structured> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return result.structuredContent ?? {};
}

export async function failure(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, `${name} ${JSON.stringify(args)} should fail`).toBe(true);
  return textOf(result);
}

/** `workflow`: what workflow_start is given for the escalating workflow (a file path or the YAML itself). */
export async function driveEveryTool(client: Client, workflow: string): Promise<void> {
  const tools = (await client.listTools()).tools.map((tool) => tool.name).sort();
  expect(tools).toEqual([
    'health',
    'workflow_cancel',
    'workflow_debug_info',
    'workflow_explain_plan',
    'workflow_list',
    'workflow_metrics',
    'workflow_replay',
    'workflow_resolve',
    'workflow_resume',
    'workflow_start',
    'workflow_status',
    'workflow_test_transformation',
    'workflow_trace_transformations',
  ]);

  // Started and followed to its escalation, with progress notifications along the way.
  const progress: string[] = [];
  const started = (await client.callTool(
    { name: 'workflow_start', arguments: { workflow, inputs: { n: 3 }, wait: true } },
    undefined,
    { onprogress: (note) => progress.push(note.message ?? '') },
  )) as CallToolResult;
  expect(started.isError, textOf(started)).toBeFalsy();
  const run = started.structuredContent as { runId: string; status: string };
  expect(run.status).toBe('escalated');
  expect(progress).toContain('step.started risky');
  const runId = run.runId;

  const status = await call(client, 'workflow_status', { run_id: runId });
  expect(status).toMatchObject({ runId, status: 'escalated', state: { count: 1 }, error: { step_id: 'risky' } });
  const listed = (await call(client, 'workflow_list')) as { runs: Array<{ runId: string; waitingStep?: string }> };
  expect(listed.runs).toContainEqual(expect.objectContaining({ runId, status: 'escalated', waitingStep: 'risky' }));

  // A person answers with the step's result: the run goes on in the server and succeeds.
  const resolved = await call(client, 'workflow_resolve', { run_id: runId, action: 'value', value: { ok: true } });
  expect(resolved).toMatchObject({ runId, status: 'succeeded', result: { risky: { ok: true }, doubled: 2 } });
  expect(await failure(client, 'workflow_resolve', { run_id: runId, action: 'retry' })).toMatch(
    /^E_RUN_STATE: run \S+ is succeeded, not waiting on an escalation/,
  );

  const replayed = (await call(client, 'workflow_replay', { run_id: runId })) as {
    kind: string;
    text: string;
    timeline: { steps: Array<{ stepId: string; status: string }> };
  };
  expect(replayed.kind).toBe('workflow');
  expect(replayed.timeline.steps.map((step) => step.stepId)).toEqual(['bump', 'risky', 'done']);
  expect(replayed.text).toMatch(/risky \[mcp_call\]/);

  const metrics = (await call(client, 'workflow_metrics', { run_id: runId })) as {
    tools: Array<{ server: string; tool: string; totalCalls: number }>;
    workflows: Array<{ name: string; escalations: number; runs: { succeeded: number } }>;
  };
  expect(metrics.tools).toContainEqual(expect.objectContaining({ server: 'flaky', tool: 'fail', totalCalls: 1 }));
  expect(metrics.workflows).toEqual([expect.objectContaining({ name: 'mcp-escalates', escalations: 1 })]);

  const traced = (await call(client, 'workflow_trace_transformations', { workflow_id: runId, field: 'doubled' })) as {
    traces: Array<{ field: string; output: unknown; duration_ms?: number }>;
  };
  expect(traced.traces.map((trace) => trace.output)).toEqual([0, 2]);
  expect(traced.traces.every((trace) => trace.field === 'computed.doubled' && trace.duration_ms !== undefined)).toBe(
    true,
  );
  const untimed = (await call(client, 'workflow_trace_transformations', {
    workflow_id: runId,
    include_timing: false,
  })) as { traces: Array<Record<string, unknown>> };
  expect(untimed.traces[0]).not.toHaveProperty('duration_ms');

  const debug = (await call(client, 'workflow_debug_info', { workflow_id: runId })) as {
    status: string;
    history: Array<{ step: string }>;
    errors: Array<{ step: string; message: string }>;
    bottlenecks: unknown[];
    stateSizeBytes: number;
  };
  expect(debug.status).toBe('succeeded');
  expect(debug.history.map((entry) => entry.step)).toEqual(['bump', 'risky', 'done']);
  expect(debug.errors).toContainEqual(expect.objectContaining({ step: 'risky' }));
  expect(debug.bottlenecks.length).toBeGreaterThan(0);
  expect(debug.stateSizeBytes).toBe(JSON.stringify({ count: 1 }).length);

  expect(
    await call(client, 'workflow_test_transformation', { transform: '$count($input)', input: [1, 2, 3] }),
  ).toMatchObject({ output: 3 });
  expect(
    await call(client, 'workflow_test_transformation', {
      transform: 'inputs.n * $input',
      input: 5,
      context: '{"inputs": {"n": 4}}',
    }),
  ).toMatchObject({ output: 20 });

  const plan = (await call(client, 'workflow_explain_plan', { workflow, inputs: { n: 1 } })) as {
    name: string;
    steps: Array<{ id: string }>;
    tools: Array<{ tool: string; policy: { critical: boolean } }>;
  };
  expect(plan.name).toBe('mcp-escalates');
  expect(plan.steps.map((step) => step.id)).toEqual(['bump', 'risky', 'done']);
  expect(plan.tools).toContainEqual(
    expect.objectContaining({ tool: 'fail', policy: expect.objectContaining({ critical: true }) }),
  );

  // A run cancelled while it waits: its status says so.
  const slow = (await call(client, 'workflow_start', { workflow: slowWorkflow })) as { runId: string; status: string };
  expect(slow.status).toBe('running');
  expect(await call(client, 'workflow_cancel', { run_id: slow.runId, reason: 'test' })).toMatchObject({
    runId: slow.runId,
    status: 'cancelled',
  });

  expect(await call(client, 'health')).toMatchObject({ status: 'ok', runsExecuting: 0 });

  // Bad arguments: isError results that say what and where.
  expect(await failure(client, 'workflow_status', { run_id: 'nope' })).toBe(
    'E_UNKNOWN_RUN: no run "nope" in the log (see retrace status --all)',
  );
  expect(await failure(client, 'workflow_start', {})).toMatch(/Input validation error: .*workflow/s);
  expect(await failure(client, 'workflow_start', { workflow: 'missing.yaml' })).toMatch(/^E_WORKFLOW: .*missing\.yaml/);
  expect(await failure(client, 'workflow_start', { workflow: 'name: x\nsteps:\n  - { type: nope }\n' })).toMatch(
    /^E_WORKFLOW: inline workflow:3:\d+ steps\[0\]\.type/,
  );
  expect(await failure(client, 'workflow_start', { workflow, inputs: { m: 1 } })).toMatch(/unknown input "m"/);
  expect(await failure(client, 'workflow_test_transformation', { transform: '1 +', input: null })).toMatch(
    /^E_EXPRESSION: transform: invalid expression "1 \+"/,
  );
  expect(await failure(client, 'workflow_resolve', { run_id: runId, action: 'later' })).toMatch(
    /Input validation error/,
  );
  expect(await failure(client, 'workflow_resume', { run_id: runId })).toMatch(/^E_RUN_STATE: /);
  expect(await failure(client, 'workflow_trace_transformations', { workflow_id: runId, field: 'tripled' })).toMatch(
    /field: run \S+ never evaluated "computed.tripled" \(evaluated: computed.doubled\)/,
  );
}
