// The runtime on the example config (seed 000's policies) against the example server over stdio: retries,
// the seed's fallback from validate_schedule_by_id_tool to validate_schedule_tool, and the failed rollback's emergency.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type RuntimeEvent } from '../../src/actors/runtime.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { markValidated } from '../../src/config/runtimeConfig.js';
import type { ExampleServerArgs } from '../support/exampleServer.js';
import { exampleStdioConfig } from '../support/exampleServer.js';
import { repoRoot } from '../support/servers.js';
import { createTestClock } from '../../src/testing/testClock.js';

const open: Runtime[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

/** The runtime on examples/retrace.config.yaml, its `scheduler` run from the .ts entry; backoff skipped on a test clock. */
async function exampleRuntime(server: ExampleServerArgs): Promise<{ runtime: Runtime; delays: number[] }> {
  const config = await loadConfig({ file: 'examples/retrace.config.yaml', cwd: repoRoot, env: {} });
  const clock = createTestClock(1_735_689_600_000);
  const runtime = createRuntime({
    config: markValidated({ ...config, servers: { scheduler: exampleStdioConfig(server) } }),
    clock,
    random: () => 0.5,
  });
  open.push(runtime);
  const delays: number[] = [];
  runtime.on('event', (event: RuntimeEvent) => {
    if (event.type !== 'toolcall.backoff.scheduled') return;
    delays.push(event.delayMs);
    setImmediate(() => clock.advance(event.delayMs));
  });
  return { runtime, delays };
}

const plan = (name: string) => join(repoRoot, 'examples', 'plans', name);

describe('the runtime against the example server', () => {
  it('rides out transient faults of validate_schedule_tool with the seed’s retries', async () => {
    const { runtime, delays } = await exampleRuntime({
      plan: { faults: { validate_schedule_tool: ['connection', 'unavailable'] } },
    });
    const outcome = await runtime.callTool('scheduler', 'validate_schedule_tool', {
      start_date: '2025-01-01',
      end_date: '2025-01-31',
    });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts.map((attempt) => attempt.error?.kind)).toEqual(['unavailable', 'unavailable', undefined]);
    expect(delays).toHaveLength(2);
    expect(outcome.result?.structuredContent).toMatchObject({ is_valid: false, critical_issues: 2 });
  });

  it('falls back from validate_schedule_by_id_tool to validate_schedule_tool once retries are exhausted', async () => {
    const { runtime } = await exampleRuntime({ planFile: plan('validation-fallback.yaml') });
    const outcome = await runtime.callTool('scheduler', 'validate_schedule_by_id_tool', {
      schedule_id: 'sched-2025-01',
    });
    expect(outcome.status).toBe('fallback');
    expect(outcome.tool).toMatchObject({ server: 'scheduler', tool: 'validate_schedule_tool' });
    expect(outcome.attempts.map((attempt) => `${attempt.tool} ${attempt.error?.kind ?? 'ok'}`)).toEqual([
      'validate_schedule_by_id_tool unavailable',
      'validate_schedule_by_id_tool unavailable',
      'validate_schedule_by_id_tool unavailable',
      'validate_schedule_by_id_tool unavailable',
      'validate_schedule_tool unavailable',
      'validate_schedule_tool ok',
    ]);
    expect(outcome.result?.structuredContent).toMatchObject({
      mode: 'date_range',
      schedule_ids: ['sched-2025-01'],
      critical_issues: 2,
    });
  });

  it('routes an unimplemented by-id validator to the alternative at once (permanent, no retries)', async () => {
    const { runtime } = await exampleRuntime({ plan: { faults: { validate_schedule_by_id_tool: ['unimplemented'] } } });
    const outcome = await runtime.callTool('scheduler', 'validate_schedule_by_id_tool', {
      schedule_id: 'sched-2025-02',
    });
    expect(outcome.status).toBe('fallback');
    expect(outcome.attempts.map((attempt) => attempt.error?.kind)).toEqual(['unimplemented', undefined]);
    expect(outcome.result?.structuredContent).toMatchObject({ is_valid: true });
  });

  it('escalates a failed rollback as an emergency', async () => {
    const { runtime } = await exampleRuntime({ planFile: plan('deployment-emergency.yaml') });
    const promoted = await runtime.callTool('scheduler', 'promote_to_production_tool', {
      staging_version: 'v1.5.0',
      approval_token: 'approve-1',
    });
    expect(promoted.status).toBe('succeeded');
    const rollback = await runtime.callTool('scheduler', 'rollback_deployment_tool', {
      environment: 'production',
      reason: 'error rate 35% over the 5% threshold',
    });
    expect(rollback.status).not.toBe('succeeded');
    expect(rollback.escalation).toMatchObject({ level: 'emergency' });
    expect(rollback.attempts.at(-1)?.error?.message).toMatch(/^Rollback failed/);
  });
});
