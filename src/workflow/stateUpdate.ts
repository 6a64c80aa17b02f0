// State updates: set, increment, decrement, append, merge, delete at a dotted path, returning new state (the old is untouched).
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { StateOperation } from './workflowSchema.js';

/** The state after `operation` at `path`, and the value there afterwards (undefined after delete). */
export function applyStateOperation(
  state: Record<string, unknown>,
  path: readonly string[],
  operation: StateOperation,
  value: unknown,
): { state: Record<string, unknown>; value: unknown } {
  const [head, ...rest] = path;
  if (head === undefined) throw stateError(path, 'an empty path');
  const current = Object.hasOwn(state, head) ? state[head] : undefined;
  if (rest.length > 0) {
    if (current !== undefined && !isMapping(current)) {
      throw stateError(path, `${head} is ${describe(current)}, not a mapping`);
    }
    const inner = applyStateOperation((current as Record<string, unknown> | undefined) ?? {}, rest, operation, value);
    return { state: { ...state, [head]: inner.state }, value: inner.value };
  }
  const next = operate(current, operation, value, path);
  if (operation === 'delete') {
    const { [head]: _removed, ...kept } = state;
    return { state: kept, value: undefined };
  }
  return { state: { ...state, [head]: next }, value: next };
}

function operate(current: unknown, operation: StateOperation, value: unknown, path: readonly string[]): unknown {
  switch (operation) {
    case 'set':
      return value;
    case 'delete':
      return undefined;
    case 'increment':
    case 'decrement': {
      const by = value === undefined ? 1 : value;
      const base = current === undefined || current === null ? 0 : current;
      if (typeof base !== 'number') throw stateError(path, `cannot ${operation} ${describe(base)}`);
      if (typeof by !== 'number') throw stateError(path, `cannot ${operation} by ${describe(by)}`);
      return operation === 'increment' ? base + by : base - by;
    }
    case 'append': {
      if (current === undefined || current === null) return [value];
      if (!Array.isArray(current)) throw stateError(path, `cannot append to ${describe(current)}`);
      return [...(current as unknown[]), value];
    }
    case 'merge': {
      if (!isMapping(value)) throw stateError(path, `cannot merge ${describe(value)}: merge takes a mapping`);
      if (current === undefined || current === null) return { ...value };
      if (!isMapping(current)) throw stateError(path, `cannot merge into ${describe(current)}`);
      return { ...current, ...value };
    }
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function stateError(path: readonly string[], message: string): RetraceError {
  return new RetraceError(ErrorCode.workflow, `state.${path.join('.')}: ${message}`);
}
