// The failure classifier: raw evidence of a failed attempt in, a classified failure out, by the first matching rule.
import type { ClassificationRule } from './classificationRule.js';
import { OUTPUT_VALIDATION_PATTERN, defaultRules } from './defaultRules.js';
import { classOfKind, type ClassifiedFailure, type RawFailure } from './failure.js';
import { valueAt } from './fieldPath.js';
import { finiteWaitMs, parseRetryAfterMs, retryAfterFromHeaders } from './retryAfter.js';
import { compiled, findRule, type CompiledRule, type Evidence } from './ruleMatcher.js';

/** Text beyond this is not read by message patterns: classification must stay cheap on huge tool outputs. */
const MAX_MATCHED_CHARS = 8192;
/** Tool text longer than this is not parsed as JSON looking for structured fields. */
const MAX_PARSED_CHARS = 65_536;

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** `message` unless it is blank (empty or only whitespace), else `fallback`. */
function unlessBlank(message: string, fallback: string): string {
  return message.trim() === '' ? fallback : message;
}

/** A human sentence for any failure: its own message, or a description when it came without one (or a blank one). */
export function messageOf(raw: RawFailure): string {
  switch (raw.source) {
    case 'rpc':
      return unlessBlank(raw.message, `JSON-RPC error ${raw.code}`);
    case 'tool': {
      const text = raw.text.trim();
      if (text) return text;
      const fromStructure = [['error', 'message'], ['message'], ['error']]
        .map((segments) => valueAt(raw.structuredContent, segments))
        .find((value): value is string => typeof value === 'string' && value.trim() !== '');
      return fromStructure ?? 'the tool reported an error without a message';
    }
    case 'http':
      return unlessBlank(raw.message, `HTTP ${raw.status}`);
    case 'transport':
      return unlessBlank(raw.message, `connection ${raw.reason}`);
    case 'timeout':
      return unlessBlank(raw.message, `no answer within ${raw.timeoutMs} ms`);
    case 'circuit':
      return unlessBlank(raw.message, `circuit ${raw.state}`);
    case 'cancelled':
      return unlessBlank(raw.message, 'cancelled');
    case 'exception':
      return unlessBlank(raw.message, unlessBlank(raw.name, 'an exception without a message'));
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
  return finiteWaitMs(Number(match[1]) * (textUnitMs[key] ?? 1000));
}

/**
 * The server's requested wait, from the most explicit evidence to the least: the rule's
 * `retry_after_field` (seconds), HTTP headers (Retry-After on any status; reset headers only for a
 * rate limit, since APIs send them on every response), well-known fields, then the text.
 */
function retryAfterOf(rule: CompiledRule, evidence: Evidence, isRateLimit: boolean, nowMs: number): number | undefined {
  const { raw, fields } = evidence;
  // The breaker knows when it turns half-open: a refused call waits that long, not its whole cool-down.
  if (raw.source === 'circuit') return raw.retryInMs;
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
