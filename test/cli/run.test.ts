// `retrace run` end to end: the CLI as a child process, a real MCP server (the flaky one) and a real shell command.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it, stderrLines } from '../support/cli.js';
import { flakyStdioConfig } from '../support/servers.js';

const workflow = `name: cli-run
inputs: { name: string, fail: { type: boolean, default: false } }
state: { raw: { count: 0 } }
steps:
  - id: greet
    type: mcp_call
    server: flaky
    tool: flaky
    arguments: { key: '{{ inputs.name }}', failures: 1 }
    on_error: retry
    retry_count: 2
    retry_delay: 10ms
  - id: say
    type: shell_command
    command: [node, -e, 'console.log("hello " + process.argv[1])', '{{ inputs.name }}']
  - { id: count, type: state_update, path: raw.count, operation: increment }
  - { id: stop, type: error, message: 'asked to fail', when: '{{ inputs.fail }}' }
  - { id: done, type: return, value: { said: '{{ steps.say.result.stdout }}', attempt: '{{ steps.greet.result.attempt }}' } }
`;

describe('retrace run', { timeout: 90_000 }, () => {
  it('--json prints every event as a JSON line, the last { runId, status, state, result }; progress on stderr; exit 0', async ({
    workspace,
  }) => {
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    await writeFile(join(workspace.dir, 'flow.yaml'), workflow);
    const result = await workspace.run(['run', 'flow.yaml', '--input', 'name=ada', '--run-id', 'run-1', '--json'], {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({
      runId: 'run-1',
      status: 'succeeded',
      state: { raw: { count: 1 } },
      result: { said: 'hello ada\n', attempt: 2 },
    });
    const events = lines.slice(0, -1);
    expect(events[0]).toMatchObject({ type: 'workflow.started', runId: 'run-1', seq: 1 });
    expect(events.at(-1)).toMatchObject({ type: 'workflow.succeeded' });
    expect(events.map((event) => event['seq'])).toEqual(events.map((_, index) => index + 1));
    const progress = stderrLines(result);
    expect(progress[0]).toBe('▶ workflow cli-run (run run-1)');
    expect(progress).toContain('→ greet (mcp_call)');
    expect(progress.some((line) => line.startsWith('    ✗ attempt 1 flaky'))).toBe(true);
    expect(progress).toContain('– stop skipped (when is false)');
    expect(progress.at(-1)).toBe('✓ workflow succeeded after 5 steps');

    const runs = await workspace.run(['runs', '--json']);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ runId: 'run-1', status: 'succeeded' }]);
  });

  it('exits 1 when the workflow fails, with the error in the last line', async ({ workspace }) => {
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    await writeFile(join(workspace.dir, 'flow.yaml'), workflow);
    const result = await workspace.run(['run', 'flow.yaml', '-i', 'name=bob', '-i', 'fail=true', '--json', '-q'], {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toBe('');
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({ status: 'failed', error: { message: 'asked to fail', step_id: 'stop' } });
  });
});
