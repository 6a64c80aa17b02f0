// What expressions see: `inputs`, `state`, `computed`, `steps.<id>`, `error`, `env`, loop variables, and bare names for short.

/** What a finished step left for later expressions. */
export interface StepRecord {
  status: 'succeeded' | 'failed' | 'skipped' | 'fallback';
  result?: unknown;
  error?: ErrorInfo;
}

/** `error` in expressions: the failure being handled. */
export interface ErrorInfo {
  message: string;
  /** The failure's kind (`timeout`, `exit_code`, `unavailable`, …) when known. */
  type?: string;
  step_id?: string;
  attempt?: number;
  [field: string]: unknown;
}

export interface WorkflowScope {
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  computed: Record<string, unknown>;
  steps: Record<string, StepRecord>;
  error?: ErrorInfo;
  /** Only the variables the workflow's `env:` allows. */
  env: Record<string, string>;
  /** Loop variables (`item`, `index`) and `result`/`attempt` in a poll's `until`. */
  locals?: Record<string, unknown>;
}

export const SCOPE_ROOTS = ['inputs', 'state', 'computed', 'steps', 'error', 'env'] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];

export function isScopeRoot(name: string): name is ScopeRoot {
  return (SCOPE_ROOTS as readonly string[]).includes(name);
}

/** The seed's state keeps its fields under `raw`; bare names find them there too (`attempts` is `state.raw.attempts`). */
export const RAW_TIER = 'raw';

/**
 * The document expressions evaluate against. A bare name is looked up, first found wins: the roots, loop
 * variables, `inputs`, `computed`, `state`, then `state.raw` — so `{{ attempts < max_attempts }}` reads as the
 * seed means it. Only own properties are copied; jsonata itself never reads inherited ones.
 */
export function scopeDocument(scope: WorkflowScope): Record<string, unknown> {
  const document: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const layers: unknown[] = [scope.state[RAW_TIER], scope.state, scope.computed, scope.inputs, scope.locals];
  for (const layer of layers) {
    if (typeof layer !== 'object' || layer === null || Array.isArray(layer)) continue;
    for (const key of Object.keys(layer)) document[key] = (layer as Record<string, unknown>)[key];
  }
  document.inputs = scope.inputs;
  document.state = scope.state;
  document.computed = scope.computed;
  document.steps = scope.steps;
  document.env = scope.env;
  if (scope.error !== undefined) document.error = scope.error;
  else delete document.error;
  return document;
}

/** The value at a dotted path (`['state', 'raw', 'x']`) of the scope, own properties only. */
export function valueAtPath(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const name of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
