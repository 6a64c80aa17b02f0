// What `retrace` says when it cannot do what was asked: one line naming what and where, a distinct exit code.
import { describe, expect } from 'vitest';
import { cliTest as it, stderrLines } from '../support/cli.js';
import type { CliResult, CliWorkspace } from '../support/cli.js';
import { flakyStdioConfig } from '../support/servers.js';

const stackLine = /^\s+at /m;

async function withServers(workspace: CliWorkspace): Promise<void> {
  await workspace.writeConfig({
    servers: {
      flaky: workspace.stdio(flakyStdioConfig()),
      ghost: workspace.stdio({ command: '/nonexistent/bin/mcp-ghost', args: [] }),
    },
  });
}

function expectOneLine(result: CliResult, code: number, line: string | RegExp): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(stderrLines(result)).toEqual([typeof line === 'string' ? line : expect.stringMatching(line)]);
}

describe.concurrent('retrace errors', () => {
  it('names the configured servers for an unknown server (64)', async ({ workspace }) => {
    await withServers(workspace);
    const result = await workspace.run(['call', 'nope', 'echo']);
    expectOneLine(result, 64, 'retrace: unknown server "nope" (configured: flaky, ghost)');
  });

  it("lists the server's tools for an unknown tool (64)", async ({ workspace }) => {
    await withServers(workspace);
    const result = await workspace.run(['call', 'flaky', 'nosuch']);
    expectOneLine(
      result,
      64,
      /^retrace: server "flaky" has no tool "nosuch" \(it has: echo, flaky, fail, partial, .*stats.*\)$/,
    );
  });

  it('refuses bad --args-json, --arg without a value and bad --policy-json (64)', async ({ workspace }) => {
    await withServers(workspace);
    const [badJson, noValue, badPolicy] = await Promise.all([
      workspace.run(['call', 'flaky', 'echo', '--args-json', '{bad']),
      workspace.run(['call', 'flaky', 'echo', '--arg', 'novalue']),
      workspace.run(['call', 'flaky', 'echo', '--policy-json', '{"max_retries":"many"}']),
    ]);
    expectOneLine(badJson, 64, /^retrace: --args-json: invalid JSON \(.+\)$/);
    expectOneLine(noValue, 64, 'retrace: --arg novalue: expected key=value');
    expectOneLine(badPolicy, 64, /^retrace: --policy-json max_retries: .+$/);
  });

  it('refuses a missing argument with usage (64)', async ({ workspace }) => {
    const result = await workspace.run(['call', 'flaky']);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/missing required argument 'tool'/);
  });

  it('reports a config error as file:line:col path: message (78)', async ({ workspace }) => {
    await workspace.writeConfig('servers:\n  x:\n    command: 3\n');
    const result = await workspace.run(['tools', 'x']);
    expectOneLine(result, 78, 'retrace: retrace.config.yaml:3:14 servers.x.command: expected a string, got 3');
  });

  it('reports a server command that does not exist in one line, the stack only with --debug (69)', async ({
    workspace,
  }) => {
    await withServers(workspace);
    const [plain, debug] = await Promise.all([
      workspace.run(['tools', 'ghost']),
      workspace.run(['--debug', 'tools', 'ghost']),
    ]);
    expectOneLine(
      plain,
      69,
      /^retrace: server 'ghost' \(\/nonexistent\/bin\/mcp-ghost\): cannot start the command: .*ENOENT/,
    );
    expect(plain.stderr).not.toMatch(stackLine);
    expect(debug.code).toBe(69);
    expect(stderrLines(debug)[0]).toBe(stderrLines(plain)[0]);
    expect(debug.stderr).toMatch(stackLine);
  });

  it('calls a server that cannot start and fails the call in one line, the outcome on stdout (1)', async ({
    workspace,
  }) => {
    await withServers(workspace);
    const result = await workspace.run(['call', 'ghost', 'echo', '--quiet']);

    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'failed',
      error: { kind: 'unavailable', rule: 'default:transport-spawn-failed' },
    });
    expect(stderrLines(result)).toEqual([
      expect.stringMatching(
        /^retrace: failed: server 'ghost' \(\/nonexistent\/bin\/mcp-ghost\): cannot start the command: .*ENOENT/,
      ),
    ]);
  });
});
