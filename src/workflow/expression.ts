// Expressions in workflows: jsonata, compiled once at load, every evaluation bounded (steps, depth, time, sizes) and its result plain data.
import jsonata from 'jsonata';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { SourceLocation } from '../common/errors.js';
import { findRootReferences } from './expressionReferences.js';
import type { RootReference } from './expressionReferences.js';

/** Bounds of one evaluation. Steps are counted deterministically, so a replay hits the same limit as the live run. */
export interface ExpressionLimits {
  /** Evaluation steps (AST nodes entered), the deterministic bound on loops and recursion. */
  maxSteps: number;
  /** Wall-clock backstop. */
  timeoutMs: number;
  /** Nesting of evaluation (recursion depth). */
  maxDepth: number;
  /** Items in one sequence or array. */
  maxSequence: number;
  /** Characters in one string built by the expression. */
  maxStringLength: number;
}

export const defaultExpressionLimits: ExpressionLimits = {
  maxSteps: 100_000,
  timeoutMs: 1_000,
  maxDepth: 200,
  maxSequence: 100_000,
  maxStringLength: 1_000_000,
};

/** Time and randomness of `$now()`, `$millis()` and `$random()`: the runtime's clock and random source, so replays agree. */
export interface EvaluationContext {
  now?: () => number;
  random?: () => number;
  /** Variables the expression reads as `$name` (e.g. `$input` in a computed field's transform). */
  bindings?: Record<string, unknown>;
}

export interface CompiledExpression {
  /** The expression's text, as written between `{{ }}` (or as the whole condition). */
  readonly source: string;
  /** Where the expression's text starts in the workflow file. */
  readonly location: SourceLocation;
  /** The names it reads from the workflow's scope (`inputs.x`, `steps.fetch.result`, a bare `attempts`). */
  readonly references: readonly RootReference[];
  /** Evaluates against a scope document; a failure is a `RetraceError` (E_EXPRESSION) naming expression and position. */
  evaluate(document: object, context?: EvaluationContext): Promise<unknown>;
}

/** Maps an offset in the expression's text to a position in the file. */
export type ExpressionLocator = (offset: number) => SourceLocation;

export type CompileResult =
  | { ok: true; expression: CompiledExpression }
  | { ok: false; offset: number; message: string; location: SourceLocation };

/** The binding carrying an evaluation's step counter: its name has a space, so no expression can name it. */
const budgetBinding = 'retrace budget';

class LimitExceeded extends Error {}

interface Budget {
  steps: number;
}

interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

export function compileExpression(
  source: string,
  locator: ExpressionLocator,
  limits: ExpressionLimits = defaultExpressionLimits,
): CompileResult {
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence });
  } catch (error) {
    const failure = error as JsonataFailure;
    const offset = Math.max(0, Math.min(source.length, (failure.position ?? 1) - 1));
    const message = `invalid expression ${JSON.stringify(source)}: ${failure.message ?? String(error)}`;
    return { ok: false, offset, message, location: locator(offset) };
  }
  guard(compiled, limits);
  const location = locator(0);
  const ast = compiled.ast();
  const references = findRootReferences(ast);
  const names = plainPathOf(ast);
  const expression: CompiledExpression = {
    source,
    location,
    references,
    async evaluate(document, context = {}) {
      try {
        // `inputs.x`, `steps.fetch.result`: read directly (jsonata's answer, at a fraction of its cost).
        const found = names && readPlainPath(document, names);
        if (found?.read) return toPlainData(found.value);
        const raw: unknown = await compiled.evaluate(document, {
          ...context.bindings,
          ...timeBindings(context),
          [budgetBinding]: { steps: 0 } satisfies Budget,
        });
        return toPlainData(raw);
      } catch (error) {
        throw evaluationError(source, locator, error);
      }
    },
  };
  return { ok: true, expression };
}

/** The names of an expression that is only a dotted path of plain names (`inputs.x`, `` `a b`.c ``), else undefined. */
function plainPathOf(ast: jsonata.ExprNode): string[] | undefined {
  const node = ast as unknown as Record<string, unknown>;
  if (node.type !== 'path' || !hasOnlyKeys(node, pathKeys) || !Array.isArray(node.steps)) return undefined;
  const names: string[] = [];
  for (const step of node.steps as Array<Record<string, unknown>>) {
    if (step.type !== 'name' || typeof step.value !== 'string' || !hasOnlyKeys(step, nameKeys)) return undefined;
    names.push(step.value);
  }
  return names.length > 0 ? names : undefined;
}

const pathKeys = new Set(['type', 'steps', 'position']);
const nameKeys = new Set(['type', 'value', 'position']);

