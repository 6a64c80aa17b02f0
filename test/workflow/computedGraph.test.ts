// Computed fields: dependency order, cycles refused at load with positions, what a change recomputes, traces of each evaluation.
import { describe, expect, it } from 'vitest';
import { describeProblem } from '../../src/config/yamlErrors.js';
import { evaluateComputed, fieldsToRecompute, parseWorkflowText } from '../../src/workflow/index.js';
import type { CompiledWorkflow, WorkflowScope } from '../../src/workflow/index.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const batches = yaml(
  'name: batches',
  'state: { raw: { files: [a, b, c, d], batch_status: {} } }',
  'computed:',
  '  ready_batches:',
  '    from: [computed.file_batches, raw.batch_status]',
  '    transform: \'[$input[0][$not($lookup($input[1], name) = "complete")].name]\'',
  '  file_batches:',
  '    from: raw.files',
  '    transform: \'[$map([0, 2], function($i){ {"name": "batch_" & $string($i / 2), "files": [$input[$i], $input[$i + 1]]} })]\'',
  '  file_count:',
  '    from: raw.files',
  '    transform: $count($input)',
  'steps:',
  '  - { type: return }',
);

async function load(text: string): Promise<CompiledWorkflow> {
  const checked = await parseWorkflowText(text, { file: 'flow.yaml' });
  if (!checked.workflow) throw new Error(checked.problems.map(describeProblem).join('\n'));
  return checked.workflow;
}

function scopeOf(workflow: CompiledWorkflow, state: Record<string, unknown>): WorkflowScope {
  return { inputs: {}, state, computed: {}, steps: {}, env: {} };
}

describe('computed fields', () => {
  it('are ordered so every field comes after the fields it reads', async () => {
    const workflow = await load(batches);
    const order = [...workflow.computed.order];
    expect(order.indexOf('file_batches')).toBeLessThan(order.indexOf('ready_batches'));
    expect(order).toHaveLength(3);
  });

  it('recompute what a change touches, in order, through other computed fields', async () => {
    const { computed } = await load(batches);
    expect(fieldsToRecompute(computed, ['raw.batch_status'])).toEqual(['ready_batches']);
    expect(fieldsToRecompute(computed, ['state.raw.files'])).toEqual(['file_batches', 'ready_batches', 'file_count']);
    expect(fieldsToRecompute(computed, ['state.raw'])).toEqual(['file_batches', 'ready_batches', 'file_count']);
    expect(fieldsToRecompute(computed, ['state.other'])).toEqual([]);
  });

  it("record seed 004's trace for each evaluation: field, timestamp, trigger, input, output, duration, dependencies", async () => {
    const workflow = await load(batches);
    const state = { raw: { files: ['a', 'b', 'c', 'd'], batch_status: { batch_0: 'complete' } } };
    const first = await evaluateComputed(workflow.computed, scopeOf(workflow, state), 'all', { now: () => 0 });
    expect(first.computed.ready_batches).toEqual(['batch_1']);
    const again = await evaluateComputed(
      workflow.computed,
      { ...scopeOf(workflow, { raw: { ...state.raw, batch_status: {} } }), computed: first.computed },
      ['raw.batch_status'],
      { now: () => Date.UTC(2024, 0, 20, 10, 0, 0, 123) },
    );
    expect(again.traces).toEqual([
      {
        field: 'computed.ready_batches',
        timestamp: '2024-01-20T10:00:00.123Z',
        trigger: 'raw.batch_status update',
        input: [first.computed.file_batches, {}],
        output: ['batch_0', 'batch_1'],
        duration_ms: expect.any(Number),
        dependencies: ['computed.file_batches', 'raw.batch_status'],
      },
    ]);
  });

  it('use their fallback when the transform fails, and say why in the trace', async () => {
    const workflow = await load(
      yaml(
        'name: f',
        'computed:',
        '  bad: { from: raw.x, transform: $error("no"), fallback: 0 }',
        'steps: [{ type: return }]',
      ),
    );
    const { computed, traces } = await evaluateComputed(workflow.computed, scopeOf(workflow, {}), 'all');
    expect(computed.bad).toBe(0);
    expect(traces[0]?.error).toMatch(/no/);
  });

  it('refuse a cycle at load, naming its fields and their lines', async () => {
    const checked = await parseWorkflowText(
      yaml(
        'name: cycle',
        'computed:',
        '  a: { from: computed.c, transform: $input }',
        '  b: { from: computed.a, transform: $input }',
        '  c: { from: [computed.b], transform: $input }',
        'steps: [{ type: return }]',
      ),
      { file: 'flow.yaml' },
    );
    expect(checked.workflow).toBeUndefined();
    expect(checked.problems.map(describeProblem)).toEqual([
      'flow.yaml:3:14 computed.a.from: computed fields depend on each other in a cycle: a (line 3) → c (line 5) → b (line 4) → a (line 3)',
    ]);
  });

  it('refuse dependencies on undeclared inputs and warn when the transform reads what from does not list', async () => {
    const checked = await parseWorkflowText(
      yaml(
        'name: deps',
        'computed:',
        '  a: { from: inputs.nope, transform: "$input + computed.b" }',
        '  b: { from: raw.x, transform: $input }',
        'steps: [{ type: return }]',
      ),
      { file: 'flow.yaml' },
    );
    expect(checked.problems.map((problem) => `${problem.severity} ${describeProblem(problem)}`)).toEqual([
      'error flow.yaml:3:14 computed.a.from: inputs.nope: no such input',
      'warning flow.yaml:3:38 computed.a.transform: the transform reads computed.b but from does not list it, so a change to it does not recompute a',
      'warning flow.yaml:4:14 computed.b.from: state.raw.x: not in state or state_schema, and no step writes it',
    ]);
  });
});
