// Switching the example server's faults: scripts, first-N and seeded-rate rules, the control tool, hangs, exits,
// the state file across restarts, plan-file errors, and the same faults over Streamable HTTP.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toolErrorFailure } from '../../src/actors/mcpFailure.js';
import { startExampleHttpServer } from '../../src/examples/exampleHttpHost.js';
import type { ExamplePlanInput } from '../../src/examples/examplePlan.js';
import { createExampleHost } from '../../src/examples/exampleServer.js';
import { classifyFailure } from '../../src/policy/classify.js';
import { connectExample, exampleMain, textOf, type ExampleClient } from '../support/exampleServer.js';
import { repoRoot } from '../support/servers.js';

let directory: string;
const open: ExampleClient[] = [];
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'retrace-example-'));
});
afterEach(async () => {
  while (open.length) await open.pop()?.close();
  await rm(directory, { recursive: true, force: true });
});

async function start(options: Parameters<typeof connectExample>[0]): Promise<ExampleClient> {
  const server = await connectExample(options);
  open.push(server);
  return server;
}

/** What retrace's default classifier makes of a failed result. */
function kindOf(result: CallToolResult): string {
  expect(result.isError, textOf(result)).toBe(true);
  return classifyFailure(toolErrorFailure(result), [], 0).kind;
}

const january = { start_date: '2025-01-01', end_date: '2025-01-31' };

