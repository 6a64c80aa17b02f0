// Tool arguments from the command line: `--arg k=v` pairs (typed by the tool's input schema) and `--args-json`.
import { ErrorCode, RetraceError } from '../common/errors.js';

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RetraceError(ErrorCode.badArguments, `${what}: invalid JSON (${(error as Error).message})`);
  }
}

/** The JSON-schema type of a property, if the tool declares one. */
function declaredType(schema: Record<string, unknown> | undefined, key: string): string | undefined {
  const properties = schema?.['properties'];
  if (typeof properties !== 'object' || properties === null) return undefined;
  const property = (properties as Record<string, unknown>)[key];
  if (typeof property !== 'object' || property === null) return undefined;
  const type = (property as Record<string, unknown>)['type'];
  return typeof type === 'string' ? type : undefined;
}

/**
 * Builds the arguments object. A `--arg` value is kept as a string when the schema says string (or says
 * nothing and it is not JSON); otherwise it is read as JSON, so `--arg count=3` passes the number 3.
 */
export function buildToolArgs(
  pairs: string[],
  argsJson: string | undefined,
  inputSchema?: Record<string, unknown>,
): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (argsJson !== undefined) {
    const parsed = parseJson(argsJson, '--args-json');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RetraceError(ErrorCode.badArguments, '--args-json: expected a JSON object');
    }
    args = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new RetraceError(ErrorCode.badArguments, `--arg ${pair}: expected key=value`);
    const key = pair.slice(0, equals);
    const raw = pair.slice(equals + 1);
    const type = declaredType(inputSchema, key);
    if (type === 'string') args[key] = raw;
    else if (type !== undefined) args[key] = parseJson(raw, `--arg ${key}`);
    else {
      try {
        args[key] = JSON.parse(raw) as unknown;
      } catch {
        args[key] = raw;
      }
    }
  }
  return args;
}
