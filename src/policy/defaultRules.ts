// The built-in classification rules: seed 000's three tables and the MCP SDK 1.32's error shapes, as data.
import type { ClassificationRule } from './classificationRule.js';
import type { FailureKind } from './failure.js';

/*
 * Order is meaning: the first rule that matches wins, so rules go from the most specific evidence
 * to the least. Failures retrace produced itself (timeout, circuit, cancellation) and transport and
 * HTTP facts come first; then the MCP SDK's own messages; then structured fields a tool chose to
 * send (`{error: {type: "rate_limit"}}`), which say what the tool meant; then words in the text;
 * then a fallback per source. A tool's own rules run before all of these.
 */

/** Sources whose message or text is worth reading for words. Exceptions are not: they are retrace's bugs. */
const textSources: Array<'tool' | 'rpc' | 'http'> = ['tool', 'rpc', 'http'];
/** Sources that carry structured evidence: a tool's `structuredContent` (or JSON text), a JSON-RPC error's `data`. */
const structuredSources: Array<'tool' | 'rpc'> = ['tool', 'rpc'];

/** `429` said as a status in prose: `HTTP 429`, `status code: 429`, `error 429`, or text starting with it. */
const statusInText = (status: string): string =>
  `\\b(?:http|status(?: code)?|error|code)[\\s:=]*${status}\\b|^${status}\\b`;

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

const runtimeRules: ClassificationRule[] = [
  { name: 'default:cancelled', when: { source: 'cancelled' }, kind: 'cancelled', retryable: false },
  // The breaker refused this tool: retrying it is pointless until the cool-down ends; the machine falls back.
  { name: 'default:circuit-open', when: { source: 'circuit' }, kind: 'circuit_open', retryable: false },
  { name: 'default:attempt-timeout', when: { source: 'timeout' }, kind: 'timeout' },
];

const transportRules: ClassificationRule[] = [
  // A stdio server whose binary is missing or not executable will not appear by retrying in a second:
  // the server is unavailable (a fallback tool on another server may still serve), but not retryable.
  {
    name: 'default:transport-spawn-failed',
    when: { source: 'transport', reason: 'spawn_failed' },
    kind: 'unavailable',
    retryable: false,
  },
  // A refused or reset connection, or a stdio server that exited: the next attempt reconnects (or respawns).
  {
    name: 'default:transport-connection-lost',
    when: { source: 'transport', reason: ['refused', 'reset', 'closed', 'exited'] },
    kind: 'unavailable',
  },
  { name: 'default:transport-other', when: { source: 'transport' }, kind: 'unavailable' },
];

const httpRules: ClassificationRule[] = [
  // Streamable HTTP answers 404 "Session not found" (and 400 for a missing session) after a server
  // restart: the connector starts a new session on the next attempt, so this is not a missing resource.
  {
    name: 'default:http-session-expired',
    when: {
      source: 'http',
      status: [400, 404],
      message: 'session not found|no valid session|session (?:id|expired|terminated)|not initialized',
    },
    kind: 'unavailable',
  },
  { name: 'default:http-429', when: { source: 'http', status: 429 }, kind: 'rate_limit' },
  // GitHub-style APIs say "rate limited" with a 403 and an exhausted budget.
  {
    name: 'default:http-403-rate-limit',
    when: { source: 'http', status: 403, field: { path: 'headers.x-ratelimit-remaining', equals: '0' } },
    kind: 'rate_limit',
  },
  { name: 'default:http-401', when: { source: 'http', status: 401 }, kind: 'auth' },
  { name: 'default:http-403', when: { source: 'http', status: 403 }, kind: 'permission' },
  { name: 'default:http-404', when: { source: 'http', status: [404, 410] }, kind: 'not_found' },
  { name: 'default:http-408', when: { source: 'http', status: 408 }, kind: 'timeout' },
  { name: 'default:http-409', when: { source: 'http', status: 409 }, kind: 'lock' },
  { name: 'default:http-400', when: { source: 'http', status: [400, 413, 414, 415, 422, 431] }, kind: 'invalid_input' },
  { name: 'default:http-501', when: { source: 'http', status: 501 }, kind: 'unimplemented' },
  { name: 'default:http-502-503-504', when: { source: 'http', status: [502, 503, 504] }, kind: 'unavailable' },
];

/**
 * The SDK's words for a tool whose output broke its declared schema (server side: `Output validation
 * error: …`; client side: `Structured content does not match the tool's output schema`). The tool ran.
 */
export const OUTPUT_VALIDATION_PATTERN =
  "output validation error|structured content does not match the tool's output schema|has an output schema but (?:no structured content was provided|did not return structured content)|failed to validate structured content";

