// Fuzz: random workflow files (schema-shaped, damaged, or garbage) into the loader and compiler: problems, never a crash.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isRetraceError } from '../../src/common/errors.js';
import type { CheckedWorkflow } from '../../src/workflow/loadWorkflow.js';
import { loadWorkflow, parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { STEP_TYPES } from '../../src/workflow/stepTypes.js';
import { repoRoot } from '../support/servers.js';
import { applyEdits, fuzzParameters, fuzzTimeout, textEdits } from './fuzzSupport.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retrace-fuzz-workflow-'));
  // A sub-workflow file some generated steps name (others name files that do not exist).
  await writeFile(join(dir, 'child.yaml'), 'name: child\nsteps:\n  - type: return\n    value: 1\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The example workflows of the repository: real files to damage. */
const exampleTexts = (() => {
  const root = join(repoRoot, 'examples');
  const texts: string[] = [];
  const visit = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory() && entry.name !== 'plans') visit(path);
      else if (entry.name.endsWith('.yaml') && entry.name !== 'retrace.config.yaml')
        texts.push(readFileSync(path, 'utf8'));
    }
  };
  visit(root);
  return texts;
})();

const name = fc.oneof(
  fc.constantFrom('a', 'b', 'step_1', 'fetch', 'x', '_', 'items', 'raw'),
  fc.string({ maxLength: 6 }),
);
const expression = fc.oneof(
  fc.constantFrom(
    '{{ state.x }}',
    '{{ inputs.n + 1 }}',
    'state.count > 2',
    '{{ steps.a.result.items }}',
    '{{ steps.fetch.result }}',
    '{{ item * 2 }}',
    '{{ $count(state.list) }}',
    '{{ error.message }}',
    '{{ env.HOME }}',
    '{{ computed.total }}',
    '{{',
    '}}',
    '{{ }}',
    '{{ $foo( }}',
    '{{ state.__proto__ }}',
    '{{ ($x := function($n){ $n > 0 ? $x($n - 1) : 0 }; $x(10)) }}',
    'true',
    'result.done = true',
  ),
  fc.string({ maxLength: 12 }),
);
const duration = fc.oneof(
  fc.integer({ min: -10, max: 10_000_000 }),
  fc.constantFrom('250ms', '2s', '5m', '1h', '0s', '-1s', '', 'soon', '1e9h', '1.5s'),
  fc.double(),
);
const value = fc.oneof(expression, fc.jsonValue({ maxDepth: 2 }));
const statePath = fc.oneof(fc.constantFrom('x', 'raw.attempts', 'list', 'a.b.c', '__proto__', 'constructor.x'), name);

