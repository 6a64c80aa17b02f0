// The example server's tools over stdio with a real MCP client: scheduling, background tasks, deployments, seed 004's tools.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleHost, createExampleServer } from '../../src/examples/exampleServer.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { connectExample, textOf, type ExampleClient } from '../support/exampleServer.js';

interface Validation {
  is_valid: boolean;
  mode: string;
  critical_issues: number;
  warnings: number;
  schedule_ids: string[];
  issues: { severity: string; rule: string; person: string; date: string; suggested_fix: string }[];
}

type TaskView = {
  task_id: string;
  status: string;
  progress: number;
  result?: Record<string, unknown>;
  error?: string;
  cancelled?: boolean;
};

interface DeploymentView {
  deployment: {
    deployment_id: string;
    status: string;
    health: string;
    error_rate: number;
    error_rate_threshold: number;
  };
}

describe('the example server, without faults', () => {
  let server: ExampleClient;
  beforeAll(async () => {
    server = await connectExample();
  });
  afterAll(() => server.close());

  it('describes each tool with a zod-derived schema and the annotations that are true of it', async () => {
    const { tools } = await server.client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect(byName.get('validate_schedule_tool')?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get('promote_to_production_tool')?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    });
    expect(byName.get('cancel_task_tool')?.annotations).toMatchObject({ idempotentHint: true });
    expect(byName.get('promote_to_production_tool')?.inputSchema.required).toEqual([
      'staging_version',
      'approval_token',
    ]);
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining([
        'validate_schedule_tool',
        'validate_schedule_by_id_tool',
        'detect_conflicts_tool',
        'start_background_task_tool',
        'get_task_status_tool',
        'cancel_task_tool',
        'promote_to_production_tool',
        'get_deployment_status_tool',
        'rollback_deployment_tool',
        'external_api',
        'cleanup_resources',
      ]),
    );
  });

  it('finds January’s ACGME violations with suggested fixes, and February clean', async () => {
    const january = await server.call<Validation>('validate_schedule_tool', {
      start_date: '2025-01-01',
      end_date: '2025-01-31',
    });
    expect(january).toMatchObject({ is_valid: false, mode: 'date_range', critical_issues: 2, warnings: 1 });
    expect(january.issues.map((issue) => `${issue.rule} ${issue.person} ${issue.date}`)).toEqual([
      'acgme_24h_continuous_duty dr_lee 2025-01-11',
      'acgme_80_hour_week dr_lee 2025-01-06',
      'acgme_one_day_off_in_seven dr_lee 2025-01-06',
    ]);
    expect(january.issues[1]?.suggested_fix).toContain('Move 10 hours');
    const february = await server.call<Validation>('validate_schedule_tool', {
      start_date: '2025-02-01',
      end_date: '2025-02-28',
    });
    expect(february).toMatchObject({ is_valid: true, critical_issues: 0, issues: [] });
  });

  it('validates a schedule by id, and by the range of a schedule id (the fallback’s way)', async () => {
    const byId = await server.call<Validation>('validate_schedule_by_id_tool', { schedule_id: 'sched-2025-01' });
    expect(byId).toMatchObject({ mode: 'schedule', critical_issues: 2, schedule_ids: ['sched-2025-01'] });
    const byRange = await server.call<Validation>('validate_schedule_tool', { schedule_id: 'sched-2025-01' });
    expect(byRange).toMatchObject({ mode: 'date_range', critical_issues: 2 });
  });

  it('answers bad requests as failed results in the words of permanent errors', async () => {
    const backwards = await server.raw('validate_schedule_tool', { start_date: '2025-01-31', end_date: '2025-01-01' });
    expect(backwards.isError).toBe(true);
    expect(textOf(backwards)).toMatch(/^Invalid date range/);
    const missing = await server.raw('validate_schedule_by_id_tool', { schedule_id: 'sched-1999' });
    expect(textOf(missing)).toMatch(/^Schedule sched-1999 not found/);
    const wrongType = await server.raw('detect_conflicts_tool', { start_date: 20250101, end_date: '2025-01-31' });
    expect(textOf(wrongType)).toMatch(/^MCP error -32602: Input validation error/);
  });

  it('detects a double booking', async () => {
    const found = await server.call('detect_conflicts_tool', { start_date: '2025-01-01', end_date: '2025-01-31' });
    expect(found).toMatchObject({ total: 1, conflicts: [{ person: 'dr_garcia', date: '2025-01-15', hours: [10, 8] }] });
  });

  it('runs a background task from queued through running to success, one status call at a time', async () => {
    const started = await server.call<TaskView>('start_background_task_tool', {
      task_type: 'resilience_contingency',
      params: { days_ahead: 30 },
    });
    expect(started).toMatchObject({ status: 'queued', progress: 0 });
    const seen: string[] = [];
    for (let poll = 0; poll < 3; poll++) {
      const status = await server.call<TaskView>('get_task_status_tool', { task_id: started.task_id });
      seen.push(`${status.status} ${status.progress}`);
      if (status.status === 'success') expect(status.result).toMatchObject({ days_ahead: 30, scenarios_analyzed: 40 });
    }
    expect(seen).toEqual(['queued 0', 'running 50', 'success 100']);
  });

  it('cancels a running task once, and says so when asked again', async () => {
    const { task_id } = await server.call<TaskView>('start_background_task_tool', { task_type: 'compliance_report' });
    await server.call('get_task_status_tool', { task_id });
    expect(await server.call<TaskView>('cancel_task_tool', { task_id })).toMatchObject({
      status: 'cancelled',
      cancelled: true,
    });
    expect(await server.call<TaskView>('cancel_task_tool', { task_id })).toMatchObject({ cancelled: false });
    expect(await server.call<TaskView>('get_task_status_tool', { task_id })).toMatchObject({ status: 'cancelled' });
    const unknown = await server.raw('start_background_task_tool', { task_type: 'make_coffee' });
    expect(textOf(unknown)).toMatch(/^Invalid task_type "make_coffee"/);
  });

  it('promotes a version whose health settles to success, and rolls it back', async () => {
    const dry = await server.call('promote_to_production_tool', {
      staging_version: 'v1.5.0',
      approval_token: 'tok',
      dry_run: true,
    });
    expect(dry).toMatchObject({ status: 'dry_run', current_version: 'v1.4.2' });
    const promoted = await server.call<{ deployment_id: string; previous_version: string }>(
      'promote_to_production_tool',
      { staging_version: 'v1.5.0', approval_token: 'tok' },
    );
    expect(promoted.previous_version).toBe('v1.4.2');
    const first = await server.call<DeploymentView>('get_deployment_status_tool', promoted);
    expect(first.deployment).toMatchObject({ status: 'in_progress', health: 'healthy' });
    const second = await server.call<DeploymentView>('get_deployment_status_tool', promoted);
    expect(second.deployment).toMatchObject({ status: 'success', health: 'healthy', error_rate: 0.001 });
    const rolledBack = await server.call('rollback_deployment_tool', { environment: 'production', reason: 'test' });
    expect(rolledBack).toMatchObject({
      status: 'rolled_back',
      restored_version: 'v1.4.2',
      rolled_back_version: 'v1.5.0',
    });
    const missing = await server.raw('promote_to_production_tool', { staging_version: 'v9.9.9', approval_token: 't' });
    expect(textOf(missing)).toMatch(/^Staging version v9.9.9 not found/);
    const effects = (await server.stats()).effects.filter((effect) => effect.tool !== 'start_background_task_tool');
    expect(effects).toContainEqual({ tool: 'promote_to_production_tool', id: promoted.deployment_id });
    expect(effects).toContainEqual({ tool: 'rollback_deployment_tool', id: promoted.deployment_id });
  });

  it('answers external_api, and cleanup_resources cancels what is still running', async () => {
    expect(await server.call('external_api', { query: 'cardio' })).toMatchObject({
      status: 'ok',
      data: [{ id: 'rotation-1' }],
    });
    const { task_id } = await server.call<TaskView>('start_background_task_tool', { task_type: 'swap_analysis' });
    const cleaned = await server.call<{ released: string[]; cancelled_tasks: string[]; remaining: number }>(
      'cleanup_resources',
    );
    expect(cleaned.released).toContain(`task:${task_id}`);
    expect(cleaned.cancelled_tasks).toEqual([task_id]);
    expect(cleaned.remaining).toBe(0);
    expect(await server.call<TaskView>('get_task_status_tool', { task_id })).toMatchObject({ status: 'cancelled' });
  });
});

