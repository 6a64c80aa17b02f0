// `retrace call` end to end: the CLI as a child process, the flaky MCP server as its stdio child.
import { describe, expect } from 'vitest';
import type { ToolCallOutcome } from '../../src/machines/toolCallTypes.js';
import { cliTest as it, stderrLines, stdoutJson } from '../support/cli.js';
import type { CliWorkspace } from '../support/cli.js';
import { flakyStdioConfig, isAlive } from '../support/servers.js';

/** Real waits stay tiny: tests look at decisions, never at the clock. */
const fastPolicy = '--policy-json={"base_delay":"10ms","by_kind":{"unavailable":{"base_delay":"10ms"}}}';

async function withFlaky(workspace: CliWorkspace, tools: object = {}): Promise<void> {
  await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) }, tools });
}

describe.concurrent('retrace call', () => {
  it('retries a transient failure and prints one line per attempt', async ({ workspace }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'flaky', '--arg', 'key=k', '--arg', 'failures=2', fastPolicy]);

    expect(result.code, result.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts).toHaveLength(3);
    expect(outcome.attempts.map((attempt) => attempt.error?.kind)).toEqual(['unavailable', 'unavailable', undefined]);
    expect(outcome.result?.structuredContent).toEqual({ attempt: 3 });
    const retried = /^✗ attempt [12] flaky after \S+: transient\/unavailable: Service temporarily unavailable → retry$/;
    expect(stderrLines(result)).toEqual([
      '→ attempt 1 flaky/flaky',
      expect.stringMatching(retried),
      expect.stringMatching(/^… waiting \d+ms before attempt 2$/),
      '→ attempt 2 flaky/flaky',
      expect.stringMatching(retried),
      expect.stringMatching(/^… waiting \d+ms before attempt 3$/),
      '→ attempt 3 flaky/flaky',
      '✓ succeeded by flaky/flaky on attempt 3',
    ]);
  });

  it('fails invalid params at once, exit 1 with a one-line reason', async ({ workspace }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'fail', '--arg', 'kind=invalid_params', '--quiet']);

    expect(result.code).toBe(1);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.error).toMatchObject({ class: 'permanent', kind: 'invalid_input' });
    expect(stderrLines(result)).toEqual([
      'retrace: failed: MCP error -32602: Invalid params: field "id" must be a positive integer',
    ]);
  });

  it('escalates an auth failure, exit 2 with the escalation in the JSON', async ({ workspace }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'fail', '--arg', 'kind=auth']);

    expect(result.code).toBe(2);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('escalated');
    expect(outcome.escalation).toMatchObject({
      level: 'critical',
      trigger: 'auth_failed',
      server: 'flaky',
      tool: 'fail',
      recommendedAction: expect.stringContaining('credentials') as unknown,
    });
    const lines = stderrLines(result);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^✗ attempt 1 fail after \S+: permanent\/auth: Authentication failed: invalid API key → escalate \(auth_failed\)$/,
      ),
    );
    expect(lines.at(-1)).toMatch(/^retrace: escalated: critical escalation \(auth_failed\): flaky\/fail failed/);
  });

  it('answers a tool the server lacks from its configured fallback, exit 0', async ({ workspace }) => {
    await withFlaky(workspace, { get_schedule: { fallbacks: ['echo'] } });
    const result = await workspace.run(['call', 'flaky', 'get_schedule', '--arg', 'message=from the fallback']);

    expect(result.code, result.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('fallback');
    expect(outcome.tool).toEqual({ server: 'flaky', tool: 'echo' });
    expect(outcome.result?.content).toEqual([{ type: 'text', text: 'from the fallback' }]);
    expect(outcome.attempts[0]?.error?.kind).toBe('unimplemented');
    expect(stderrLines(result)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^✗ attempt 1 get_schedule after \S+: permanent\/unimplemented: .* → fallback \(unimplemented\)$/,
        ),
        '↪ fallback from get_schedule to flaky/echo (unimplemented)',
        '✓ fallback by flaky/echo on attempt 2',
      ]),
    );
  });

  it('returns partial data as partial, exit 0, and types --arg count=2 as the number the schema asks for', async ({
    workspace,
  }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'partial', '--arg', 'count=2', '--quiet']);

    expect(result.code, result.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('partial');
    expect(outcome.warnings).not.toHaveLength(0);
    expect(outcome.result?.structuredContent).toMatchObject({ partial: true, items: [1, 2] });
  });

  it('passes --arg message=42 as the string "42" when the schema says string; --quiet keeps stderr empty', async ({
    workspace,
  }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'echo', '--arg', 'message=42', '--quiet']);

    expect(result.code, result.stdout).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.result?.content).toEqual([{ type: 'text', text: '42' }]);
    expect(result.stderr).toBe('');
  });

  it('keeps a crashed server to one line per attempt; its stderr tail stays in the JSON', async ({ workspace }) => {
    await withFlaky(workspace);
    const result = await workspace.run([
      'call',
      'flaky',
      'flaky',
      '--args-json',
      '{"key":"crash","failures":1,"error":"exit"}',
      '--policy-json',
      '{"max_retries":0}',
    ]);

    expect(result.code).toBe(1);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.error).toMatchObject({ class: 'transient', kind: 'unavailable' });
    expect(outcome.error?.message).toContain('exiting mid-call with code 3');
    const lines = stderrLines(result);
    expect(lines).toEqual([
      '→ attempt 1 flaky/flaky',
      expect.stringMatching(
        /^✗ attempt 1 flaky after \S+: transient\/unavailable: server 'flaky' .*exited with code 3 during the call … → fallback \(retries_exhausted\)$/,
      ),
      expect.stringMatching(/^✗ failed: unavailable: server 'flaky' .*exited with code 3 during the call …$/),
      expect.stringMatching(/^retrace: failed: server 'flaky' .*exited with code 3 during the call …$/),
    ]);
  });

  it('stops the server it spawned before exiting', async ({ workspace }) => {
    await withFlaky(workspace);
    const result = await workspace.run(['call', 'flaky', 'stats', '--quiet']);

    expect(result.code, result.stderr).toBe(0);
    const { pid } = stdoutJson<ToolCallOutcome>(result).result?.structuredContent as { pid: number };
    expect(pid).not.toBe(result.pid);
    expect(isAlive(pid)).toBe(false);
  });
});
