// Seed 000's three examples as workflows (examples/seed-000), each plan run through runtime.spawn against the
// example server the workflow declares (stdio, a real child), waits skipped on the simulated clock.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { WorkflowFinal } from '../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { skipWaits } from '../../src/testing/skipWaits.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { loadWorkflow } from '../../src/workflow/loadWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { repoRoot } from '../support/servers.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (open.length) await open.pop()?.();
});

interface ExampleRun {
  final: WorkflowFinal;
  events: EventEnvelope[];
  types: string[];
  /** What the server saw: calls per tool and side effects in order. */
  stats: { calls: Record<string, number>; effects: Array<{ tool: string; id: string }> };
  runtime: Runtime;
}

/**
 * Runs examples/seed-000/NAME.yaml with EXAMPLE_PLAN=examples/plans/PLAN.yaml. The runtime config names the
 * workflow's own server with the same definition (no clash), so the server outlives the run for its stats.
 */
async function runExample(name: string, plan: string, inputs: Record<string, unknown> = {}): Promise<ExampleRun> {
  const file = join(repoRoot, 'examples', 'seed-000', `${name}.yaml`);
  const { workflow } = await loadWorkflow(file, { env: { EXAMPLE_PLAN: `examples/plans/${plan}.yaml` } });
  const clock = createTestClock(1_735_689_600_000);
  const store = createMemoryStore();
  const runtime = createRuntime({ config: { servers: workflow.declaredServers }, clock, random: () => 0.5, store });
  const skipper = skipWaits(runtime, clock);
  open.push(async () => {
    skipper.stop();
    await runtime.close();
  });
  const final = await runtime.spawn(workflow, inputs).done;
  const events = await store.read(final.runId);
  const stats = await runtime.callTool('scheduler', 'example_stats');
  return {
    final,
    events,
    types: events.map((event) => event.type),
    stats: stats.result?.structuredContent as ExampleRun['stats'],
    runtime,
  };
}

function dataOf(events: EventEnvelope[], type: string): Array<Record<string, unknown>> {
  return events.filter((event) => event.type === type).map((event) => event.data as Record<string, unknown>);
}

const effectsOf = (run: ExampleRun, tool: string) => run.stats.effects.filter((effect) => effect.tool === tool);

describe('seed 000, example 1: validation failure handling', () => {
  it('answers validation_failed with the issues and their fixes, after a retry of the by-id validator', async () => {
    const run = await runExample('validation', 'validation-ok');
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toMatchObject({ status: 'validation_failed', critical_issues: 2 });
    expect((run.final.result as { recommended_fixes: string[] }).recommended_fixes).toContain(
      "Move 10 hours of dr_lee's week of 2025-01-06 to another resident",
    );
    expect(run.final.state).toEqual({ raw: { outcome: 'validation_failed' } });
    expect(dataOf(run.events, 'toolcall.backoff.scheduled')).toHaveLength(1);
    expect(run.stats.calls['validate_schedule_by_id_tool']).toBe(2);
  });

  it('falls back to date-range validation when the by-id validator is down', async () => {
    const run = await runExample('validation', 'validation-fallback', { schedule_id: 'sched-2025-02' });
    expect(run.final.result).toMatchObject({ status: 'valid', schedule_ids: ['sched-2025-02'] });
    expect(dataOf(run.events, 'toolcall.fallback.started')).toMatchObject([
      { to: { server: 'scheduler', tool: 'validate_schedule_tool' } },
    ]);
    expect(run.stats.calls).toMatchObject({ validate_schedule_by_id_tool: 4, validate_schedule_tool: 2 });
  });

  it('returns a wrong input (an unknown schedule) to the caller without retrying it', async () => {
    const run = await runExample('validation', 'validation-ok', { schedule_id: 'sched-1999' });
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toMatchObject({ status: 'error', message: expect.stringMatching(/sched-1999 not found/) });
    expect(run.final.state).toMatchObject({ raw: { outcome: 'error' } });
    // The plan's one connection fault is retried; the not-found answer after it is not.
    expect(run.stats.calls['validate_schedule_by_id_tool']).toBe(2);
    expect(run.stats.calls['validate_schedule_tool']).toBeUndefined();
  });

  it('escalates (critical) when the backend stays unreachable through the retries and the fallback', async () => {
    const run = await runExample('validation', 'validation-backend-down');
    expect(run.final.status).toBe('escalated');
    expect(run.final.error?.escalation).toMatchObject({ level: 'critical', trigger: 'fallbacks_exhausted' });
    expect(run.types).toContain('workflow.escalated');
    expect(run.stats.calls).toMatchObject({ validate_schedule_by_id_tool: 4, validate_schedule_tool: 4 });
  });
});