/** The MCP SDK's own errors, by JSON-RPC code; tool results carry the code in their `MCP error -32602: …` text. */
const mcpRules: ClassificationRule[] = [
  { name: 'default:rpc-request-timeout', when: { source: ['rpc', 'tool'], code: -32001 }, kind: 'timeout' },
  {
    name: 'default:rpc-connection-closed',
    when: { source: ['rpc', 'tool'], code: -32000, message: 'connection closed' },
    kind: 'unavailable',
  },
  { name: 'default:rpc-method-not-found', when: { source: ['rpc', 'tool'], code: -32601 }, kind: 'unimplemented' },
  // `Tool nope not found` (and `disabled`) come back as -32602 like bad arguments, but another tool may serve.
  {
    name: 'default:mcp-unknown-tool',
    when: {
      source: ['rpc', 'tool'],
      message:
        '^(?:mcp error -?\\d+:\\s*)?tool\\s+\\S+\\s+(?:not found|disabled)$|\\bunknown tool\\b|\\bno such tool\\b',
    },
    kind: 'unimplemented',
  },
  // The tool ran but its output broke its own schema: a server bug that repeating will not fix.
  {
    name: 'default:mcp-output-validation',
    when: {
      source: ['rpc', 'tool'],
      message: OUTPUT_VALIDATION_PATTERN,
    },
    kind: 'unknown',
    class: 'permanent',
    retryable: false,
  },
  {
    name: 'default:mcp-input-validation',
    when: { source: ['rpc', 'tool'], message: 'input validation error|invalid arguments for tool' },
    kind: 'invalid_input',
  },
  { name: 'default:rpc-invalid-params', when: { source: ['rpc', 'tool'], code: -32602 }, kind: 'invalid_input' },
  // A request the server could not parse or accept is retrace's (or the caller's) mistake, not a passing state.
  {
    name: 'default:rpc-invalid-request',
    when: { source: ['rpc', 'tool'], code: [-32700, -32600] },
    kind: 'invalid_input',
  },
];

/**
 * Names a kind may go by in a structured `type` / `code` field: words separated by `_`, `-`, `.`, a
 * space or nothing (`rate_limit`, `RateLimit`, `RATE-LIMIT`), optionally followed by `error`/`exception`.
 */
function typeNames(...names: string[]): string {
  const alternatives = names.map((name) => name.split(' ').join('[\\s_.-]?'));
  return `^(?:${alternatives.join('|')})(?:[\\s_.-]?(?:error|exception|failure|failed))?$`;
}