describe('example server faults', () => {
  it('plays a per-tool script of outcomes, one per call, then behaves normally', async () => {
    const server = await start({ plan: { faults: { validate_schedule_tool: ['lock', 'ok', 'unimplemented'] } } });
    const outcomes = [];
    for (let call = 0; call < 4; call++) {
      const result = await server.raw('validate_schedule_tool', january);
      outcomes.push(result.isError ? kindOf(result) : 'ok');
    }
    expect(outcomes).toEqual(['lock', 'ok', 'unimplemented', 'ok']);
    expect((await server.stats()).calls['validate_schedule_tool']).toBe(4);
  });

  it('words every failure, planned or real, so the default classifier reads the intended kind', async () => {
    const planned = {
      connection: 'unavailable',
      unavailable: 'unavailable',
      lock: 'lock',
      queue_full: 'resource',
      rate_limit: 'rate_limit',
      backend_down: 'backend_down',
      worker_offline: 'worker_offline',
      degraded: 'server_degraded',
      auth: 'auth',
      permission: 'permission',
      not_found: 'not_found',
      constraint: 'constraint',
      unimplemented: 'unimplemented',
      invalid_params: 'invalid_input',
      internal: 'unknown',
    } as const;
    const names = Object.keys(planned) as (keyof typeof planned)[];
    const server = await start({ plan: { faults: { external_api: names } } });
    for (const name of names) expect([name, kindOf(await server.raw('external_api'))]).toEqual([name, planned[name]]);

    const real: [string, Record<string, unknown>, string][] = [
      ['validate_schedule_tool', { start_date: '2025-02-01', end_date: '2025-01-01' }, 'invalid_input'],
      ['validate_schedule_tool', { start_date: 'soon' }, 'invalid_input'],
      ['validate_schedule_by_id_tool', { schedule_id: 'nope' }, 'not_found'],
      ['get_task_status_tool', { task_id: 'task-9999' }, 'not_found'],
      ['start_background_task_tool', { task_type: 'nope' }, 'invalid_input'],
      ['promote_to_production_tool', { staging_version: 'v0', approval_token: 't' }, 'not_found'],
    ];
    for (const [tool, args, kind] of real) expect([tool, kindOf(await server.raw(tool, args))]).toEqual([tool, kind]);
    await server.call('promote_to_production_tool', { staging_version: 'v1.5.0', approval_token: 't' });
    const concurrent = await server.raw('promote_to_production_tool', {
      staging_version: 'v1.5.0',
      approval_token: 't',
    });
    expect(kindOf(concurrent)).toBe('lock');
  });

  it('fails the first N calls of a tool with a given kind', async () => {
    const server = await start({ plan: { faults: { detect_conflicts_tool: { first: 2, fail: 'connection' } } } });
    const outcomes = [];
    for (let call = 0; call < 4; call++)
      outcomes.push((await server.raw('detect_conflicts_tool', january)).isError === true);
    expect(outcomes).toEqual([true, true, false, false]);
  });

  it('fails at a rate drawn from a seed: the same seed gives the same calls, another seed others', async () => {
    const pattern = async (seed: number) => {
      const server = await start({ plan: { faults: { external_api: { rate: 0.3, seed, fail: 'unavailable' } } } });
      let failures = '';
      for (let call = 0; call < 30; call++) failures += (await server.raw('external_api')).isError ? 'x' : '.';
      await server.close();
      return failures;
    };
    const first = await pattern(42);
    expect(await pattern(42)).toBe(first);
    expect(await pattern(7)).not.toBe(first);
    const failed = first.replaceAll('.', '').length;
    expect(failed).toBeGreaterThan(3);
    expect(failed).toBeLessThan(18);
  });

  it('switches faults and scenarios at run time through example_set_plan', async () => {
    const server = await start({});
    expect((await server.raw('external_api')).isError).toBeFalsy();
    await server.call('example_set_plan', {
      plan: { faults: { external_api: ['backend_down'] }, deployments: { rollback: 'fail' } },
    });
    expect(kindOf(await server.raw('external_api'))).toBe('backend_down');
    await server.call('promote_to_production_tool', { staging_version: 'v1.5.0', approval_token: 't' });
    expect(textOf(await server.raw('rollback_deployment_tool', { reason: 'r' }))).toMatch(/^Rollback failed/);
    const refused = await server.raw('example_set_plan', { plan: { faults: { external_api: ['sometimes'] } } });
    expect(textOf(refused)).toMatch(/^Invalid plan: .*faults\.external_api/);
  });

  it('hangs a call until the client cancels it, and counts the cancellation', async () => {
    const server = await start({ plan: { faults: { get_task_status_tool: ['hang'] } } });
    const { task_id } = await server.call<{ task_id: string }>('start_background_task_tool', {
      task_type: 'compliance_report',
    });
    await expect(
      server.client.callTool({ name: 'get_task_status_tool', arguments: { task_id } }, undefined, { timeout: 300 }),
    ).rejects.toThrow(/timed out/i);
    expect(await server.stats()).toMatchObject({ cancellations: 1 });
    expect(await server.call('get_task_status_tool', { task_id })).toMatchObject({ status: 'queued' });
  });

  it('keeps state, side effects and the place in each script in the state file across restarts', async () => {
    const stateFile = join(directory, 'state.json');
    const plan: ExamplePlanInput = { faults: { external_api: ['unavailable', 'unavailable'] } };
    const first = await start({ plan, stateFile });
    expect((await first.raw('external_api')).isError).toBe(true);
    const { task_id } = await first.call<{ task_id: string }>('start_background_task_tool', {
      task_type: 'schedule_generation',
    });
    await first.call('get_task_status_tool', { task_id });
    await first.close();

    const second = await start({ plan, stateFile });
    expect((await second.raw('external_api')).isError).toBe(true);
    expect((await second.raw('external_api')).isError).toBeFalsy();
    expect(await second.call('get_task_status_tool', { task_id })).toMatchObject({ status: 'running', progress: 50 });
    const stats = await second.stats();
    expect(stats.calls).toMatchObject({ external_api: 3, start_background_task_tool: 1, get_task_status_tool: 2 });
    expect(stats.effects).toEqual([{ tool: 'start_background_task_tool', id: task_id }]);
  });

  it('exits mid-call when planned, and a restarted server on the same state does not exit again', async () => {
    const stateFile = join(directory, 'state.json');
    const plan: ExamplePlanInput = { faults: { promote_to_production_tool: ['exit'] } };
    const first = await start({ plan, stateFile });
    await expect(
      first.client.callTool({
        name: 'promote_to_production_tool',
        arguments: { staging_version: 'v1.5.0', approval_token: 't' },
      }),
    ).rejects.toThrow(/closed/i);
    const second = await start({ plan, stateFile });
    expect(
      await second.call('promote_to_production_tool', { staging_version: 'v1.5.0', approval_token: 't' }),
    ).toMatchObject({ status: 'in_progress' });
    expect((await second.stats()).effects.map((effect) => effect.tool)).toEqual(['promote_to_production_tool']);
  });

  it('reads a YAML plan file, and names the line and column of each mistake in a bad one', async () => {
    const good = join(directory, 'plan.yaml');
    await writeFile(good, 'faults:\n  external_api: [lock]\ndeployments:\n  health: failed\n');
    const server = await start({ planFile: good });
    expect(kindOf(await server.raw('external_api'))).toBe('lock');

    const bad = join(directory, 'bad.yaml');
    await writeFile(bad, 'faults:\n  external_api: { first: 2, fail: sometimes }\ndeployments:\n  helth: failed\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', exampleMain, '--plan', bad], {
      cwd: repoRoot,
      encoding: 'utf8',
      input: '',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/bad\.yaml:2:\d+ faults\.external_api\.fail: expected one of .*connection/);
    expect(run.stderr).toMatch(/bad\.yaml:4:3 deployments\.helth: unknown key "helth" \(did you mean "health"\?\)/);
  });
});

describe('example server over Streamable HTTP', () => {
  it('serves the same tools, with HTTP-level faults answered by the flaky host', async () => {
    const host = createExampleHost({ plan: { faults: { external_api: ['http_503'] } } });
    const http = await startExampleHttpServer(host);
    const client = new Client({ name: 'example-http-test', version: '0.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
      await expect(client.callTool({ name: 'external_api', arguments: {} })).rejects.toMatchObject({ code: 503 });
      const answer = (await client.callTool({ name: 'external_api', arguments: {} })) as CallToolResult;
      expect(answer.structuredContent).toMatchObject({ status: 'ok' });
      expect(host.world.state.calls['external_api']).toBe(2);
    } finally {
      await client.close();
      await http.close();
    }
  });
});
