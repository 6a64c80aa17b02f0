// Expressions and templates: types kept, text interpolated, no prototype access, runaway expressions stopped, errors located.
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import {
  compileExpression,
  toPlainData,
  defaultExpressionLimits,
  parseWorkflowText,
  renderValue,
} from '../../src/workflow/index.js';
import type { CompiledExpression, ExpressionLimits, WorkflowScope } from '../../src/workflow/index.js';

const at = () => ({ file: 'flow.yaml', line: 1, column: 1 });

function expression(source: string, limits: Partial<ExpressionLimits> = {}): CompiledExpression {
  const compiled = compileExpression(source, at, { ...defaultExpressionLimits, ...limits });
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.expression;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isRetraceError(error)) return error.describe();
    throw error;
  }
  throw new Error('expected the evaluation to fail');
}

const scope: WorkflowScope = {
  inputs: { count: 3, name: 'api' },
  state: { raw: { attempts: 2 }, items: [1, 2] },
  computed: { ready: true },
  steps: { fetch: { status: 'succeeded', result: { rows: [{ id: 7 }] } } },
  env: {},
};

async function render(value: string): Promise<unknown> {
  const checked = await parseWorkflowText(
    `name: t\ninputs: { count: number, name: string }\ncomputed: { ready: { from: inputs.count, transform: "true" } }\nstate: { raw: { attempts: 0 }, items: [] }\nsteps:\n  - { id: fetch, type: return }\n  - { type: return, value: ${JSON.stringify(value)} }\n`,
  );
  const step = checked.workflow?.steps[1];
  if (step?.type !== 'return') throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
  return renderValue(step.value, scope);
}

describe('templates', () => {
  it('keep the type of a whole-string template and interpolate text with others', async () => {
    expect(await render('{{ inputs.count * 2 }}')).toBe(6);
    expect(await render('{{ steps.fetch.result.rows }}')).toEqual([{ id: 7 }]);
    expect(await render('{{ attempts }} of {{ count }} for {{ name }}: {{ state.items }}')).toBe(
      '2 of 3 for api: [1,2]',
    );
    expect(await render('{{ computed.ready and attempts < count }}')).toBe(true);
  });

  it('leave a "}}" inside an object constructor to the expression', async () => {
    expect(await render('{{ {"a": {"b": count}} }}')).toEqual({ a: { b: 3 } });
  });
});

describe('plain dotted paths', () => {
  const documents: Record<string, unknown>[] = [
    { inputs: { x: 1, nested: { deep: 'yes' }, empty: null, text: 'abc' } },
    { inputs: { x: [1, 2], nested: [{ deep: 'a' }, { deep: ['b', 'c'] }], empty: [[1], [2, 3]], text: [7] } },
    { inputs: Object.assign(Object.create({ x: 'inherited' }) as object, { nested: { deep: { a: [1] } } }) },
    { x: 'bare', 'a b': { c: true }, inputs: 5 },
    {},
  ];
  const paths = ['inputs.x', 'inputs.nested.deep', 'inputs.empty.deep', 'inputs.text.length', 'x', '`a b`.c', 'inputs'];

  it('read what jsonata reads, arrays and all', async () => {
    for (const document of documents) {
      for (const path of paths) {
        const expected = toPlainData(await jsonata(path).evaluate(document));
        expect(await expression(path).evaluate(document), `${path} of ${JSON.stringify(document)}`).toEqual(expected);
      }
    }
  });

  it('spend no evaluation steps unless they meet an array, which jsonata reads', async () => {
    const path = expression('inputs.nested.deep', { maxSteps: 0 });
    expect(await path.evaluate({ inputs: { nested: { deep: 'yes' } } })).toBe('yes');
    expect(await failure(path.evaluate({ inputs: { nested: [{ deep: 'a' }] } }))).toMatch(
      /exceeded 0 evaluation steps/,
    );
    expect(await failure(expression('inputs.x[0]', { maxSteps: 0 }).evaluate({ inputs: { x: [1] } }))).toMatch(
      /exceeded 0 evaluation steps/,
    );
  });

  it('refuse a function they lead to, as jsonata does', async () => {
    expect(await failure(expression('inputs.f').evaluate({ inputs: { f: () => 1 } }))).toMatch(/produced a function/);
  });
});

describe('the sandbox', () => {
  it('reads no prototype: __proto__, constructor and prototype are nothing', async () => {
    const document = { inputs: { text: 'x' }, list: [] };
    for (const source of [
      'constructor',
      '__proto__',
      'inputs.constructor.name',
      'inputs.text.constructor',
      '$lookup(inputs, "constructor")',
      'list.__proto__.push',
    ]) {
      expect(await expression(source).evaluate(document), source).toBeUndefined();
    }
  });

  it('keeps a "__proto__" key it builds as a key, never as a prototype', async () => {
    const value = (await expression('{"__proto__": {"polluted": true}}').evaluate({})) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect((value as { polluted?: boolean }).polluted).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses to return a function', async () => {
    expect(await failure(expression('function($x){ $x }').evaluate({}))).toMatch(/produced a function/);
  });

  it('stops endless recursion by its step budget, deterministically', async () => {
    const endless = expression('($f := function($n){ $f($n + 1) }; $f(0))', {
      maxDepth: 100_000,
      maxSteps: 10_000,
      timeoutMs: 60_000,
    });
    expect(await failure(endless.evaluate({}))).toBe(
      'flow.yaml:1:1: expression "($f := function($n){ $f($n + 1) }; $f(0))" exceeded 10000 evaluation steps',
    );
  });

  it('stops a loop over a huge range and a string that doubles itself', async () => {
    expect(await failure(expression('$sum([1..10000000])').evaluate({}))).toMatch(
      /expression "\$sum\(\[1\.\.10000000\]\)"/,
    );
    const doubling = expression('$reduce([1..40], function($acc, $v){ $acc & $acc }, "ab")');
    expect(await failure(doubling.evaluate({}))).toMatch(/built a string longer than 1000000 characters/);
    expect(await failure(expression('$pad("x", 2000000000)').evaluate({}))).toMatch(/\$pad to 2000000000 characters/);
  });

  it('bounds recursion depth', async () => {
    const deep = expression('($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))');
    expect(await failure(deep.evaluate({}))).toMatch(/failed: .*stack|exceeded/i);
  });

  it('takes $now and $millis from the injected clock', async () => {
    const now = () => Date.UTC(2024, 0, 20, 10, 0, 0, 123);
    expect(await expression('$now()').evaluate({}, { now })).toBe('2024-01-20T10:00:00.123Z');
    expect(await expression('$millis()').evaluate({}, { now })).toBe(now());
  });

  it('reports a syntax error with its offset and the expression', () => {
    const compiled = compileExpression('a + (b', (offset) => ({ file: 'flow.yaml', line: 3, column: 10 + offset }));
    expect(compiled).toMatchObject({ ok: false, location: { line: 3 } });
    expect(compiled.ok ? '' : compiled.message).toMatch(/^invalid expression "a \+ \(b": /);
  });
});