describe('seed 000, example 2: background task with polling, timeout and cancel', () => {
  it('retries a full queue and failed status polls, and answers the task’s result', async () => {
    const run = await runExample('background-task', 'background-ok');
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toMatchObject({ status: 'success', task_id: 'task-0001' });
    expect(run.final.state).toEqual({ raw: { task_id: 'task-0001', outcome: 'success' } });
    expect(dataOf(run.events, 'toolcall.backoff.scheduled')).toHaveLength(3);
    expect(effectsOf(run, 'start_background_task_tool')).toHaveLength(1);
    expect(effectsOf(run, 'cancel_task_tool')).toHaveLength(0);
  });

  it('fails the run when the task fails, after the poll’s cancel step', async () => {
    const run = await runExample('background-task', 'background-task', { task_type: 'resilience_contingency' });
    expect(run.final.status).toBe('failed');
    expect(run.final.error?.message).toMatch(/^Background task task-0001 failed: poll wait_for_task: fail_when held/);
    expect(run.final.state).toMatchObject({ raw: { outcome: 'failure' } });
    // The task had already finished: the cancel was asked and changed nothing.
    expect(run.stats.calls['cancel_task_tool']).toBe(1);
    expect(effectsOf(run, 'cancel_task_tool')).toHaveLength(0);
  });

  it('cancels a task still running at the 5-minute timeout and answers timeout', async () => {
    const run = await runExample('background-task', 'background-task', { task_type: 'swap_analysis' });
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toEqual({ status: 'timeout', task_id: 'task-0001' });
    expect(effectsOf(run, 'cancel_task_tool')).toEqual([{ tool: 'cancel_task_tool', id: 'task-0001' }]);
    expect(run.stats.calls['get_task_status_tool']).toBeGreaterThanOrEqual(59);
  });
});

describe('seed 000, example 3: production deployment with monitoring and rollback', () => {
  it('promotes once and monitors to success, the cached status standing in for a failed check', async () => {
    const run = await runExample('deployment', 'deployment-ok');
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toEqual({ status: 'success', deployment_id: 'dep-0001' });
    expect(run.final.state).toMatchObject({ raw: { previous_version: 'v1.4.2', outcome: 'success' } });
    expect(dataOf(run.events, 'toolcall.cache.hit')).toHaveLength(1);
    expect(effectsOf(run, 'promote_to_production_tool')).toHaveLength(1);
  });

  it('rolls an unhealthy deployment back automatically', async () => {
    const run = await runExample('deployment', 'deployment-rollback');
    expect(run.final.status).toBe('succeeded');
    expect(run.final.result).toEqual({ status: 'rolled_back', deployment_id: 'dep-0001', restored_version: 'v1.4.2' });
    expect(run.stats.effects.map((effect) => effect.tool)).toEqual([
      'promote_to_production_tool',
      'rollback_deployment_tool',
    ]);
  });

  it('raises an emergency escalation when the rollback fails, after a step fallback, a retry and a cached answer', async () => {
    const run = await runExample('deployment', 'deployment-emergency');
    expect(run.final.status).toBe('escalated');
    expect(run.final.error?.escalation).toMatchObject({ level: 'emergency', tool: 'rollback_deployment_tool' });
    expect(run.final.state).toEqual({
      raw: { previous_version: 'unknown', deployment_id: 'dep-0001', outcome: 'failed' },
    });
    expect(dataOf(run.events, 'workflow.step.fallback')).toMatchObject([
      { stepId: 'preflight', strategy: 'fallback', value: { production_version: 'unknown' } },
      { stepId: 'monitor', strategy: 'continue' },
    ]);
    expect(dataOf(run.events, 'toolcall.cache.hit')).toHaveLength(1);
    expect(dataOf(run.events, 'toolcall.escalated')).toMatchObject([{ escalation: { level: 'emergency' } }]);
    // Promoted once despite its retry (the first attempt was refused); the rollback was tried and did nothing.
    expect(effectsOf(run, 'promote_to_production_tool')).toHaveLength(1);
    expect(run.stats.calls).toMatchObject({ promote_to_production_tool: 2, rollback_deployment_tool: 1 });
    expect(effectsOf(run, 'rollback_deployment_tool')).toHaveLength(0);
  });
});
