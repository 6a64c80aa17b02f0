// Schema validation with located problems: zod issues in plain language, at the YAML node they are about, with did-you-mean hints.
import { z } from 'zod';
import { locate } from './yamlErrors.js';
import type { SourceProblem, YamlSource } from './yamlErrors.js';

/** Parses `value` with `schema`; every issue becomes a problem located in `source` (when given). */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  options: { file?: string | undefined; source?: YamlSource | undefined },
): { data: z.output<T>; problems: [] } | { data?: undefined; problems: SourceProblem[] } {
  const result = schema.safeParse(value, { error: messageForIssue });
  if (result.success) return { data: result.data, problems: [] };
  const problems = result.error.issues
    .flatMap((issue) => flattenIssue(issue, [], value, schema))
    .map(({ path, target, message }) => ({ location: locate(options.source, options.file, path, target), message }));
  return { problems };
}

interface FlatIssue {
  path: PropertyKey[];
  target: 'value' | 'key';
  message: string;
}

function flattenIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[], input: unknown, schema: z.ZodType): FlatIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_union': {
      // No branch at all: a discriminated union's unknown tag (its schema words the message), or an ambiguous match.
      if (issue.errors.length === 0) {
        return [
          {
            path,
            target: 'value',
            message: 'note' in issue && issue.note ? issue.message : 'matches more than one form',
          },
        ];
      }
      const merged = mergedTypeMessage(issue.errors, valueAt(input, path));
      if (merged) return [{ path, target: 'value', message: merged }];
      const branch = [...issue.errors].sort((a, b) => branchScore(a) - branchScore(b) || depth(b) - depth(a))[0] ?? [];
      return branch.flatMap((inner) => flattenIssue(inner, path, input, schema));
    }
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        target: 'key',
        message: `unknown key ${JSON.stringify(key)}${suggestion(key, known)}`,
      }));
    }
    case 'invalid_key':
      return [{ path, target: 'key', message: issue.issues.map((inner) => inner.message).join('; ') }];
    default:
      return [{ path, target: 'value', message: issue.message }];
  }
}

/** Prefers the union branch that got furthest: fewest issues (each unknown key counts), then the deepest. */
function branchScore(issues: z.core.$ZodIssue[]): number {
  return issues.reduce((sum, issue) => sum + (issue.code === 'unrecognized_keys' ? issue.keys.length : 1), 0);
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length));
}

/** `cache: yes` fails both `boolean` and `object` at the same place: say so in one message. */
function mergedTypeMessage(branches: z.core.$ZodIssue[][], received: unknown): string | undefined {
  const expected: string[] = [];
  for (const branch of branches) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (only?.code !== 'invalid_type' || only.path.length > 0) return undefined;
    expected.push(typeName(only.expected));
  }
  return `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(received)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

const typeNames: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true/false)',
  null: 'null',
};

function typeName(expected: string): string {
  return typeNames[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…"` : text;
}

/** Plain-language messages for zod's built-in issues; messages a schema sets itself are kept. */
export function messageForIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `missing: expected ${typeName(issue.expected)}`
        : `expected ${typeName(issue.expected)}, ${got}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}, ${got}`
        : `expected one of ${issue.values.map((value) => String(value)).join(', ')}, ${got}`;
    case 'too_small':
      if (issue.origin === 'string')
        return issue.minimum === 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} items`;
      return `expected a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, ${got}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `expected a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, ${got}`;
    case 'invalid_format':
      if (issue.format === 'url') return `expected an http(s) URL, ${got}`;
      if (issue.format === 'regex' && issue.pattern) return `expected text matching ${issue.pattern}, ${got}`;
      return `expected a valid ${issue.format}, ${got}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, ${got}`;
    default:
      return undefined;
  }
}

/** The keys a schema allows at `path` (objects' fields, or an enum-keyed record's keys), for did-you-mean hints. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let candidates: z.core.$ZodType[] = [schema];
  for (const segment of path) {
    candidates = candidates.flatMap(unwrap).flatMap((candidate): z.core.$ZodType[] => {
      if (candidate instanceof z.ZodObject) {
        const field = (candidate.shape as Record<string, z.core.$ZodType>)[String(segment)];
        return field ? [field] : [];
      }
      if (candidate instanceof z.ZodRecord) return [candidate.valueType];
      if (candidate instanceof z.ZodArray && typeof segment === 'number') return [candidate.element];
      return [];
    });
  }
  return candidates.flatMap(unwrap).flatMap((candidate) => {
    if (candidate instanceof z.ZodObject) return Object.keys(candidate.shape);
    if (candidate instanceof z.ZodRecord && candidate.keyType instanceof z.ZodEnum) {
      return candidate.keyType.options.map(String);
    }
    return [];
  });
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType[] {
  if (schema instanceof z.ZodUnion) return schema.options.flatMap(unwrap);
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault
  ) {
    return unwrap(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  return [schema];
}

function suggestion(key: string, known: string[]): string {
  let best: { name: string; distance: number } | undefined;
  for (const name of new Set(known)) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean "${best.name}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
