// Redaction for logs and events: values at configured paths, and under secret-looking keys, become "[redacted]".
import { ErrorCode, RetraceError } from './errors.js';

export const REDACTED = '[redacted]';
/** Stands in for an object that contains itself, so the copy can always be serialised. */
export const CIRCULAR = '[circular]';
/** Stands in for whatever lies deeper than the depth limit. */
export const TOO_DEEP = '[max depth]';

/**
 * Key names redacted at any depth. A key matches when, lower-cased and stripped of everything but
 * letters and digits, it is or ends with one of these: `X-Api-Key`, `clientSecret`, `db_password`
 * and `set-cookie` are caught, while `max_tokens` and `token_count` are not.
 */
export const DEFAULT_SECRET_KEYS: readonly string[] = [
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'api_key',
  'apikey',
  'authorization',
  'cookie',
  'cookies',
  'approval_token',
  'access_token',
  'refresh_token',
  'private_key',
  'credential',
  'credentials',
];

export interface RedactorOptions {
  /** Key names redacted at any depth; defaults to DEFAULT_SECRET_KEYS. `[]` redacts by path only. */
  secretKeys?: readonly string[];
  /** Nesting deeper than this is replaced by TOO_DEEP (default 64). */
  maxDepth?: number;
  /** The replacement text (default REDACTED). */
  censor?: string;
}

/**
 * Returns a redacted copy. The input is never mutated; unchanged subtrees are shared with it, and a
 * value with nothing to redact (no secret, no cycle, not too deep) is returned as it is.
 */
export type Redactor = (value: unknown) => unknown;

const WILDCARD = '*';
const NO_STATES: readonly number[] = [];
const NO_PATH_HIT = { hit: false, next: NO_STATES } as const;
const SECRET_CACHE_LIMIT = 10_000;

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function compilePath(path: string): string[] {
  const segments = path.split('.');
  if (path.trim() === '' || segments.some((segment) => segment === '')) {
    throw new RetraceError(
      ErrorCode.config,
      `redaction path ${JSON.stringify(path)} is not a dotted path (e.g. headers.authorization, args.*.token)`,
    );
  }
  return segments;
}

/** Arrays, plain objects and errors are walked; other instances (Date, Map, Buffer, …) are kept as they are. */
type Walkable = unknown[] | Error | Record<string, unknown>;

function isWalkable(value: object): value is Walkable {
  if (Array.isArray(value) || value instanceof Error) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** An error's own fields, including the non-enumerable ones that make it useful in a log. */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  if (error.stack !== undefined) fields['stack'] = error.stack;
  if (Object.hasOwn(error, 'cause')) fields['cause'] = error.cause;
  for (const [key, value] of Object.entries(error)) setOwn(fields, key, value);
  return fields;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment to `__proto__` would change the copy's prototype instead of setting a field.
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Creates a redactor. `paths` are dotted from the value's root, with `*` for any one key or array
 * index: `headers.authorization`, `args.*.token`, `items.0.secret`. Null and undefined values are left
 * alone (they hide nothing). Throws a RetraceError for a malformed path.
 */
export function createRedactor(paths: readonly string[] = [], options: RedactorOptions = {}): Redactor {
  const compiledPaths = paths.map(compilePath);
  const secretKeys = [...new Set((options.secretKeys ?? DEFAULT_SECRET_KEYS).map(normalizeKey))].filter(
    (key) => key !== '',
  );
  const maxDepth = options.maxDepth ?? 64;
  const censor = options.censor ?? REDACTED;
  // Log records repeat the same keys: remember each key's verdict instead of normalising it every time.
  const secretVerdicts = new Map<string, boolean>();

  const isSecretKey = (key: string): boolean => {
    if (secretKeys.length === 0) return false;
    let verdict = secretVerdicts.get(key);
    if (verdict === undefined) {
      const normalized = normalizeKey(key);
      verdict = secretKeys.some((secret) => normalized.endsWith(secret));
      if (secretVerdicts.size >= SECRET_CACHE_LIMIT) secretVerdicts.clear();
      secretVerdicts.set(key, verdict);
    }
    return verdict;
  };

  // Path progress is a flat list of (path index, next segment index) pairs.
  const rootStates: readonly number[] = compiledPaths.flatMap((_, pathIndex) => [pathIndex, 0]);

  const advance = (states: readonly number[], key: string): { hit: boolean; next: readonly number[] } => {
    if (states.length === 0) return NO_PATH_HIT;
    let hit = false;
    const next: number[] = [];
    for (let i = 0; i < states.length; i += 2) {
      const pathIndex = states[i] ?? 0;
      const segmentIndex = states[i + 1] ?? 0;
      const segments = compiledPaths[pathIndex] ?? [];
      const segment = segments[segmentIndex];
      if (segment !== WILDCARD && segment !== key) continue;
      if (segmentIndex + 1 === segments.length) hit = true;
      else next.push(pathIndex, segmentIndex + 1);
    }
    return { hit, next: next.length === 0 ? NO_STATES : next };
  };

  /** The replacement of one child, or the child itself when nothing in it changes. */
  const redactChild = (
    child: unknown,
    key: string,
    keyIsName: boolean,
    states: readonly number[],
    depth: number,
    ancestors: Set<object>,
  ): unknown => {
    if (child === null || child === undefined) return child;
    const { hit, next } = advance(states, key);
    if (hit || (keyIsName && isSecretKey(key))) return censor;
    if (typeof child === 'object' && isWalkable(child)) return walk(child, depth + 1, next, ancestors);
    return child;
  };

  const walkArray = (array: unknown[], depth: number, states: readonly number[], ancestors: Set<object>): unknown => {
    let copy: unknown[] | undefined;
    for (let index = 0; index < array.length; index++) {
      const child = array[index];
      // Indexes are only spelled out when a path could be looking at them.
      const key = states.length === 0 ? '' : String(index);
      const replacement = redactChild(child, key, false, states, depth, ancestors);
      if (replacement !== child && copy === undefined) copy = array.slice(0, index);
      if (copy !== undefined) copy.push(replacement);
    }
    return copy ?? array;
  };

  const walkRecord = (
    record: Record<string, unknown>,
    depth: number,
    states: readonly number[],
    ancestors: Set<object>,
  ): Record<string, unknown> | undefined => {
    const keys = Object.keys(record);
    let copy: Record<string, unknown> | undefined;
    for (let position = 0; position < keys.length; position++) {
      const key = keys[position] ?? '';
      const child = record[key];
      const replacement = redactChild(child, key, true, states, depth, ancestors);
      if (replacement !== child && copy === undefined) {
        copy = {};
        for (const earlierKey of keys.slice(0, position)) setOwn(copy, earlierKey, record[earlierKey]);
      }
      if (copy !== undefined) setOwn(copy, key, replacement);
    }
    return copy;
  };

  const walk = (value: Walkable, depth: number, states: readonly number[], ancestors: Set<object>): unknown => {
    if (ancestors.has(value)) return CIRCULAR;
    if (depth >= maxDepth) return TOO_DEEP;
    ancestors.add(value);
    let result: unknown;
    if (Array.isArray(value)) result = walkArray(value, depth, states, ancestors);
    else if (value instanceof Error) result = walkRecord(errorFields(value), depth, states, ancestors) ?? value;
    else result = walkRecord(value, depth, states, ancestors) ?? value;
    ancestors.delete(value);
    return result;
  };

  return (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null || !isWalkable(value)) return value;
    return walk(value, 0, rootStates, new Set());
  };
}

/** Redacts the default secret keys only; for callers without configured paths. */
export const redactSecrets: Redactor = createRedactor();
