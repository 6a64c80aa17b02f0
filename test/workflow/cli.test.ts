// `retrace validate` and `retrace explain` as a user runs them: every problem with line:column, exit codes, the plan.
import { copyFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { repoRoot } from '../support/servers.js';
import type { ExecutionPlan } from '../../src/workflow/index.js';

const slow = { timeoutMs: 60_000 };
const seedExample = resolve(repoRoot, 'examples/error-handling/workflow.yaml');

const broken = `name: broken
inputs: { n: number }
steps:
  - id: first
    type: mcp_call
    server: nowhere
    tool: t
  - type: conditional
    condition: "{{ inputs.n > }}"
    then: [{ type: retrun }]
`;

// Each run starts node with tsx on a 2-core machine shared with other suites: generous limits, one test at a time.
describe('retrace validate', { timeout: 90_000 }, () => {
  it('accepts the seed 004 example as written (exit 0), its warnings with positions', async ({ workspace }) => {
    await copyFile(seedExample, join(workspace.dir, 'workflow.yaml'));
    const result = await workspace.run(['validate', 'workflow.yaml'], slow);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('workflow.yaml:27:31 steps[2].condition: warning: "max_attempts" is not an input');
    expect(result.stdout.trim().split('\n').at(-1)).toBe(
      'workflow.yaml: workflow "test:error-handling" valid (3 warnings)',
    );
  });

  it('reports every problem of a bad file with line:column and exits 65; --json says the same', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'broken.yaml'), broken);
    const [text, json] = await Promise.all([
      workspace.run(['validate', 'broken.yaml'], slow),
      workspace.run(['validate', 'broken.yaml', '--json'], slow),
    ]);
    expect(text.code).toBe(65);
    expect(text.stdout.split('\n')).toEqual([
      'broken.yaml:6:13 steps[0].server: unknown server "nowhere" (no servers are declared)',
      'broken.yaml:9:29 steps[1].condition: invalid expression "inputs.n >": Unexpected end of expression',
      'broken.yaml:10:20 steps[1].then[0].type: unknown step type "retrun" (expected one of mcp_call, shell_command, conditional, state_update, error, wait, poll, parallel, foreach, workflow, return)',
      'broken.yaml: invalid: 3 errors',
      '',
    ]);
    expect(json.code).toBe(65);
    expect(stdoutJson(json)).toMatchObject({ valid: false, errors: 3, warnings: 0 });
  });
});

describe('retrace explain', { timeout: 90_000 }, () => {
  it('prints the plan: steps, tools with their policies, fallback chains and worst-case times', async ({
    workspace,
  }) => {
    await copyFile(seedExample, join(workspace.dir, 'workflow.yaml'));
    await workspace.writeConfig({
      servers: { api: { command: 'node', args: ['server.js'] } },
      tools: { external_api: { max_retries: 1, timeout: 2, fallbacks: ['cached_api'] } },
    });
    const result = await workspace.run(['explain', 'workflow.yaml', '--json'], slow);
    expect(result.code, result.stderr).toBe(0);
    const plan = stdoutJson<ExecutionPlan>(result);
    const call = plan.steps[1]!;
    // external_api: 2 attempts × 2 s + 1 s of backoff; then cached_api on the defaults: 4 × 30 s + 1 + 2 + 4 s.
    expect(call).toMatchObject({
      id: 'step2',
      summary: 'api/external_api',
      fallbackChain: ['api/external_api', 'cached_api', 'fallback_value {"status":"unavailable","data":[]}'],
      worstCase: { fixedMs: 5_000 + 127_000 },
    });
    expect(plan.tools.map((tool) => `${tool.server}/${tool.tool}`)).toEqual([
      'api/external_api',
      'api/cached_api',
      'api/cleanup_resources',
    ]);
    expect(plan.steps[0]).toMatchObject({
      attempts: 4,
      worstCaseText: 'unbounded (step1: shell_command without timeout)',
    });
  });

  it('counts a loop over an input given with --input, and refuses an input of the wrong type', async ({
    workspace,
  }) => {
    await writeFile(
      join(workspace.dir, 'loop.yaml'),
      `name: loop
inputs: { regions: array }
steps:
  - type: foreach
    items: "{{ inputs.regions }}"
    concurrency: 2
    steps: [{ type: wait, duration: 10s }]
`,
    );
    const [known, unknown, wrong] = await Promise.all([
      workspace.run(['explain', 'loop.yaml', '--input', 'regions=["eu","us","ap"]'], slow),
      workspace.run(['explain', 'loop.yaml'], slow),
      workspace.run(['explain', 'loop.yaml', '--input', 'regions=eu'], slow),
    ]);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toContain('for each item in {{ inputs.regions }} (3 items), 2 at a time');
    expect(known.stdout).toContain('worst case: 20s');
    expect(unknown.stdout).toContain('worst case: ⌈count({{ inputs.regions }}) / 2⌉ × 10s');
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toBe('retrace: loop.yaml: input "regions": expected array, got "eu"\n');
  });
});
