// The failure classifier: raw evidence of a failed attempt in, a classified failure out, by the first matching rule.
import type { ClassificationRule, FieldMatch } from './classificationRule.js';
import { OUTPUT_VALIDATION_PATTERN, defaultRules } from './defaultRules.js';
import { classOfKind, type ClassifiedFailure, type RawFailure } from './failure.js';
import { parseRetryAfterMs, retryAfterFromHeaders } from './retryAfter.js';

type Source = RawFailure['source'];

/** Text beyond this is not read by message patterns: classification must stay cheap on huge tool outputs. */
const MAX_MATCHED_CHARS = 8192;
/** Tool text longer than this is not parsed as JSON looking for structured fields. */
const MAX_PARSED_CHARS = 65_536;

const transportReasons = ['refused', 'reset', 'closed', 'exited', 'spawn_failed', 'other'];

/** `MCP error -32602: …`: the SDK's wording of a JSON-RPC error, also inside `isError` tool results. */
const mcpErrorPrefix = /^\s*MCP error (-?\d+):/;
/** `retry after 3 seconds`, `Retry-After: 5`, `try again in 500ms`; a date after it is not a number of seconds. */
const retryAfterInText =
  /\b(?:retry|try again)[\s-]*(?:after|in)\s*:?\s*(\d+(?:\.\d+)?)(?![\d:/-]|\.\d)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b/i;
const outputValidation = new RegExp(OUTPUT_VALIDATION_PATTERN, 'i');

const retryAfterSecondsFields = [['retry_after'], ['retryAfter'], ['error', 'retry_after'], ['error', 'retryAfter']];
const retryAfterMsFields = [
  ['retry_after_ms'],
  ['retryAfterMs'],
  ['error', 'retry_after_ms'],
  ['error', 'retryAfterMs'],
];
const suggestionFields = [['error', 'suggestions'], ['suggestions']];
/** Keys under which a suggestion object keeps its text. */
const suggestionTextKeys = ['suggestion', 'suggested_fix', 'fix', 'message', 'text', 'description', 'title'];

interface CompiledField {
  segments: string[];
  equals: string | undefined;
  /** null: the pattern is invalid, so the rule never matches. */
  matches: RegExp | null | undefined;
  exists: boolean | undefined;
}