function stepArbitrary(depth: number): fc.Arbitrary<unknown> {
  const nested: fc.Arbitrary<unknown[]> =
    depth > 0 ? fc.array(stepArbitrary(depth - 1), { maxLength: 2 }) : fc.constant([]);
  const common = {
    id: name,
    description: fc.string({ maxLength: 8 }),
    when: fc.oneof(expression, fc.boolean()),
    on_error: fc.constantFrom('fail', 'continue', 'retry', 'fallback', 'explode'),
    retry_count: fc.integer({ min: -2, max: 200 }),
    retry_delay: duration,
    fallback_value: value,
    error_state_update: fc.record({ path: statePath, value }),
    timeout: duration,
    cleanup: nested,
  };
  const byType: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
    mcp_call: {
      server: fc.constantFrom('tasks', 'db', '', 'missing'),
      tool: fc.constantFrom('create_task', 'query', ''),
      method: fc.constantFrom('external_api', 'cleanup'),
      arguments: fc.dictionary(name, value, { maxKeys: 3 }),
      policy: fc.record(
        {
          idempotent: fc.boolean(),
          timeout: duration,
          maxAttempts: fc.integer({ min: -1, max: 20 }),
          retry: fc.record({ maxAttempts: fc.integer({ min: -1, max: 20 }) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
    },
    shell_command: {
      command: fc.oneof(
        fc.constantFrom('echo hi', 'sh -c "exit 1"', '', "echo 'unterminated", 'a | b'),
        fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
      ),
      env: fc.dictionary(name, fc.string({ maxLength: 5 }), { maxKeys: 2 }),
      cwd: fc.constantFrom('.', '/tmp', ''),
      idempotent: fc.boolean(),
    },
    conditional: { condition: fc.oneof(expression, fc.boolean()), then: nested, else: nested },
    state_update: {
      path: statePath,
      operation: fc.constantFrom('set', 'increment', 'decrement', 'append', 'merge', 'delete', 'multiply'),
      value,
    },
    error: { message: fc.oneof(expression, fc.constant('')) },
    wait: { duration, until: expression, interval: duration },
    poll: {
      step: depth > 0 ? stepArbitrary(depth - 1) : fc.constant({ type: 'return' }),
      until: expression,
      fail_when: expression,
      interval: duration,
      max_polls: fc.integer({ min: -1, max: 50 }),
      on_timeout: fc.oneof(fc.constantFrom('fail', 'continue', 'later'), nested),
      cancel: nested,
    },
    parallel: {
      branches: fc.array(nested, { maxLength: 2 }),
      concurrency: fc.integer({ min: -1, max: 4 }),
      strategy: fc.constantFrom('fail_fast', 'collect', 'all'),
    },
    foreach: {
      items: fc.oneof(expression, fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })),
      as: name,
      index_as: name,
      concurrency: fc.integer({ min: -1, max: 4 }),
      steps: nested,
    },
    workflow: {
      file: fc.constantFrom('child.yaml', 'missing.yaml', '../child.yaml', 'fuzz.yaml', ''),
      inline: fc.record({ name: fc.string({ maxLength: 4 }), steps: nested }, { requiredKeys: [] }),
      inputs: fc.dictionary(name, value, { maxKeys: 2 }),
    },
    return: { value },
  };
  return fc
    .oneof(
      { arbitrary: fc.constantFrom(...STEP_TYPES), weight: 9 },
      {
        arbitrary: fc.oneof(fc.constantFrom('mcp-call', 'shell', 'MCPCall', 'noop'), fc.string({ maxLength: 5 })),
        weight: 1,
      },
    )
    .chain((type) => {
      const fields = { ...common, ...(byType[type] ?? byType['return']) };
      return fc
        .tuple(
          fc.record(fields, { requiredKeys: [] }),
          // Now and then a field the step type does not have, or a step that is not an object.
          fc.option(fc.dictionary(name, value, { maxKeys: 1 }), { freq: 6 }),
        )
        .map(([picked, foreign]) => ({ type, ...picked, ...(foreign ?? {}) }));
    });
}

const workflowObject = fc.record(
  {
    name: fc.oneof(fc.constantFrom('fuzzed', 'test:fuzz'), fc.string({ maxLength: 6 }), fc.integer()),
    description: fc.string({ maxLength: 10 }),
    inputs: fc.dictionary(
      name,
      fc.oneof(
        fc.constantFrom('string', 'number', 'integer', 'boolean', 'object', 'array', 'date'),
        fc.record(
          {
            type: fc.constantFrom('string', 'number', 'integer', 'boolean'),
            required: fc.boolean(),
            default: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: ['type'] },
        ),
      ),
      { maxKeys: 3 },
    ),
    state_schema: fc.dictionary(name, fc.constantFrom('string', 'number[]', 'object?', 'any', 'nope', 'array'), {
      maxKeys: 3,
    }),
    state: fc.dictionary(name, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    computed: fc.dictionary(
      name,
      fc.record(
        {
          from: fc.oneof(fc.constantFrom('state.x', 'inputs.n', 'computed.total', 'raw.attempts'), fc.array(name)),
          transform: expression,
          fallback: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: ['from', 'transform'] },
      ),
      { maxKeys: 2 },
    ),
    servers: fc.dictionary(
      name,
      fc.record(
        {
          command: fc.constantFrom('node', '${MISSING_VAR}', ''),
          args: fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
          url: fc.constantFrom('http://127.0.0.1:1/mcp', 'not a url'),
        },
        { requiredKeys: [] },
      ),
      { maxKeys: 2 },
    ),
    env: fc.array(fc.oneof(fc.constantFrom('HOME', 'PATH'), fc.string({ maxLength: 4 })), { maxLength: 2 }),
    limits: fc.record(
      {
        max_steps: fc.integer({ min: -1, max: 100 }),
        max_nesting: fc.integer({ min: 0, max: 80 }),
        expression_steps: fc.integer({ min: 0, max: 1000 }),
        expression_timeout: duration,
      },
      { requiredKeys: [] },
    ),
    timeout: duration,
    steps: fc.array(stepArbitrary(2), { maxLength: 4 }),
  },
  { requiredKeys: ['name', 'steps'] },
);

/** Every problem says what is wrong and where: a line (and column) of the file, or the path of the field. */
function expectLocatedProblems(checked: CheckedWorkflow): void {
  for (const problem of checked.problems) {
    expect(problem.message.trim(), JSON.stringify(problem)).not.toBe('');
    if (problem.severity !== 'error') continue;
    const { line, path } = problem.location;
    expect(line !== undefined || (path !== undefined && path !== ''), `no location: ${JSON.stringify(problem)}`).toBe(
      true,
    );
  }
  if (checked.workflow === undefined) {
    expect(checked.problems.some((problem) => problem.severity === 'error')).toBe(true);
  }
}

const check = (text: string) => parseWorkflowText(text, { file: 'fuzz.yaml', baseDir: dir, cwd: dir, env: {} });

describe('workflow files, fuzzed', () => {
  it(
    'schema-shaped workflows, some damaged: problems with a location, never a throw',
    async () => {
      await fc.assert(
        fc.asyncProperty(workflowObject, textEdits(3), async (workflow, edits) => {
          const text = applyEdits(stringify(workflow), edits);
          expectLocatedProblems(await check(text));
        }),
        fuzzParameters(150, { timeout: 5_000 }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'the example workflows with random damage: problems with a location, never a throw',
    async () => {
      expect(exampleTexts.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...exampleTexts), textEdits(6), async (text, edits) => {
          expectLocatedProblems(await check(applyEdits(text, edits)));
        }),
        fuzzParameters(150, { timeout: 5_000 }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'garbage text: problems with a location, never a throw',
    async () => {
      const garbage = fc.oneof(
        fc.string({ maxLength: 200, unit: 'binary' }),
        fc.string({
          maxLength: 200,
          unit: fc.constantFrom(
            '-',
            ' ',
            '\n',
            ':',
            'a',
            '{',
            '}',
            '[',
            ']',
            '&',
            '*',
            '!',
            '|',
            '>',
            '"',
            "'",
            '#',
            '%',
            '\t',
          ),
        }),
        fc.jsonValue({ maxDepth: 3 }).map((json) => stringify(json)),
      );
      await fc.assert(
        fc.asyncProperty(garbage, async (text) => expectLocatedProblems(await check(text))),
        fuzzParameters(300, { timeout: 5_000 }),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'loadWorkflow on a damaged file throws only a RetraceError that names file:line:col',
    async () => {
      const file = join(dir, 'fuzz.yaml');
      await fc.assert(
        fc.asyncProperty(workflowObject, textEdits(3), async (workflow, edits) => {
          await writeFile(file, applyEdits(stringify(workflow), edits));
          const error: unknown = await loadWorkflow(file, { cwd: dir, env: {} }).then(
            () => undefined,
            (reason: unknown) => reason,
          );
          if (error === undefined) return;
          expect(isRetraceError(error), String(error)).toBe(true);
          if (!isRetraceError(error)) return;
          expect(error.code).toBe('E_WORKFLOW');
          for (const line of error.describe().split('\n'))
            expect(line).toMatch(/^(fuzz|child|missing)\.yaml(:\d+:\d+)?\b/);
        }),
        fuzzParameters(40, { timeout: 5_000 }),
      );
    },
    fuzzTimeout(60_000),
  );
});
