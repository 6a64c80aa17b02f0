// `retrace demo` run from the sources (tsx), as `npm run demo` runs it from dist/: seed 000's deployment example.
import { describe, expect } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { cliTest as it } from '../support/cli.js';

describe('retrace demo', () => {
  it('runs the deployment example on the file log: retries, a fallback, a cached answer, an escalation that waits and is resolved', async ({
    workspace,
  }) => {
    const result = await workspace.run(['demo', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^retrace demo: seed 000's production deployment \(.*deployment\.yaml\) on the file log$/m,
    );
    expect(result.stderr).toContain('↪ preflight failed: Connection refused');
    expect(result.stderr).toContain('✓ succeeded by scheduler/promote_to_production_tool on attempt 2');
    expect(result.stderr).toContain('✓ cached by scheduler/get_deployment_status_tool');
    expect(result.stderr).toContain(
      '‼ escalated (emergency, critical_tool_failed): scheduler/rollback_deployment_tool',
    );
    expect(result.stderr).toContain('⏸ the run waits for a person (rollback escalated, status escalated)');
    expect(result.stderr).toMatch(/retrace resolve \S+ --action value --value/);
    expect(result.stderr).toContain('✓ rollback resolved: value');
    expect(result.stderr).toMatch(/^succeeded: \{"status":"rolled_back",.*"restored_version":"v1\.4\.2"\}$/m);
    expect(result.stderr).toContain(
      'shown: a retry, a fallback, a cached answer, an escalation, the escalation resolved.',
    );
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EventEnvelope);
    const types = events.map((event) => event.type);
    // Waited (escalated), was resolved, went on from the log and ended: one run, its events in order.
    expect(types.indexOf('workflow.escalated')).toBeLessThan(types.indexOf('workflow.resolved'));
    expect(types.indexOf('workflow.resolved')).toBeLessThan(types.indexOf('workflow.resumed'));
    expect(types.at(-1)).toBe('workflow.succeeded');
    expect(new Set(events.map((event) => event.runId)).size).toBe(1);
    // Recorded in the workspace's file log: `retrace runs` lists the run.
    const runs = await workspace.run(['runs', '--json']);
    expect(runs.stdout).toContain(events[0]?.runId);
  });
});