/** What each kind is called in structured fields and in prose, in the order the kinds are tried. */
const vocabulary: Array<{ kind: FailureKind; typeNames: string; text: string }> = [
  {
    kind: 'unimplemented',
    typeNames: typeNames(
      'unimplemented',
      'not implemented',
      'method not found',
      'unknown tool',
      'tool not found',
      '501',
      '-32601',
    ),
    text: '\\bnot (?:yet )?implemented\\b|\\bunimplemented\\b',
  },
  {
    kind: 'auth',
    typeNames: typeNames(
      'auth',
      'authentication',
      'authentication (?:failed|required)',
      'unauthenticated',
      'not authenticated',
      'unauthori[sz]ed',
      'invalid (?:token|credentials|api key)',
      '(?:token|credentials) expired',
      'expired token',
      '401',
    ),
    text: [
      '\\bunauthori[sz]ed\\b',
      '\\bunauthenticated\\b',
      '\\bnot authenticated\\b',
      '\\bauthentication (?:failed|failure|error|required)\\b',
      '\\binvalid (?:api[ _-]?key|token|credentials|auth\\w*)\\b',
      '\\b(?:token|credentials?) (?:has |have )?(?:expired|been revoked)\\b',
      statusInText('401'),
    ].join('|'),
  },
  {
    kind: 'permission',
    typeNames: typeNames(
      'permission',
      'permission denied',
      'forbidden',
      'access denied',
      'insufficient (?:privileges|permissions|scope)',
      'not allowed',
      'eacces',
      'eperm',
      '403',
    ),
    // Not a bare "not allowed": `"foo" is not allowed` is how validators reject an unknown field.
    text: [
      '\\bforbidden\\b',
      '\\bpermission denied\\b',
      '\\baccess denied\\b',
      '\\binsufficient (?:privileges|permissions|scope)\\b',
      '\\bnot allowed to\\b',
      '\\b(?:operation|action|access|request|user|you are|caller is) (?:is )?not allowed\\b',
      statusInText('403'),
    ].join('|'),
  },
  {
    kind: 'constraint',
    typeNames: typeNames(
      'constraint',
      'constraint violat(?:ion|ed)',
      'integrity',
      'integrity violation',
      '(?:unique|foreign key|check|exclusion|not null) violation',
      'duplicate key',
      'acgme',
      'acgme violation',
      '(?:business )?rule violation',
    ),
    text: [
      '\\bconstraint violat\\w*',
      '\\bviolat\\w*\\b.{0,80}?\\bconstraint\\b',
      '\\bunique constraint\\b',
      '\\bforeign key constraint\\b',
      '\\bduplicate key\\b',
      '\\bintegrity\\b',
      '\\bacgme\\b',
    ].join('|'),
  },
  {
    kind: 'rate_limit',
    typeNames: typeNames(
      'rate limit(?:ed)?',
      'rate limit exceeded',
      'too many requests',
      'throttled',
      'throttling',
      'quota exceeded',
      '429',
    ),
    text: '\\brate[\\s_-]?limit\\w*|\\btoo many requests\\b|\\bthrottl\\w*|\\bquota exceeded\\b|' + statusInText('429'),
  },
  {
    kind: 'lock',
    typeNames: typeNames(
      'lock',
      'locked',
      'deadlock',
      'lock (?:wait )?timeout',
      'database locked',
      'serialization failure',
      'conflict',
      '(?:write|transaction|edit) conflict',
      'concurrent modification',
      'sqlite busy',
      '409',
    ),
    // "conflict" only with a word that makes it contention: a "scheduling conflict" is a domain answer.
    text: [
      '\\bdeadlock\\w*',
      '\\block wait\\b',
      '\\bdatabase (?:table )?is locked\\b',
      '\\bcould not obtain lock\\b',
      '\\bserializ\\w+ failure\\b',
      '\\bcould not serialize\\b',
      '\\block (?:timeout|not available|contention)\\b',
      '\\b(?:row|table|record|resource) (?:is )?locked\\b',
      '\\bsqlite_busy\\b',
      '\\b(?:write|transaction|update|version|edit|serialization|concurrent \\w+)\\s+conflicts?\\b',
      '\\bconflicting (?:transaction|update|write)s?\\b',
      '\\b409 conflict\\b',
    ].join('|'),
  },
  {
    kind: 'timeout',
    typeNames: typeNames(
      'timeout',
      'time out',
      'timed out',
      'deadline exceeded',
      'request timeout',
      'etimedout',
      '408',
    ),
    text: '\\btimed[\\s-]?out\\b|\\btime[\\s-]?out\\b|\\bdeadline exceeded\\b|\\betimedout\\b',
  },
  {
    kind: 'backend_down',
    typeNames: typeNames(
      'backend (?:down|unavailable|offline|unreachable)',
      'upstream (?:down|unavailable|unreachable)',
      'api down',
      'dependency (?:down|unavailable)',
    ),
    text: [
      '\\bbackend (?:api |service |server )?(?:is )?(?:down|unavailable|unreachable|offline)\\b',
      '\\bupstream (?:api |service |server )?(?:is )?(?:down|unavailable|unreachable)\\b',
      '\\bapi (?:is )?down\\b',
    ].join('|'),
  },
  {
    kind: 'worker_offline',
    typeNames: typeNames(
      'workers? (?:offline|unavailable|down)',
      'no workers?(?: available)?',
      'celery (?:worker )?(?:offline|unavailable)',
    ),
    text: '\\bworkers? (?:is |are )?(?:offline|down)\\b|\\bno (?:\\w+ )?workers?\\b|\\bcelery workers?\\b',
  },
  {
    kind: 'server_degraded',
    typeNames: typeNames('degraded', '(?:server|service) degraded', 'degraded mode'),
    text: '\\bdegraded\\b',
  },
  {
    kind: 'partial',
    typeNames: typeNames('partial', 'partial (?:data|results?|content|failure)'),
    text: '\\bpartial(?:ly)?\\b',
  },
  {
    kind: 'resource',
    typeNames: typeNames(
      'resource (?:exhausted|busy)',
      'temporary resource',
      'resource temporarily unavailable',
      'queue full',
      'busy',
      'overloaded',
      'out of capacity',
      'capacity exceeded',
      'try again',
      'eagain',
      'ebusy',
    ),
    text: [
      '\\bqueue (?:is )?full\\b',
      '\\bredis\\b.{0,40}\\bbusy\\b',
      '\\bresource temporarily\\b',
      '\\beagain\\b',
      '\\bebusy\\b',
      '\\bout of capacity\\b',
      '\\bat capacity\\b',
      '\\b(?:server|system|service) (?:is )?(?:busy|overloaded)\\b',
      '\\boverloaded\\b',
      '\\bresource[_\\s]exhausted\\b',
    ].join('|'),
  },
  {
    kind: 'unavailable',
    typeNames: typeNames(
      'unavailable',
      '(?:service|server) unavailable',
      'temporarily unavailable',
      'connection (?:refused|reset|error|closed)',
      'network error',
      'econnrefused',
      'econnreset',
      'restarting',
      'bad gateway',
      '50[234]',
    ),
    text: [
      '\\bservice unavailable\\b',
      '\\btemporarily unavailable\\b',
      '\\brestarting\\b',
      '\\beconnrefused\\b',
      '\\beconnreset\\b',
      '\\bhealth[\\s-]?check\\w*',
      '\\bconnection (?:refused|reset|closed|lost|aborted)\\b',
      '\\bbad gateway\\b',
      '\\bsocket hang up\\b',
      statusInText('50[234]'),
    ].join('|'),
  },
  {
    kind: 'not_found',
    typeNames: typeNames('not found', '[a-z]+ not found', 'no such [a-z]+', 'does not exist', '404'),
    text: "\\bnot found\\b|\\bdoes(?: not|n't) exist\\b|\\bno such\\b|\\bcould not find\\b|" + statusInText('404'),
  },
  {
    kind: 'invalid_input',
    typeNames: typeNames(
      'invalid',
      'invalid (?:input|arguments?|params|parameters?|request)',
      'validation',
      'validation failed',
      'bad request',
      'schema',
      'schema validation',
      '400',
      '422',
      '-32602',
    ),
    text: [
      '\\binvalid\\b',
      '\\bvalidation\\b',
      '\\bschema\\b',
      '\\bmust be\\b',
      '\\brequired\\b',
      '\\bmalformed\\b',
      '\\bbad request\\b',
      statusInText('4(?:00|22)'),
    ].join('|'),
  },
];

