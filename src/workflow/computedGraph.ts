// Computed fields: their dependency graph in topological order, which fields a change touches, and their evaluation with traces.
import type { SourceLocation } from '../common/errors.js';
import type { CompiledExpression, EvaluationContext } from './expression.js';
import { isScopeRoot, scopeDocument, valueAtPath } from './scope.js';
import type { WorkflowScope } from './scope.js';

export interface ComputedFieldNode {
  name: string;
  /** Canonical dotted paths: `state.raw.x`, `inputs.y`, `computed.z`. */
  dependencies: string[];
  /** As written in `from`. */
  from: string[];
  transform: CompiledExpression;
  hasFallback: boolean;
  fallback?: unknown;
  location: SourceLocation;
}

export interface ComputedGraph {
  fields: ReadonlyMap<string, ComputedFieldNode>;
  /** Every field, each after the computed fields it depends on. */
  order: readonly string[];
}

/** `raw.x` is a state path written without `state.`; `inputs.`, `state.`, `computed.` are kept. */
export function canonicalPath(path: string): string {
  const [first] = path.split('.');
  return first !== undefined && isScopeRoot(first) ? path : `state.${path}`;
}

/** The computed fields in dependency order, or the cycles that prevent one (each as the fields around it). */
export function orderComputed(fields: ReadonlyMap<string, { dependencies: readonly string[] }>): {
  order: string[];
  cycles: string[][];
} {
  const order: string[] = [];
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    const mark = state.get(name);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(name)), name]);
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dependency of computedDependencies(fields.get(name)?.dependencies ?? [])) {
      if (fields.has(dependency)) visit(dependency);
    }
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of fields.keys()) visit(name);
  return { order, cycles };
}

function computedDependencies(dependencies: readonly string[]): string[] {
  return dependencies.filter((path) => path.startsWith('computed.')).map((path) => path.split('.')[1] ?? '');
}

/** Whether a change at `changed` can alter the value at `dependency` (one contains the other). */
function overlaps(changed: string, dependency: string): boolean {
  return changed === dependency || dependency.startsWith(`${changed}.`) || changed.startsWith(`${dependency}.`);
}

/**
 * The computed fields to recompute, in order, after the paths `changed` changed (`state.raw.x`, or `raw.x`);
 * a recomputed field counts as changed for the fields after it.
 */
export function fieldsToRecompute(graph: ComputedGraph, changed: readonly string[]): string[] {
  const dirty = changed.map(canonicalPath);
  const result: string[] = [];
  for (const name of graph.order) {
    const field = graph.fields.get(name);
    if (!field) continue;
    if (field.dependencies.some((dependency) => dirty.some((path) => overlaps(path, dependency)))) {
      result.push(name);
      dirty.push(`computed.${name}`);
    }
  }
  return result;
}

/** One evaluation of a computed field, with seed 004's trace fields (`error` when the transform failed). */
export interface ComputedTrace {
  field: string;
  timestamp: string;
  trigger: string;
  input: unknown;
  output: unknown;
  duration_ms: number;
  dependencies: string[];
  error?: string;
}

export interface EvaluateComputedOptions extends EvaluationContext {
  /** Stamps traces; defaults to the system clock. */
  now?: () => number;
  /** A high-resolution timer for `duration_ms`; defaults to `performance.now`. */
  elapsed?: () => number;
  /** What caused the evaluation, e.g. `raw.batch_status update`; defaults to the changed paths. */
  trigger?: string;
}

/**
 * Recomputes the fields a change touches (all of them when `changed` is `'all'`, at the start of a run) and
 * returns the new `computed` values and one trace per evaluation. A failed transform takes its `fallback`
 * when it has one; otherwise the error (a `RetraceError` naming the expression) is thrown.
 */
export async function evaluateComputed(
  graph: ComputedGraph,
  scope: WorkflowScope,
  changed: readonly string[] | 'all',
  options: EvaluateComputedOptions = {},
): Promise<{ computed: Record<string, unknown>; traces: ComputedTrace[] }> {
  const names = changed === 'all' ? [...graph.order] : fieldsToRecompute(graph, changed);
  const now = options.now ?? (() => Date.now());
  const elapsed = options.elapsed ?? (() => performance.now());
  const trigger = options.trigger ?? (changed === 'all' ? 'initial' : `${changed.join(', ')} update`);
  const computed: Record<string, unknown> = { ...scope.computed };
  const traces: ComputedTrace[] = [];
  for (const name of names) {
    const field = graph.fields.get(name);
    if (!field) continue;
    const current: WorkflowScope = { ...scope, computed };
    const values = field.dependencies.map((path) => valueAtPath(current, path.split('.')));
    const input = values.length === 1 ? values[0] : values;
    const started = elapsed();
    const timestamp = new Date(now()).toISOString();
    let output: unknown;
    let error: string | undefined;
    try {
      output = await field.transform.evaluate(scopeDocument(current), { ...options, bindings: { input } });
    } catch (failure) {
      if (!field.hasFallback) throw failure;
      error = failure instanceof Error ? failure.message : String(failure);
      output = field.fallback;
    }
    computed[name] = output;
    const trace: ComputedTrace = {
      field: `computed.${name}`,
      timestamp,
      trigger,
      input,
      output,
      duration_ms: Math.round((elapsed() - started) * 1000) / 1000,
      dependencies: [...field.from],
    };
    if (error !== undefined) trace.error = error;
    traces.push(trace);
  }
  return { computed, traces };
}
