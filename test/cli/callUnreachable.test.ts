// `retrace call` to a server it cannot reach: no tool list, so the call itself retries, falls back and fails.
import { describe, expect } from 'vitest';
import type { ToolCallOutcome } from '../../src/machines/toolCallTypes.js';
import { cliTest as it, stderrLines, stdoutJson } from '../support/cli.js';
import type { CliWorkspace } from '../support/cli.js';
import { closedPort, flakyStdioConfig } from '../support/servers.js';

/** Two retries, real waits kept tiny: the tests look at decisions, never at the clock. */
const shortRetries =
  '--policy-json={"max_retries":2,"base_delay":"10ms","max_delay":"20ms","by_kind":{"unavailable":{"base_delay":"10ms"}}}';

/** `down` (nothing listens on its port) and `ghost` (its command does not exist) next to a working flaky server. */
async function withUnreachable(workspace: CliWorkspace, tools: object = {}): Promise<void> {
  await workspace.writeConfig({
    servers: {
      down: { url: `http://127.0.0.1:${await closedPort()}/mcp` },
      ghost: workspace.stdio({ command: '/nonexistent/bin/mcp-ghost', args: [] }),
      flaky: workspace.stdio(flakyStdioConfig()),
    },
    tools,
  });
}

describe.concurrent('retrace call to an unreachable server', () => {
  it('retries a server that refuses connections, then answers from the fallback on another server, exit 0', async ({
    workspace,
  }) => {
    await withUnreachable(workspace, { 'down/echo': { fallbacks: ['flaky/echo'] } });
    const result = await workspace.run(['call', 'down', 'echo', '--arg', 'message=from the fallback', shortRetries]);

    expect(result.code, result.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('fallback');
    expect(outcome.tool).toEqual({ server: 'flaky', tool: 'echo' });
    expect(outcome.result?.content).toEqual([{ type: 'text', text: 'from the fallback' }]);
    expect(outcome.attempts.map((attempt) => attempt.error?.kind)).toEqual([
      'unavailable',
      'unavailable',
      'unavailable',
      undefined,
    ]);
    const lines = stderrLines(result);
    expect(lines[0]).toMatch(/^… could not list the tools of down \(.+\); calling without checking$/);
    expect(lines).toEqual(
      expect.arrayContaining([
        '→ attempt 1 down/echo',
        '→ attempt 3 down/echo',
        expect.stringMatching(/^↪ fallback from echo to flaky\/echo \(.+\)$/),
        '✓ fallback by flaky/echo on attempt 4',
      ]),
    );
  });

  it('falls back at once from a server whose command does not exist, exit 0', async ({ workspace }) => {
    await withUnreachable(workspace, { 'ghost/echo': { fallbacks: ['flaky/echo'] } });
    const result = await workspace.run(['call', 'ghost', 'echo', '--arg', 'message=hi', '--quiet', shortRetries]);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('fallback');
    expect(outcome.tool).toEqual({ server: 'flaky', tool: 'echo' });
    expect(outcome.attempts[0]?.error).toMatchObject({ kind: 'unavailable', rule: 'default:transport-spawn-failed' });
    expect(outcome.attempts).toHaveLength(2);
  });

  it('retries a server that refuses connections, then fails in one line without a fallback, exit 1', async ({
    workspace,
  }) => {
    await withUnreachable(workspace);
    const result = await workspace.run(['call', 'down', 'echo', '--arg', 'message=hi', '--quiet', shortRetries]);

    expect(result.code, result.stderr).toBe(1);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts).toHaveLength(3);
    expect(outcome.error).toMatchObject({ class: 'transient', kind: 'unavailable' });
    expect(stderrLines(result)).toEqual([expect.stringMatching(/^retrace: failed: \S.*$/)]);
  });

  it('still names the tools when the server is up and lacks the tool (64)', async ({ workspace }) => {
    await withUnreachable(workspace);
    const result = await workspace.run(['call', 'flaky', 'nosuch']);

    expect(result.code).toBe(64);
    expect(stderrLines(result)).toEqual([
      expect.stringMatching(/^retrace: server "flaky" has no tool "nosuch" \(it has: /),
    ]);
  });
});