describe('the example server’s scenarios', () => {
  it('ends tasks as the plan says: failure with its error, or stuck running', async () => {
    const server = await connectExample({
      plan: {
        tasks: {
          polls: 2,
          types: { resilience_contingency: { outcome: 'failure' }, swap_analysis: { outcome: 'stuck' } },
        },
      },
    });
    try {
      const failing = await server.call<TaskView>('start_background_task_tool', {
        task_type: 'resilience_contingency',
      });
      await server.call('get_task_status_tool', failing);
      const failed = await server.call<TaskView>('get_task_status_tool', failing);
      expect(failed).toMatchObject({ status: 'failure' });
      expect(failed.error).toMatch(/^Worker lost while running resilience_contingency/);
      const stuck = await server.call<TaskView>('start_background_task_tool', { task_type: 'swap_analysis' });
      let last: TaskView | undefined;
      for (let poll = 0; poll < 5; poll++) last = await server.call<TaskView>('get_task_status_tool', stuck);
      expect(last).toMatchObject({ status: 'running', progress: 90 });
    } finally {
      await server.close();
    }
  });

  it('lets a promoted version turn unhealthy, and then fails the rollback (the seed’s emergency)', async () => {
    const server = await connectExample({
      plan: { deployments: { checks: 2, versions: { 'v1.5.0': 'failed' }, rollback: 'fail' } },
    });
    try {
      const promoted = await server.call('promote_to_production_tool', {
        staging_version: 'v1.5.0',
        approval_token: 't',
      });
      const rolling = await server.call<DeploymentView>('get_deployment_status_tool', promoted);
      expect(rolling.deployment).toMatchObject({ status: 'in_progress', health: 'degraded', error_rate: 0.12 });
      const settled = await server.call<DeploymentView>('get_deployment_status_tool', promoted);
      expect(settled.deployment).toMatchObject({ status: 'failure', health: 'failed', error_rate: 0.35 });
      expect(settled.deployment.error_rate).toBeGreaterThan(settled.deployment.error_rate_threshold);
      const rollback = await server.raw('rollback_deployment_tool', { reason: 'error rate 35%' });
      expect(rollback.isError).toBe(true);
      expect(textOf(rollback)).toMatch(/^Rollback failed/);
      const stats = await server.stats();
      expect(stats.effects.map((effect) => effect.tool)).toEqual(['promote_to_production_tool']);
      expect(stats.calls['rollback_deployment_tool']).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('accepts only the approval tokens of its state, as an authentication failure', async () => {
    const server = await connectExample({ plan: { state: { approval_tokens: ['approve-7'] } } });
    try {
      const refused = await server.raw('promote_to_production_tool', {
        staging_version: 'v1.5.0',
        approval_token: 'x',
      });
      expect(textOf(refused)).toMatch(/^Authentication failed/);
      expect(
        await server.call('promote_to_production_tool', { staging_version: 'v1.5.0', approval_token: 'approve-7' }),
      ).toMatchObject({ status: 'in_progress' });
    } finally {
      await server.close();
    }
  });
});

describe('the example server in process', () => {
  it('moves a task on by elapsed time on the server’s clock when the plan gives a duration', async () => {
    const clock = createTestClock(1_735_689_600_000);
    const host = createExampleHost({ plan: { tasks: { duration: '10s' } }, clock });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createExampleServer(host).connect(serverSide);
    const client = new Client({ name: 'in-process', version: '0.0.0' });
    await client.connect(clientSide);
    try {
      const status = async (task_id: string) =>
        (await client.callTool({ name: 'get_task_status_tool', arguments: { task_id } })).structuredContent as TaskView;
      const started = await client.callTool({
        name: 'start_background_task_tool',
        arguments: { task_type: 'schedule_generation' },
      });
      const { task_id } = started.structuredContent as TaskView;
      expect(await status(task_id)).toMatchObject({ status: 'queued' });
      clock.advance(4_000);
      expect(await status(task_id)).toMatchObject({ status: 'running', progress: 40 });
      expect(await status(task_id)).toMatchObject({ status: 'running', progress: 40 });
      clock.advance(6_000);
      expect(await status(task_id)).toMatchObject({ status: 'success', progress: 100 });
    } finally {
      await client.close();
    }
  });

  it('settles a rollout nobody checks once its checks’ time has passed, so the next promotion is not refused forever', async () => {
    const clock = createTestClock(1_735_689_600_000);
    const host = createExampleHost({ plan: { deployments: { checks: 3 } }, clock });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createExampleServer(host).connect(serverSide);
    const client = new Client({ name: 'in-process', version: '0.0.0' });
    await client.connect(clientSide);
    try {
      const promote = () =>
        client.callTool({
          name: 'promote_to_production_tool',
          arguments: { staging_version: 'v1.5.0', approval_token: 'tok' },
        });
      const first = await promote();
      expect(first.isError).toBeFalsy();
      expect(first.structuredContent).not.toHaveProperty('started_at');
      clock.advance(89_000);
      const refused = await promote();
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toMatch(/still rolling out/);
      // It says when to try again: the rollout (3 checks × 30 s) settles 1 s from now.
      expect(refused.structuredContent).toEqual({
        error: { type: 'conflict', message: expect.stringMatching(/retry after 1 s/), retry_after: 1 },
      });
      clock.advance(1_000);
      expect((await promote()).isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });
});