/** Fields where a tool names its failure, most authoritative first. */
const typeFields = ['error.type', 'error.code', 'type', 'code', 'error'];

const structuredRules: ClassificationRule[] = typeFields.flatMap((path) =>
  vocabulary.map(({ kind, typeNames: names }): ClassificationRule => ({
    name: `default:structured-${kind}@${path}`,
    when: { source: structuredSources, field: { path, matches: names } },
    kind,
  })),
);

const textRules: ClassificationRule[] = vocabulary.flatMap(({ kind, text }): ClassificationRule[] => {
  const rule: ClassificationRule = { name: `default:text-${kind}`, when: { source: textSources, message: text }, kind };
  // "try again later" says transient but not why; it loses to any service-unavailable wording above it.
  if (kind === 'unavailable') {
    return [
      rule,
      {
        name: 'default:text-try-again-later',
        when: { source: textSources, message: '\\btry again later\\b|\\bretry later\\b' },
        kind: 'resource',
      },
    ];
  }
  return [rule];
});

const fallbackRules: ClassificationRule[] = [
  // Outside the SDK's "Connection closed", -32000 is a server's generic error: still the brief's unavailable.
  { name: 'default:rpc-32000', when: { source: ['rpc', 'tool'], code: -32000 }, kind: 'unavailable' },
  { name: 'default:rpc-internal-error', when: { source: ['rpc', 'tool'], code: -32603 }, kind: 'unknown' },
  { name: 'default:http-500', when: { source: 'http', status: 500 }, kind: 'unknown' },
  { name: 'default:http-5xx', when: { source: 'http', status: range(501, 599) }, kind: 'unknown' },
  // A 4xx nobody named is still the server refusing this request: repeating it will not help.
  {
    name: 'default:http-4xx',
    when: { source: 'http', status: range(400, 499) },
    kind: 'unknown',
    class: 'permanent',
    retryable: false,
  },
  { name: 'default:exception', when: { source: 'exception' }, kind: 'unknown' },
  // Unknown failures are transient (classOfKind): a few bounded retries cost less than a wrong give-up.
  { name: 'default:unknown', when: {}, kind: 'unknown' },
];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The default rules, tried after a tool's own. Frozen: the classifier caches compiled rules by
 * identity, and these are shared by every call.
 */
export const defaultRules: readonly ClassificationRule[] = deepFreeze([
  ...runtimeRules,
  ...transportRules,
  ...httpRules,
  ...mcpRules,
  ...structuredRules,
  ...textRules,
  ...fallbackRules,
]);
