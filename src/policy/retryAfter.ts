// Server-given waits: HTTP Retry-After (seconds or a date), rate-limit reset headers and duration strings, in ms.

/** A delta this large (about 31 years) is no delta: it is a Unix time in seconds. */
const EPOCH_SECONDS_THRESHOLD = 1e9;
/** And from here on, a Unix time in milliseconds. */
const EPOCH_MILLISECONDS_THRESHOLD = 1e12;

const plainNumber = /^\d+(?:\.\d+)?$/;
/** Go-style durations, as OpenAI's `x-ratelimit-reset-requests: 6m0s` or `20ms`. */
const durationText = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/i;
const durationPart = /(\d+(?:\.\d+)?)(ms|s|m|h)/gi;
const durationUnitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// The three HTTP-date forms of RFC 9110 §5.6.7, plus ISO 8601 (some APIs send it). Date.parse alone is too
// lenient (it reads "foo 1" as the year 2001), so a value must look like one of these first.
const imfFixdate = /^[a-z]{3},\s*\d{1,2}\s+[a-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}:\d{2}\s+(?:gmt|utc|ut)$/i;
const rfc850Date = /^[a-z]{3,9},\s*\d{1,2}-[a-z]{3}-\d{2,4}\s+\d{1,2}:\d{2}:\d{2}\s+(?:gmt|utc|ut)$/i;
const asctimeDate = /^[a-z]{3}\s+[a-z]{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4}$/i;
const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function fromNumber(amount: number, nowMs: number): number | undefined {
  if (!Number.isFinite(amount) || amount < 0) return undefined;
  if (amount >= EPOCH_MILLISECONDS_THRESHOLD) return Math.max(0, Math.round(amount - nowMs));
  if (amount >= EPOCH_SECONDS_THRESHOLD) return Math.max(0, Math.round(amount * 1000 - nowMs));
  return Math.round(amount * 1000);
}

function fromDate(text: string, nowMs: number): number | undefined {
  let parsable: string | undefined;
  if (imfFixdate.test(text) || rfc850Date.test(text)) parsable = text;
  // asctime carries no zone but means GMT; JavaScript would read it as local time.
  else if (asctimeDate.test(text)) parsable = `${text} GMT`;
  else {
    const iso = isoDate.exec(text);
    if (iso) parsable = iso[1] === undefined ? `${text}Z` : text;
  }
  if (parsable === undefined) return undefined;
  const atMs = Date.parse(parsable);
  return Number.isNaN(atMs) ? undefined : Math.max(0, Math.round(atMs - nowMs));
}

function fromDuration(text: string): number | undefined {
  let totalMs = 0;
  for (const [, amount, unit] of text.matchAll(durationPart)) {
    totalMs += Number(amount) * (durationUnitMs[(unit ?? 's').toLowerCase()] ?? 1000);
  }
  return finiteWaitMs(totalMs);
}

/** A wait of so many digits that it is not a finite number of milliseconds is no usable wait. */
export function finiteWaitMs(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}

/**
 * Reads a server-given wait in milliseconds, relative to `nowMs` and never negative:
 * - a number of seconds (`Retry-After: 120`, `RateLimit-Reset: 30`, `retry_after: 1.5`);
 * - a Unix time in seconds or milliseconds (`X-RateLimit-Reset: 1735689600`), told apart by size;
 * - an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, RFC 850 and asctime forms) or an ISO 8601 time;
 * - a duration with units (`1m30s`, `500ms`).
 * Returns undefined for anything else, including negative numbers.
 */
export function parseRetryAfterMs(value: string | number | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return fromNumber(value, nowMs);
  const text = value.trim();
  if (text === '') return undefined;
  if (plainNumber.test(text)) return fromNumber(Number(text), nowMs);
  if (durationText.test(text)) return fromDuration(text);
  return fromDate(text, nowMs);
}

/** The `reset` parameter of the IETF draft's combined header: `RateLimit: limit=100, remaining=0, reset=50`. */
const combinedReset = /(?:^|[,;\s])reset=(\d+(?:\.\d+)?)/i;

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** Headers that give the wait in milliseconds (Azure OpenAI and others). */
const millisecondHeaders = ['retry-after-ms', 'x-ms-retry-after-ms'];
/** Headers that say when a rate-limit window resets, in the order they are trusted. */
const resetHeaders = ['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset'];
/** OpenAI-style per-budget resets: the wait is the longer of the two. */
const budgetResetHeaders = ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens'];

export interface RetryAfterHeaderOptions {
  /**
   * Whether rate-limit reset headers count (default true). APIs send them on every response, so
   * only a rate-limited response should be read as "wait until the reset".
   */
  includeResets?: boolean;
}

/**
 * The wait a response's headers ask for, in ms: `Retry-After` first (it is the server's explicit
 * instruction), then millisecond variants, then rate-limit reset headers. Header names match
 * case-insensitively. Returns undefined when no header gives a usable wait.
 */
export function retryAfterFromHeaders(
  headers: Record<string, string>,
  nowMs: number,
  options: RetryAfterHeaderOptions = {},
): number | undefined {
  const retryAfter = parseRetryAfterMs(headerValue(headers, 'retry-after'), nowMs);
  if (retryAfter !== undefined) return retryAfter;
  for (const name of millisecondHeaders) {
    const text = headerValue(headers, name)?.trim();
    const ms = text !== undefined && plainNumber.test(text) ? finiteWaitMs(Number(text)) : undefined;
    if (ms !== undefined) return ms;
  }
  if (options.includeResets === false) return undefined;
  for (const name of resetHeaders) {
    const reset = parseRetryAfterMs(headerValue(headers, name), nowMs);
    if (reset !== undefined) return reset;
  }
  const combined = headerValue(headers, 'ratelimit');
  const combinedMatch = combined === undefined ? null : combinedReset.exec(combined);
  if (combinedMatch?.[1] !== undefined) return fromNumber(Number(combinedMatch[1]), nowMs);
  let longestMs: number | undefined;
  for (const name of budgetResetHeaders) {
    const reset = parseRetryAfterMs(headerValue(headers, name), nowMs);
    if (reset !== undefined) longestMs = Math.max(longestMs ?? 0, reset);
  }
  return longestMs;
}
