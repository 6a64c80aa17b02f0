// Loading workflow files: the seed's example as written, every step type, and bad files reported all at once with positions.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeProblem } from '../../src/config/yamlErrors.js';
import { parseRuntimeConfig } from '../../src/config/runtimeConfig.js';
import { STEP_TYPES, checkWorkflowFile, parseWorkflowText } from '../../src/workflow/index.js';
import type { CompiledStep, CompiledWorkflow } from '../../src/workflow/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

async function problems(text: string, severity: 'error' | 'warning' = 'error'): Promise<string[]> {
  const checked = await parseWorkflowText(text, { file: 'flow.yaml', config: parseRuntimeConfig({}) });
  return checked.problems.filter((problem) => problem.severity === severity).map(describeProblem);
}

async function compiled(text: string): Promise<CompiledWorkflow> {
  const checked = await parseWorkflowText(text, { file: 'flow.yaml' });
  if (!checked.workflow) throw new Error(checked.problems.map(describeProblem).join('\n'));
  return checked.workflow;
}

describe('the seed 004 example', () => {
  it('loads as written: three steps with ids made from their places, retry in ms, method as the tool', async () => {
    const checked = await checkWorkflowFile(resolve(root, 'examples/error-handling/workflow.yaml'), { cwd: root });
    expect(checked.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    const workflow = checked.workflow!;
    expect(workflow.name).toBe('test:error-handling');
    expect([...workflow.stepsById.keys()]).toEqual([
      'step1',
      'step2',
      'step3',
      'step3_then1',
      'step3_else1',
      'step3_else1_cleanup1',
    ]);
    const [shell, call, conditional] = workflow.steps as [CompiledStep, CompiledStep, CompiledStep];
    expect(shell).toMatchObject({
      type: 'shell_command',
      argv: [{ kind: 'literal', value: 'flaky-command.sh' }],
      onError: {
        strategy: 'retry',
        retry: { maxRetries: 3, baseDelayMs: 2000 },
        errorStateUpdate: { path: ['raw', 'last_error'] },
      },
    });
    expect(call).toMatchObject({ type: 'mcp_call', tool: 'external_api', onError: { strategy: 'continue' } });
    expect(conditional).toMatchObject({ type: 'conditional', location: { line: 26, column: 5 } });
  });

  it('warns, with the column of the name, that max_attempts is declared nowhere', async () => {
    const checked = await checkWorkflowFile('examples/error-handling/workflow.yaml', { cwd: root });
    const warnings = checked.problems.filter((problem) => problem.severity === 'warning').map(describeProblem);
    expect(warnings).toContain(
      'examples/error-handling/workflow.yaml:27:31 steps[2].condition: "max_attempts" is not an input, computed field, state field or loop variable, so it evaluates to nothing (in "attempts < max_attempts")',
    );
  });
});

describe('every step type', () => {
  it('compiles the example that uses each of them, without a problem', async () => {
    const checked = await checkWorkflowFile('examples/step-types/workflow.yaml', { cwd: root });
    expect(checked.problems.map(describeProblem)).toEqual([]);
    const types = new Set([...checked.workflow!.stepsById.values()].map((step) => step.type));
    expect([...types].sort()).toEqual([...STEP_TYPES].sort());
  });

  it('splits a command string into words without a shell, keeping templates in their word', async () => {
    const workflow = await compiled(
      yaml(
        'name: x',
        'inputs: { f: string }',
        'steps:',
        '  - type: shell_command',
        `    command: grep -n "a b" {{ inputs.f & " x" }}.txt`,
      ),
    );
    const step = workflow.steps[0] as Extract<CompiledStep, { type: 'shell_command' }>;
    expect(step.argv.map((word) => (word.kind === 'literal' ? word.value : word.kind))).toEqual([
      'grep',
      '-n',
      'a b',
      'text',
    ]);
  });

  it('reads numbers as milliseconds and strings with units in step durations', async () => {
    const workflow = await compiled(
      yaml('name: x', 'steps:', '  - { type: wait, duration: 1500 }', '  - { type: wait, duration: 2m, timeout: 90s }'),
    );
    expect(workflow.steps.map((step) => [step.type === 'wait' ? step.durationMs : 0, step.timeoutMs])).toEqual([
      [1500, undefined],
      [120_000, 90_000],
    ]);
  });
});

describe('bad workflows', () => {
  it('reports every problem at once, each with line, column and path', async () => {
    const text = yaml(
      'name: bad',
      'steps:',
      '  - type: mcp-call',
      '    tool: x',
      '  - type: shell_command',
      '    command: 3',
      '  - type: state_update',
      '    path: raw.__proto__.x',
      '    value: 1',
      '  - type: wait',
      '    duration: soon',
      '    colour: red',
    );
    expect(await problems(text)).toEqual([
      'flow.yaml:3:11 steps[0].type: unknown step type "mcp-call" (expected one of mcp_call, shell_command, conditional, state_update, error, wait, poll, parallel, foreach, workflow, return) — did you mean "mcp_call"?',
      'flow.yaml:6:14 steps[1].command: expected a string or a list, got 3',
      'flow.yaml:8:11 steps[2].path: a state path may not name __proto__, constructor or prototype',
      'flow.yaml:11:15 steps[3].duration: expected a duration (milliseconds as a number, or a string like 250ms, 2s, 5m), got "soon"',
      'flow.yaml:12:5 steps[3].colour: unknown key "colour"',
    ]);
  });

  it('reports a YAML syntax error at its position', async () => {
    const [problem] = await problems(yaml('name: x', 'steps: [', '  - type: wait'));
    expect(problem).toMatch(/^flow\.yaml:\d+:\d+: /);
  });

  it('reports an alias without its anchor, and aliases that would expand without bound, at their position (found by fuzzing)', async () => {
    expect(await problems(yaml('name: x', 'steps:', '  - type: return', '    value: *nowhere'))).toEqual([
      'flow.yaml:4:12: alias *nowhere has no anchor &nowhere before it',
    ]);
    const tens = (alias: string) => `[${Array.from({ length: 10 }, () => `*${alias}`).join(', ')}]`;
    const bomb = yaml(
      'a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      `b: &b ${tens('a')}`,
      `c: &c ${tens('b')}`,
      `d: ${tens('c')}`,
    );
    expect(await problems(bomb)).toEqual([expect.stringMatching(/^flow\.yaml:2:8: the aliases cannot be expanded: /)]);
  });

  it('names the expression and the exact column of a syntax error inside a template', async () => {
    expect(await problems(yaml('name: x', 'steps:', '  - { type: return, value: "total: {{ 1 + }}" }'))).toEqual([
      'flow.yaml:3:41 steps[0].value: invalid expression "1 +": Unexpected end of expression',
    ]);
  });

  it('refuses duplicate ids, unknown and later steps, undeclared inputs and env, and unknown servers', async () => {
    const text = yaml(
      'name: refs',
      'inputs: { n: number }',
      'servers: { s: { command: node } }',
      'steps:',
      '  - { id: a, type: return, value: "{{ steps.b.result }}" }',
      '  - { id: b, type: return, value: "{{ steps.nope.result + inputs.m + env.HOME }}" }',
      '  - { id: b, type: mcp_call, server: other, tool: t }',
      '  - { id: c, type: conditional, condition: "steps.c.result", then: [{ type: return }] }',
    );
    expect(await problems(text)).toEqual([
      'flow.yaml:5:39 steps[0].value: steps.b is not available here: step "b" has not run at this point (it comes later, encloses this one, or runs in parallel) (in "steps.b.result")',
      'flow.yaml:6:39 steps[1].value: steps.nope: no step has the id "nope" (in "steps.nope.result + inputs.m + env.HOME")',
      'flow.yaml:6:59 steps[1].value: inputs.m is not declared under inputs (in "steps.nope.result + inputs.m + env.HOME")',
      'flow.yaml:6:70 steps[1].value: env.HOME is not readable: list HOME under env: to allow it (in "steps.nope.result + inputs.m + env.HOME")',
      'flow.yaml:7:11 steps[2].id: step id "b" is already used by the step at line 6',
      'flow.yaml:7:38 steps[2].server: unknown server "other" (declared: s)',
      'flow.yaml:8:45 steps[3].condition: steps.c is not available here: step "c" has not run at this point (it comes later, encloses this one, or runs in parallel) (in "steps.c.result")',
    ]);
  });

  it('refuses steps nested deeper than limits.max_nesting', async () => {
    const text = yaml(
      'name: deep',
      'limits: { max_nesting: 2 }',
      'steps:',
      '  - type: conditional',
      '    condition: true',
      '    then:',
      '      - type: conditional',
      '        condition: true',
      '        then:',
      '          - { type: return }',
    );
    expect(await problems(text)).toEqual([
      'flow.yaml:10:13 steps[0].then[0].then[0]: steps are nested 3 deep, more than limits.max_nesting (2)',
    ]);
  });

  it('rejects a workflow file that includes itself, naming the chain', async () => {
    const checked = await checkWorkflowFile('test/workflow/fixtures/loop-a.yaml', { cwd: root });
    expect(checked.problems.map(describeProblem)).toEqual([
      'test/workflow/fixtures/loop-b.yaml:4:11 steps[0].file: the workflow includes itself: test/workflow/fixtures/loop-a.yaml → test/workflow/fixtures/loop-b.yaml → test/workflow/fixtures/loop-a.yaml',
    ]);
  });
});