interface CompiledRule {
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
interface Evidence {
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

function pathSegments(path: string): string[] {
  return path.split('.');
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

function compiled(rule: ClassificationRule): CompiledRule {
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a dotted path through own properties only (no prototype walking: `__proto__.x` finds nothing). */
function valueAt(root: unknown, segments: readonly string[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || trimmed.length > MAX_PARSED_CHARS) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A human sentence for any failure: its own message, or a description when it came without one. */
export function messageOf(raw: RawFailure): string {
  switch (raw.source) {
    case 'rpc':
      return raw.message || `JSON-RPC error ${raw.code}`;
    case 'tool': {
      const text = raw.text.trim();
      if (text) return text;
      const fromStructure = [['error', 'message'], ['message'], ['error']]
        .map((segments) => valueAt(raw.structuredContent, segments))
        .find((value): value is string => typeof value === 'string' && value !== '');
      return fromStructure ?? 'the tool reported an error without a message';
    }
    case 'http':
      return raw.message || `HTTP ${raw.status}`;
    case 'transport':
      return raw.message || `connection ${raw.reason}`;
    case 'timeout':
      return raw.message || `no answer within ${raw.timeoutMs} ms`;
    case 'circuit':
      return raw.message || `circuit ${raw.state}`;
    case 'cancelled':
      return raw.message || 'cancelled';
    case 'exception':
      return raw.message || raw.name;
  }
}

function evidenceOf(raw: RawFailure): Evidence {
  const message = messageOf(raw);
  const evidence: Evidence = {
    raw,
    text: message.length > MAX_MATCHED_CHARS ? message.slice(0, MAX_MATCHED_CHARS) : message,
    code: undefined,
    status: undefined,
    reason: undefined,
    fields: undefined,
  };
  switch (raw.source) {
    case 'rpc':
      evidence.code = raw.code;
      evidence.fields = isRecord(raw.data) ? raw.data : undefined;
      break;
    case 'tool': {
      const prefix = mcpErrorPrefix.exec(raw.text);
      evidence.code = prefix?.[1] === undefined ? undefined : Number(prefix[1]);
      evidence.fields = raw.structuredContent ?? parseJsonObject(raw.text);
      break;
    }
    case 'http':
      evidence.status = raw.status;
      evidence.fields = { headers: raw.headers };
      break;
    case 'transport':
      evidence.reason = raw.reason;
      break;
    default:
      break;
  }
  return evidence;
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

function secondsFieldMs(value: unknown, nowMs: number): number | undefined {
  return typeof value === 'number' || typeof value === 'string' ? parseRetryAfterMs(value, nowMs) : undefined;
}

function millisecondsFieldMs(value: unknown): number | undefined {
  const amount = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof amount === 'number' && Number.isFinite(amount) && amount >= 0 ? Math.round(amount) : undefined;
}

const textUnitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function textRetryAfterMs(text: string): number | undefined {
  const match = retryAfterInText.exec(text);
  if (match?.[1] === undefined) return undefined;
  const unit = (match[2] ?? 's').toLowerCase();
  // `ms`/`milliseconds` → ms, `m`/`min…` → minutes, `s`/`sec…` → seconds, `h…` → hours.
  const key = unit.startsWith('ms') || unit.startsWith('milli') ? 'ms' : unit.charAt(0);
  return Math.round(Number(match[1]) * (textUnitMs[key] ?? 1000));
}

/**
 * The server's requested wait, from the most explicit evidence to the least: the rule's
 * `retry_after_field` (seconds), HTTP headers (Retry-After on any status; reset headers only for a
 * rate limit, since APIs send them on every response), well-known fields, then the text.
 */
function retryAfterOf(rule: CompiledRule, evidence: Evidence, isRateLimit: boolean, nowMs: number): number | undefined {
  const { raw, fields } = evidence;
  if (rule.retryAfterSegments) {
    const fromRuleField = secondsFieldMs(valueAt(fields, rule.retryAfterSegments), nowMs);
    if (fromRuleField !== undefined) return fromRuleField;
  }
  if (raw.source === 'http') {
    const fromHeaders = retryAfterFromHeaders(raw.headers, nowMs, { includeResets: isRateLimit });
    if (fromHeaders !== undefined) return fromHeaders;
  } else if (fields !== undefined) {
    for (const segments of retryAfterMsFields) {
      const ms = millisecondsFieldMs(valueAt(fields, segments));
      if (ms !== undefined) return ms;
    }
    for (const segments of retryAfterSecondsFields) {
      const ms = secondsFieldMs(valueAt(fields, segments), nowMs);
      if (ms !== undefined) return ms;
    }
  }
  return textRetryAfterMs(evidence.text);
}

function suggestionText(item: unknown): string | undefined {
  if (typeof item === 'string') return item.trim() || undefined;
  if (typeof item === 'number' || typeof item === 'boolean') return String(item);
  if (!isRecord(item)) return undefined;
  for (const key of suggestionTextKeys) {
    const text = item[key];
    if (typeof text === 'string' && text.trim() !== '') return text.trim();
  }
  try {
    return JSON.stringify(item);
  } catch {
    return undefined;
  }
}

function suggestionsOf(rule: CompiledRule, fields: Record<string, unknown> | undefined): string[] | undefined {
  if (fields === undefined) return undefined;
  const candidates = rule.suggestionSegments ? [rule.suggestionSegments, ...suggestionFields] : suggestionFields;
  for (const segments of candidates) {
    const value = valueAt(fields, segments);
    if (value === undefined || value === null) continue;
    const items = Array.isArray(value) ? value : [value];
    const suggestions = items.map(suggestionText).filter((text): text is string => text !== undefined);
    if (suggestions.length > 0) return suggestions;
  }
  return undefined;
}

/**
 * Whether the request may have taken effect. Only evidence that the server never acted, or acted and
 * answered "failed", is a no: a timeout, a connection lost after sending, the SDK's -32000/-32001, a
 * gateway timeout, or a tool that ran and then broke its output schema are all "maybe".
 */
function maybeExecutedOf(evidence: Evidence): boolean {
  const { raw } = evidence;
  switch (raw.source) {
    case 'timeout':
      return true;
    case 'transport':
      return raw.sent;
    case 'rpc':
      return raw.code === -32000 || raw.code === -32001 || outputValidation.test(evidence.text);
    case 'tool':
      return outputValidation.test(evidence.text);
    case 'http':
      return raw.status === 504;
    default:
      return false;
  }
}

function ruleName(rule: ClassificationRule, index: number, isToolRule: boolean): string {
  if (!isToolRule) return rule.name ?? `default:#${index}`;
  const name = rule.name ?? `#${index}`;
  return name.startsWith('tool:') ? name : `tool:${name}`;
}

function findRule(
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

const unmatched = compiled({ name: 'default:unknown', when: {}, kind: 'unknown' });

/**
 * Classifies a failed attempt: the given (tool-specific) rules first, then the defaults; the first
 * rule that matches decides the kind. `nowMs` turns HTTP-dates and reset times into waits.
 */
export function classifyFailure(
  raw: RawFailure,
  rules: readonly ClassificationRule[],
  nowMs: number,
): ClassifiedFailure {
  const evidence = evidenceOf(raw);
  const found = findRule(rules, evidence, true) ??
    findRule(defaultRules, evidence, false) ?? { entry: unmatched, name: 'default:unknown' };
  const { rule } = found.entry;
  const failureClass = rule.class ?? classOfKind[rule.kind];
  const classified: ClassifiedFailure = {
    class: failureClass,
    kind: rule.kind,
    retryable: rule.retryable ?? failureClass === 'transient',
    maybeExecuted: maybeExecutedOf(evidence),
    message: messageOf(raw),
    rule: found.name,
    cause: raw,
  };
  const retryAfterMs = retryAfterOf(found.entry, evidence, rule.kind === 'rate_limit', nowMs);
  if (retryAfterMs !== undefined) classified.retryAfterMs = retryAfterMs;
  const suggestions = suggestionsOf(found.entry, evidence.fields);
  if (suggestions !== undefined) classified.suggestions = suggestions;
  return classified;
}

function patternProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'i');
    return undefined;
  } catch (error) {
    return `invalid regular expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function pathProblem(path: string): string | undefined {
  return pathSegments(path).some((segment) => segment === '')
    ? `${JSON.stringify(path)} is not a dotted path (empty segment)`
    : undefined;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The problems of a rule list, one line each and named by where they are
 * (`classify[2].when.message: invalid regular expression: …`), for the config loader to report.
 * Classification never throws on these: a rule with an invalid pattern simply never matches.
 */
export function validateRules(rules: readonly ClassificationRule[], at = 'classify'): string[] {
  const problems: string[] = [];
  rules.forEach((rule, index) => {
    const here = `${at}[${index}]`;
    const { when } = rule;
    const report = (path: string, problem: string | undefined): void => {
      if (problem !== undefined) problems.push(`${here}.${path}: ${problem}`);
    };
    if (when.message !== undefined) report('when.message', patternProblem(when.message));
    if (when.field !== undefined) {
      report('when.field.path', pathProblem(when.field.path));
      if (when.field.matches !== undefined) report('when.field.matches', patternProblem(when.field.matches));
    }
    if (rule.retry_after_field !== undefined) report('retry_after_field', pathProblem(rule.retry_after_field));
    if (rule.suggestions_field !== undefined) report('suggestions_field', pathProblem(rule.suggestions_field));
    for (const reason of asList(when.reason)) {
      if (!transportReasons.includes(reason)) {
        report(
          'when.reason',
          `unknown transport reason ${JSON.stringify(reason)} (expected ${transportReasons.join(', ')})`,
        );
      }
    }
    // A condition on evidence the named sources never carry makes the rule dead: say so.
    const sources = asList<Source>(when.source);
    const reaches = (...carriers: Source[]): boolean =>
      sources.length === 0 || sources.some((source) => carriers.includes(source));
    if (when.code !== undefined && !reaches('rpc', 'tool')) {
      report('when.code', 'JSON-RPC codes only come with rpc and tool failures, so this rule never matches');
    }
    if (when.status !== undefined && !reaches('http')) {
      report('when.status', 'HTTP statuses only come with http failures, so this rule never matches');
    }
    if (when.reason !== undefined && !reaches('transport')) {
      report('when.reason', 'reasons only come with transport failures, so this rule never matches');
    }
    if (when.field !== undefined && !reaches('rpc', 'tool', 'http')) {
      report('when.field', 'fields only come with tool, rpc and http failures, so this rule never matches');
    }
  });
  return problems;
}

/** The successful-result shape `detectPartial` reads; the SDK's `CallToolResult` fits it. */
export interface ToolResultLike {
  isError?: boolean | undefined;
  structuredContent?: Record<string, unknown> | undefined;
  _meta?: Record<string, unknown> | undefined;
}

function warningOf(result: ToolResultLike): string | undefined {
  const content = result.structuredContent;
  const warnings = content?.['warnings'];
  if (Array.isArray(warnings)) {
    const texts = warnings.filter((item): item is string => typeof item === 'string' && item !== '');
    if (texts.length > 0) return texts.join('; ');
  }
  const candidates = [
    content?.['warning'],
    content?.['partial_reason'],
    result._meta?.['partial'],
    result._meta?.['warning'],
  ];
  return candidates.find((value): value is string => typeof value === 'string' && value.trim() !== '');
}

/**
 * A successful result that says it is partial (`structuredContent.partial === true`,
 * `structuredContent.status === 'partial'`, or `_meta.partial`): seed 000's "return partial results
 * with warning". Returns the warning to attach, or undefined for a complete (or failed) result.
 */
export function detectPartial(result: ToolResultLike): { partial: true; warning: string } | undefined {
  if (result.isError === true) return undefined;
  const content = result.structuredContent;
  const status = content?.['status'];
  const metaPartial = result._meta?.['partial'];
  const flagged =
    content?.['partial'] === true ||
    (typeof status === 'string' && status.toLowerCase() === 'partial') ||
    metaPartial === true ||
    (typeof metaPartial === 'string' && metaPartial.trim() !== '');
  if (!flagged) return undefined;
  return { partial: true, warning: warningOf(result) ?? 'the tool returned a partial result' };
}
