// Compiling the values of a workflow file: templates and conditions into compiled expressions, their references checked.
import type { PathSegment } from '../config/yamlErrors.js';
import type { CompiledCondition, ProblemSeverity, ValueTemplate, WorkflowProblem } from './compiledWorkflow.js';
import { compileExpression } from './expression.js';
import type { CompiledExpression, ExpressionLimits, ExpressionLocator } from './expression.js';
import type { RootReference } from './expressionReferences.js';
import { RAW_TIER, isScopeRoot } from './scope.js';
import { hasTemplate, scanTemplate } from './template.js';
import { locateInString, locateValue } from './sourcePositions.js';
import type { WorkflowSource } from './sourcePositions.js';

/** Names a workflow declares, for checking what its expressions read. */
export interface KnownNames {
  inputs: ReadonlySet<string>;
  computed: ReadonlySet<string>;
  /** Top-level state keys (from `state`, `state_schema` and the paths steps write). */
  state: ReadonlySet<string>;
  /** Keys under `state.raw`, which bare names also find. */
  raw: ReadonlySet<string>;
  env: ReadonlySet<string>;
  /** Every step id of the workflow. */
  steps: ReadonlySet<string>;
}

/** What an expression may read at its place in the workflow. */
export interface Visibility {
  /** Steps that have run (or been skipped) before the expression is evaluated. */
  done: ReadonlySet<string>;
  /** Loop variables and the like, readable as bare names. */
  locals: ReadonlySet<string>;
}

export interface CompileContext {
  source: WorkflowSource;
  problems: WorkflowProblem[];
  limits: ExpressionLimits;
  known: KnownNames;
  /** limits.max_nesting of the workflow. */
  maxNesting: number;
}

export function report(
  context: CompileContext,
  path: readonly PathSegment[],
  message: string,
  severity: ProblemSeverity = 'error',
  target: 'value' | 'key' = 'value',
): void {
  context.problems.push({ location: locateValue(context.source, path, target), message, severity });
}

/** Compiles one expression (the text of a template, or a whole condition); problems are recorded, not thrown. */
export function compileExpressionAt(
  context: CompileContext,
  path: readonly PathSegment[],
  source: string,
  startInString: number,
  visibility: Visibility,
): CompiledExpression | undefined {
  const locator: ExpressionLocator = (offset) => locateInString(context.source, path, source, offset, startInString);
  const compiled = compileExpression(source, locator, context.limits);
  if (!compiled.ok) {
    context.problems.push({ location: compiled.location, message: compiled.message, severity: 'error' });
    return undefined;
  }
  for (const reference of compiled.expression.references) {
    const found = referenceProblem(reference, context.known, visibility);
    if (found) {
      context.problems.push({
        location: locator(reference.offset),
        message: `${found.message} (in ${JSON.stringify(source)})`,
        severity: found.severity,
      });
    }
  }
  return compiled.expression;
}

/** A value as written: strings with `{{ }}` become templates, lists and mappings are walked, the rest is literal. */
export function compileValue(
  context: CompileContext,
  path: readonly PathSegment[],
  value: unknown,
  visibility: Visibility,
): ValueTemplate {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return { kind: 'literal', value };
    const scanned = scanTemplate(value);
    for (const problem of scanned.problems) {
      context.problems.push({
        location: locateInString(context.source, path, value.slice(problem.offset), 0),
        message: problem.message,
        severity: 'error',
      });
    }
    const parts: Array<string | CompiledExpression> = [];
    for (const part of scanned.parts) {
      if (part.kind === 'text') {
        parts.push(part.text);
        continue;
      }
      if (!part.source) continue;
      const expression = compileExpressionAt(context, path, part.source, part.offset, visibility);
      if (expression) parts.push(expression);
    }
    const [only] = parts;
    if (scanned.whole && parts.length === 1 && typeof only === 'object')
      return { kind: 'expression', expression: only };
    return { kind: 'text', parts };
  }
  if (Array.isArray(value)) {
    const items = value.map((item, index) => compileValue(context, [...path, index], item, visibility));
    return items.every((item) => item.kind === 'literal') ? { kind: 'literal', value } : { kind: 'list', items };
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]): [string, ValueTemplate] => [
      key,
      compileValue(context, [...path, key], item, visibility),
    ]);
    return entries.every(([, item]) => item.kind === 'literal')
      ? { kind: 'literal', value }
      : { kind: 'mapping', entries };
  }
  return { kind: 'literal', value };
}

/** A condition: a boolean, a bare expression, or one `{{ … }}` template (as the seed writes it). */
export function compileCondition(
  context: CompileContext,
  path: readonly PathSegment[],
  value: string | boolean,
  visibility: Visibility,
): CompiledCondition {
  if (typeof value === 'boolean') return { kind: 'literal', value };
  let source = value;
  let start = 0;
  if (hasTemplate(value)) {
    const scanned = scanTemplate(value);
    const [only] = scanned.parts;
    if (!scanned.whole || only?.kind !== 'expression' || scanned.problems.length > 0) {
      report(context, path, 'a condition is one expression: write it bare, or as a single {{ … }}');
      return { kind: 'literal', value: false };
    }
    source = only.source;
    start = only.offset;
  }
  const expression = compileExpressionAt(context, path, source.trim(), start, visibility);
  return expression ? { kind: 'expression', expression } : { kind: 'literal', value: false };
}

function referenceProblem(
  reference: RootReference,
  known: KnownNames,
  visibility: Visibility,
): { message: string; severity: ProblemSeverity } | undefined {
  const [root, name] = reference.names;
  if (root === undefined) return undefined;
  if (visibility.locals.has(root)) return undefined;
  if (!isScopeRoot(root)) {
    if (known.inputs.has(root) || known.computed.has(root) || known.state.has(root) || known.raw.has(root)) {
      return undefined;
    }
    if (known.steps.has(root)) {
      return { message: `"${root}" is a step: write steps.${root}.result`, severity: 'error' };
    }
    return {
      message: `"${root}" is not an input, computed field, state field or loop variable, so it evaluates to nothing`,
      severity: 'warning',
    };
  }
  if (name === undefined) return undefined;
  switch (root) {
    case 'steps':
      if (!known.steps.has(name)) return { message: `steps.${name}: no step has the id "${name}"`, severity: 'error' };
      if (!visibility.done.has(name)) {
        return {
          message: `steps.${name} is not available here: step "${name}" has not run at this point (it comes later, encloses this one, or runs in parallel)`,
          severity: 'error',
        };
      }
      return undefined;
    case 'inputs':
      return known.inputs.has(name)
        ? undefined
        : { message: `inputs.${name} is not declared under inputs`, severity: 'error' };
    case 'computed':
      return known.computed.has(name)
        ? undefined
        : { message: `computed.${name} is not declared under computed`, severity: 'error' };
    case 'env':
      return known.env.has(name)
        ? undefined
        : { message: `env.${name} is not readable: list ${name} under env: to allow it`, severity: 'error' };
    case 'state':
      return known.state.has(name)
        ? undefined
        : {
            message: `state.${name} is not in state or state_schema, and no step writes it`,
            severity: 'warning',
          };
    default:
      return undefined;
  }
}

/** The top-level key and the `raw` key a state path declares (`raw.attempts` → raw, and attempts under raw). */
export function declareStatePath(path: string, state: Set<string>, raw: Set<string>): void {
  const [first, second] = path.split('.');
  if (first === undefined) return;
  state.add(first);
  if (first === RAW_TIER && second !== undefined) raw.add(second);
}
