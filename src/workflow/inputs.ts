// A run's inputs: `--input k=v` text typed by the workflow's declarations, defaults filled in, every problem at once.
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { CompiledWorkflow } from './compiledWorkflow.js';
import { matchesType } from './compileWorkflow.js';

/** `k=v` pairs as given on the command line. */
export function parseInputPairs(pairs: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new RetraceError(ErrorCode.badArguments, `--input ${pair}: expected key=value`);
    values[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return values;
}

/**
 * The inputs of a run: text values are read by their declared type (a string stays as written, other types
 * are JSON: `count=3`, `flags=[1,2]`); given values that are not text must match their type already.
 */
export function resolveInputs(
  workflow: CompiledWorkflow,
  given: Readonly<Record<string, unknown>>,
  options: { fromText?: boolean; allowMissing?: boolean } = {},
): Record<string, unknown> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(workflow.inputs, name)) {
      const declared = Object.keys(workflow.inputs);
      problems.push(
        `unknown input "${name}" (${declared.length > 0 ? `declared: ${declared.join(', ')}` : 'the workflow declares none'})`,
      );
    }
  }
  for (const [name, input] of Object.entries(workflow.inputs)) {
    if (!Object.hasOwn(given, name)) {
      if (input.default !== undefined) values[name] = input.default;
      else if (input.required && !options.allowMissing) problems.push(`input "${name}" (${input.type}) is required`);
      continue;
    }
    let value = given[name];
    if (options.fromText && typeof value === 'string' && input.type !== 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        problems.push(`input "${name}": expected ${input.type}, got ${JSON.stringify(value)}`);
        continue;
      }
    }
    if (!matchesType(value, input.type)) {
      problems.push(`input "${name}": expected ${input.type}, got ${JSON.stringify(value)}`);
      continue;
    }
    values[name] = value;
  }
  if (problems.length > 0) throw new RetraceError(ErrorCode.badArguments, `${workflow.file}: ${problems.join('; ')}`);
  return values;
}
