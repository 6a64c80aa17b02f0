// Rule matching: compiles classification rules once and finds the first that matches a failure's evidence.
import type { ClassificationRule, FieldMatch } from './classificationRule.js';
import { pathSegments, valueAt } from './fieldPath.js';
import type { RawFailure } from './failure.js';

interface CompiledField {
  segments: string[];
  equals: string | undefined;
  /** null: the pattern is invalid, so the rule never matches. */
  matches: RegExp | null | undefined;
  exists: boolean | undefined;
}

export interface CompiledRule {
  rule: ClassificationRule;
  /** A rule with an invalid pattern never matches; `validateRules` says why. */
  broken: boolean;
  sources: ReadonlySet<string> | undefined;
  codes: ReadonlySet<number> | undefined;
  statuses: ReadonlySet<number> | undefined;
  reasons: ReadonlySet<string> | undefined;
  message: RegExp | undefined;
  field: CompiledField | undefined;
  retryAfterSegments: string[] | undefined;
  suggestionSegments: string[] | undefined;
}

/** What one failure offers the rules, computed once per classification. */
export interface Evidence {
  raw: RawFailure;
  /** The message or result text, cut to MAX_MATCHED_CHARS. */
  text: string;
  /** The JSON-RPC code: an rpc error's own, or the one a tool result's `MCP error -32602:` text names. */
  code: number | undefined;
  status: number | undefined;
  reason: string | undefined;
  /** Where `field` paths look: structuredContent (or JSON text) of a tool, `data` of an rpc error, `{headers}` of HTTP. */
  fields: Record<string, unknown> | undefined;
}

function toSet<T>(value: T | T[] | undefined): ReadonlySet<T> | undefined {
  if (value === undefined) return undefined;
  return new Set(Array.isArray(value) ? value : [value]);
}

function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, 'i');
  } catch {
    return null;
  }
}

function compileField(field: FieldMatch): CompiledField {
  return {
    segments: pathSegments(field.path),
    equals: field.equals === undefined ? undefined : String(field.equals),
    matches: field.matches === undefined ? undefined : compilePattern(field.matches),
    exists: field.exists,
  };
}

function compileRule(rule: ClassificationRule): CompiledRule {
  const { when } = rule;
  const message = when.message === undefined ? undefined : compilePattern(when.message);
  const field = when.field === undefined ? undefined : compileField(when.field);
  return {
    rule,
    broken: message === null || field?.matches === null,
    sources: toSet(when.source),
    codes: toSet(when.code),
    statuses: toSet(when.status),
    reasons: toSet(when.reason),
    message: message ?? undefined,
    field,
    retryAfterSegments: rule.retry_after_field === undefined ? undefined : pathSegments(rule.retry_after_field),
    suggestionSegments: rule.suggestions_field === undefined ? undefined : pathSegments(rule.suggestions_field),
  };
}

// Rule sets are reused across many calls: compile each rule once, keyed by identity (rules are treated
// as immutable once used), and remember each list so a call costs one lookup, not one per rule.
const compiledRules = new WeakMap<ClassificationRule, CompiledRule>();
const compiledLists = new WeakMap<readonly ClassificationRule[], CompiledRule[]>();

export function compiled(rule: ClassificationRule): CompiledRule {
  let entry = compiledRules.get(rule);
  if (entry === undefined) {
    entry = compileRule(rule);
    compiledRules.set(rule, entry);
  }
  return entry;
}

function compiledList(rules: readonly ClassificationRule[]): CompiledRule[] {
  const cached = compiledLists.get(rules);
  // A caller may have changed the array since: reuse only if it still holds the same rules.
  if (cached !== undefined && cached.length === rules.length && cached.every((entry, i) => entry.rule === rules[i])) {
    return cached;
  }
  const list = rules.map(compiled);
  compiledLists.set(rules, list);
  return list;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function fieldMatches(field: CompiledField, fields: Record<string, unknown> | undefined): boolean {
  if (fields === undefined) return false;
  const value = valueAt(fields, field.segments);
  const present = value !== undefined && value !== null;
  if (field.exists !== undefined) {
    if (present !== field.exists) return false;
  } else if (!present) {
    return false;
  }
  if (field.equals !== undefined && !(isScalar(value) && String(value) === field.equals)) return false;
  if (field.matches && !(isScalar(value) && field.matches.test(String(value)))) return false;
  return true;
}

function ruleMatches(rule: CompiledRule, evidence: Evidence): boolean {
  if (rule.broken) return false;
  if (rule.sources && !rule.sources.has(evidence.raw.source)) return false;
  if (rule.codes && (evidence.code === undefined || !rule.codes.has(evidence.code))) return false;
  if (rule.statuses && (evidence.status === undefined || !rule.statuses.has(evidence.status))) return false;
  if (rule.reasons && (evidence.reason === undefined || !rule.reasons.has(evidence.reason))) return false;
  if (rule.message && !rule.message.test(evidence.text)) return false;
  if (rule.field && !fieldMatches(rule.field, evidence.fields)) return false;
  return true;
}

function ruleName(rule: ClassificationRule, index: number, isToolRule: boolean): string {
  if (!isToolRule) return rule.name ?? `default:#${index}`;
  const name = rule.name ?? `#${index}`;
  return name.startsWith('tool:') ? name : `tool:${name}`;
}

export function findRule(
  rules: readonly ClassificationRule[],
  evidence: Evidence,
  isToolRule: boolean,
): { entry: CompiledRule; name: string } | undefined {
  if (rules.length === 0) return undefined;
  const list = compiledList(rules);
  for (let index = 0; index < list.length; index++) {
    const entry = list[index];
    if (entry !== undefined && ruleMatches(entry, evidence)) {
      return { entry, name: ruleName(entry.rule, index, isToolRule) };
    }
  }
  return undefined;
}