/** No predicate, filter, `[]`, focus, index or grouping: anything of those is left to jsonata. */
function hasOnlyKeys(node: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  return Object.keys(node).every((key) => allowed.has(key));
}

/**
 * A plain path read as jsonata reads it (own properties only; nothing under null, a missing name or a scalar), as
 * long as no array is met: jsonata maps a path over an array's items and flattens sequences, which is left to it.
 */
function readPlainPath(document: object, names: readonly string[]): { read: boolean; value?: unknown } {
  let value: unknown = document;
  for (const name of names) {
    if (Array.isArray(value)) return { read: false };
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name)) return { read: true };
    value = (value as Record<string, unknown>)[name];
  }
  return Array.isArray(value) ? { read: false } : { read: true, value };
}

/** Counts steps on entry, checks sizes on exit, and replaces `$pad` (one call could ask for a gigabyte). */
function guard(compiled: jsonata.Expression, limits: ExpressionLimits): void {
  const assign = compiled.assign as (name: string | symbol, value: unknown) => void;
  assign(
    Symbol.for('jsonata.__evaluate_entry'),
    (_node: unknown, _input: unknown, environment: jsonata.Environment) => {
      const budget = environment.lookup(budgetBinding) as Budget | undefined;
      if (budget && ++budget.steps > limits.maxSteps) {
        throw new LimitExceeded(`exceeded ${limits.maxSteps} evaluation steps`);
      }
    },
  );
  assign(
    Symbol.for('jsonata.__evaluate_exit'),
    (_node: unknown, _input: unknown, _environment: unknown, result: unknown) => {
      if (typeof result === 'string' && result.length > limits.maxStringLength) {
        throw new LimitExceeded(`built a string longer than ${limits.maxStringLength} characters`);
      }
      if (Array.isArray(result) && result.length > limits.maxSequence) {
        throw new LimitExceeded(`built a list longer than ${limits.maxSequence} items`);
      }
    },
  );
  compiled.registerFunction(
    'pad',
    (text: string | undefined, width: number, char?: string) => {
      if (text === undefined) return undefined;
      if (Math.abs(width) > limits.maxStringLength) {
        throw new LimitExceeded(`$pad to ${width} characters exceeds ${limits.maxStringLength}`);
      }
      const fill = char === undefined || char === '' ? ' ' : char;
      const missing = Math.abs(width) - [...text].length;
      if (missing <= 0) return text;
      const padding = [...fill.repeat(Math.ceil(missing / [...fill].length))].slice(0, missing).join('');
      return width < 0 ? padding + text : text + padding;
    },
    '<s-ns?:s>',
  );
}

function timeBindings(context: EvaluationContext): Record<string, unknown> {
  const bindings: Record<string, unknown> = {};
  if (context.now) {
    const now = context.now;
    bindings.millis = () => now();
    bindings.now = (picture?: string, timezone?: string) =>
      picture === undefined && timezone === undefined
        ? new Date(now()).toISOString()
        : formatMillis.evaluate({}, { ms: now(), picture, timezone });
  }
  if (context.random) bindings.random = context.random;
  return bindings;
}

const formatMillis = jsonata('$fromMillis($ms, $picture, $timezone)');

function evaluationError(source: string, locator: ExpressionLocator, error: unknown): RetraceError {
  if (error instanceof LimitExceeded) {
    return new RetraceError(ErrorCode.expression, `expression ${JSON.stringify(source)} ${error.message}`, {
      location: locator(0),
      cause: error,
    });
  }
  const failure = error as JsonataFailure;
  // jsonata wraps errors thrown by our hooks (e.g. inside $eval or a lambda): find the limit in the chain.
  const inner = (failure as { error?: unknown }).error;
  if (inner instanceof LimitExceeded) return evaluationError(source, locator, inner);
  const code = failure.code === 'D1012' ? `exceeded its time limit` : `failed: ${failure.message ?? String(error)}`;
  const offset = Math.max(0, Math.min(source.length, (failure.position ?? 1) - 1));
  return new RetraceError(ErrorCode.expression, `expression ${JSON.stringify(source)} ${code}`, {
    location: locator(offset),
    cause: error,
  });
}

/**
 * jsonata's values as plain JSON-like data: sequences become arrays, objects own their keys (a `__proto__` key
 * stays a key, never a prototype), and a function is refused instead of leaking into state.
 */
export function toPlainData(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'function') throw new LimitExceeded('produced a function, which is not data');
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toPlainData);
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = toPlainData((value as Record<string, unknown>)[key]);
    if (item !== undefined)
      Object.defineProperty(plain, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return plain;
}

/** jsonata's `$boolean`: empty strings, zero, empty lists and mappings, null and nothing are false. */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0;
  if (Array.isArray(value)) return value.some(isTruthy);
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}
