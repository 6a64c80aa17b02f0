// `retrace tools` end to end, against the flaky server and the published server-everything.
import { describe, expect } from 'vitest';
import type { ToolInfo } from '../../src/actors/mcpTypes.js';
import type { ToolCallOutcome } from '../../src/machines/toolCallTypes.js';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { flakyStdioConfig, serverEverythingConfig } from '../support/servers.js';

describe.concurrent('retrace tools', () => {
  it('lists the flaky server tools with their annotation hints', async ({ workspace }) => {
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    const result = await workspace.run(['tools', 'flaky']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'echo [readOnly]  Echoes the message back.',
        expect.stringMatching(/^flaky \[idempotent\] {2}Fails the first `failures` calls/),
        expect.stringMatching(/^write_record \[destructive\] {2}Writes a record/),
        expect.stringMatching(/^stats \[readOnly\] {2}/),
      ]),
    );
  });

  it('prints JSON with --json: names, annotations and input schemas', async ({ workspace }) => {
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    const result = await workspace.run(['tools', 'flaky', '--json']);

    expect(result.code, result.stderr).toBe(0);
    const tools = stdoutJson<ToolInfo[]>(result);
    const echo = tools.find((tool) => tool.name === 'echo');
    expect(echo?.annotations).toMatchObject({ readOnlyHint: true });
    expect(echo?.inputSchema).toMatchObject({ properties: { message: { type: 'string' } } });
    expect(tools.find((tool) => tool.name === 'flaky')?.inputSchema).toMatchObject({
      properties: { failures: { type: 'integer' } },
    });
  });

  it('lists and calls server-everything, typing --arg by its schema', async ({ workspace }) => {
    await workspace.writeConfig({ servers: { everything: workspace.stdio(serverEverythingConfig()) } });
    const [tools, sum] = await Promise.all([
      workspace.run(['tools', 'everything']),
      workspace.run(['call', 'everything', 'get-sum', '--arg', 'a=1', '--arg', 'b=2', '--quiet']),
    ]);

    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toMatch(/^echo \[readOnly, idempotent\] {2}Echoes back the input string$/m);
    expect(tools.stdout).toMatch(/^get-sum \[/m);
    expect(sum.code, sum.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(sum);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.result?.content).toEqual([{ type: 'text', text: 'The sum of 1 and 2 is 3.' }]);
  });
});
