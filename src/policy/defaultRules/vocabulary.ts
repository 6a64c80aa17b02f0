// What each failure kind is called: the names a structured `type`/`code` field may give it, and the words prose uses.
import type { FailureKind } from '../failure.js';

/** `429` said as a status in prose: `HTTP 429`, `status code: 429`, `error 429`, or text starting with it. */
const statusInText = (status: string): string =>
  `\\b(?:http|status(?: code)?|error|code)[\\s:=]*${status}\\b|^${status}\\b`;

/**
 * Names a kind may go by in a structured `type` / `code` field: words separated by `_`, `-`, `.`, a
 * space or nothing (`rate_limit`, `RateLimit`, `RATE-LIMIT`), optionally followed by `error`/`exception`.
 */
function typeNames(...names: string[]): string {
  const alternatives = names.map((name) => name.split(' ').join('[\\s_.-]?'));
  return `^(?:${alternatives.join('|')})(?:[\\s_.-]?(?:error|exception|failure|failed))?$`;
}

/**
 * One kind's names. `text` is absent when prose is not evidence enough for the kind: "partially applied"
 * in an error's words must not turn a failure into a degraded success, so `partial` needs a structured flag.
 */
export interface KindVocabulary {
  kind: FailureKind;
  typeNames: string;
  text?: string;
}

/** What each kind is called in structured fields and in prose, in the order the kinds are tried. */
export const vocabulary: KindVocabulary[] = [
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
    // No text: a failed result saying "partially applied" is a failure, not partial data (see KindVocabulary).
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
