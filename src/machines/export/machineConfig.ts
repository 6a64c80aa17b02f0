// A machine's config as JSON for Stately's editor: ids, states, on, after, always, invoke src, guards and actions by name.
import type { AnyStateMachine } from 'xstate';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The machine's `.config` with its implementations dropped: a function-valued field (context, input, output,
 * params, inline actions) is left out, a builtin action keeps its `type`. `createMachine()` of the result has
 * the same states and transitions; the names refer to the implementations `setup()` gave the original.
 */
export function machineConfigJson(machine: AnyStateMachine): { [key: string]: JsonValue } {
  const config = toJson(machine.config);
  if (config === undefined || config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error(`machine ${machine.id}: its config is not an object`);
  }
  return config;
}

function toJson(value: unknown): JsonValue | undefined {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'function') {
    // Builtins (assign, emit, raise, …) and guard helpers (not, and) carry a type; an anonymous function does not.
    const type = (value as { type?: unknown }).type;
    return typeof type === 'string' ? { type } : undefined;
  }
  if (Array.isArray(value)) {
    return value.map(toJson).filter((item): item is JsonValue => item !== undefined);
  }
  if (typeof value === 'object') {
    const result: { [key: string]: JsonValue } = {};
    for (const [key, field] of Object.entries(value)) {
      const json = toJson(field);
      if (json !== undefined) result[key] = json;
    }
    return result;
  }
  return undefined;
}
