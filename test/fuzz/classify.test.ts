// Fuzz: random failure evidence, tool results and classification rules into the classifier and partial detection.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { systemClock, systemRandom } from '../../src/common/clock.js';
import { toolErrorFailure } from '../../src/actors/mcpFailure.js';
import { createEventWriter } from '../../src/events/eventWriter.js';
import { ClassificationRule } from '../../src/policy/classificationRule.js';
import { classifyFailure } from '../../src/policy/classify.js';
import { detectPartial } from '../../src/policy/detectPartial.js';
import { ClassifiedFailure, FailureKind, RawFailure, classOfKind } from '../../src/policy/failure.js';
import { validateRules } from '../../src/policy/validateRules.js';
import { fuzzParameters, fuzzTimeout } from './fuzzSupport.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

/** Text that looks like what servers say, with numbers and waits in it, or anything at all. */
const text = fc.oneof(
  fc.constantFrom(
    'MCP error -32602: Invalid params',
    'MCP error -32001: Request timed out',
    'rate limit exceeded, retry after 3 seconds',
    'try again in 500ms',
    'Retry-After: 99999999999999999999999999999999999999',
    `retry after ${'9'.repeat(400)} seconds`,
    'deadlock detected',
    'permission denied',
    'not found',
    'output validation error: result does not match the output schema',
    '{"error":{"type":"rate_limit","retry_after":2}}',
    '{"retry_after_ms": 1e308}',
    '{"retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}',
    '',
    '   ',
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ maxLength: 60, unit: 'binary' }),
  fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-32000, -32001, -32601, -32602, -32603, 400, 404, 408, 409, 423, 429, 500, 502, 503, 504),
);
/** Structured content: well-known fields with odd values, or any JSON object. */
const fields = fc.oneof(
  fc.record(
    {
      retry_after: fc.oneof(number, text),
      retry_after_ms: fc.oneof(number, text),
      retryAfterMs: fc.oneof(number, text),
      error: fc.record(
        {
          type: text,
          message: text,
          retry_after: fc.oneof(number, text),
          suggestions: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }), text),
        },
        { requiredKeys: [] },
      ),
      suggestions: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
      partial: fc.oneof(fc.boolean(), text),
      status: text,
      warnings: fc.array(fc.oneof(text, number), { maxLength: 3 }),
      warning: fc.oneof(text, number),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
);
const headers = fc.oneof(
  fc.record(
    {
      'retry-after': fc.oneof(
        text,
        fc.constantFrom('5', '-1', '1e9', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT'),
      ),
      'x-ratelimit-reset': fc.oneof(text, number.map(String)),
      'ratelimit-reset': fc.oneof(text, number.map(String)),
      'x-ratelimit-reset-after': fc.oneof(text, number.map(String)),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
);

const toolResult: fc.Arbitrary<CallToolResult> = fc.record(
  {
    content: fc.array(
      fc.oneof(
        fc.record({ type: fc.constant('text' as const), text }),
        fc.record({ type: fc.constant('image' as const), data: fc.base64String(), mimeType: fc.constant('image/png') }),
      ),
      { maxLength: 3 },
    ),
    structuredContent: fields,
    isError: fc.boolean(),
    _meta: fc.record(
      { partial: fc.oneof(fc.boolean(), text, number), warning: fc.oneof(text, number) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['content'] },
) as fc.Arbitrary<CallToolResult>;

const rawFailure: fc.Arbitrary<RawFailure> = fc.oneof(
  fc.record(
    {
      source: fc.constant('rpc' as const),
      code: number,
      message: text,
      data: fc.oneof(fields, fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: ['source', 'code', 'message'] },
  ),
  toolResult.map((result) => toolErrorFailure({ ...result, isError: true })),
  fc.record({ source: fc.constant('http' as const), status: number, headers, message: text }),
  fc.record(
    {
      source: fc.constant('transport' as const),
      reason: fc.constantFrom('refused', 'reset', 'closed', 'exited', 'spawn_failed', 'other'),
      message: text,
      errno: fc.string({ maxLength: 10 }),
      exitCode: fc.option(fc.integer()),
      signal: fc.option(fc.string({ maxLength: 8 })),
      sent: fc.boolean(),
    },
    { requiredKeys: ['source', 'reason', 'message', 'sent'] },
  ),
  fc.record({ source: fc.constant('timeout' as const), timeoutMs: number, message: text }),
  fc.record({ source: fc.constant('circuit' as const), state: fc.constantFrom('open', 'halfOpen'), message: text }),
  fc.record({ source: fc.constant('cancelled' as const), message: text }),
  fc.record(
    { source: fc.constant('exception' as const), name: fc.string({ maxLength: 10 }), message: text, stack: text },
    { requiredKeys: ['source', 'name', 'message'] },
  ),
);

const path = fc.oneof(
  fc.constantFrom('error.type', 'retry_after', 'error.suggestions', 'headers.retry-after', 'a..b', '__proto__.x'),
  fc.string({ maxLength: 10 }),
);
const pattern = fc.oneof(
  fc.constantFrom('rate.?limit', '(', '[a-', '^$', '(a+)+$', '.*', 'timeout|deadline'),
  fc.string({ maxLength: 8 }),
);
const rule: fc.Arbitrary<ClassificationRule> = fc.record(
  {
    name: fc.string({ maxLength: 8 }),
    when: fc.record(
      {
        source: fc.constantFrom('rpc', 'tool', 'http', 'transport', 'timeout', 'circuit', 'cancelled', 'exception'),
        code: fc.oneof(
          fc.integer({ min: -33000, max: 600 }),
          fc.array(fc.integer({ min: -33000, max: 600 }), { maxLength: 3 }),
        ),
        status: fc.oneof(
          fc.integer({ min: 100, max: 599 }),
          fc.array(fc.integer({ min: 100, max: 599 }), { maxLength: 3 }),
        ),
        reason: fc.string({ maxLength: 8 }),
        message: pattern,
        field: fc.record(
          {
            path: path.filter((p) => p !== ''),
            equals: fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()),
            matches: pattern,
            exists: fc.boolean(),
          },
          { requiredKeys: ['path'] },
        ),
      },
      { requiredKeys: [] },
    ),
    kind: fc.constantFrom(...FailureKind.options),
    class: fc.constantFrom('transient', 'permanent', 'degraded'),
    retryable: fc.boolean(),
    retry_after_field: path,
    suggestions_field: path,
  },
  { requiredKeys: ['when', 'kind'] },
);

const writer = createEventWriter({ clock: systemClock, random: systemRandom });

describe('the classifier, fuzzed', () => {
  it(
    'classifies any evidence under any valid rules into a failure that fits its schema and can be recorded',
    () => {
      fc.assert(
        fc.property(rawFailure, fc.array(rule, { maxLength: 3 }), (raw, rules) => {
          expect(RawFailure.safeParse(raw).success, 'the generated evidence fits its schema').toBe(true);
          expect(ClassificationRule.array().safeParse(rules).success).toBe(true);
          validateRules(rules);
          const failure = classifyFailure(raw, rules, NOW);
          const parsed = ClassifiedFailure.safeParse(failure);
          expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
          expect(failure.message.trim()).not.toBe('');
          if (failure.retryAfterMs !== undefined) {
            expect(
              Number.isFinite(failure.retryAfterMs) && failure.retryAfterMs >= 0,
              String(failure.retryAfterMs),
            ).toBe(true);
          }
          // A rule without a class of its own gives the class of its kind.
          const own = rules.find((candidate) => failure.rule.endsWith(`:${candidate.name ?? ''}`) && candidate.class);
          if (failure.rule === 'default:unknown') expect(failure.class).toBe(classOfKind.unknown);
          if (
            !failure.rule.startsWith('default:') &&
            own === undefined &&
            rules.every((each) => each.class === undefined)
          )
            expect(failure.class).toBe(classOfKind[failure.kind]);
          // The same evidence is classified the same way (no hidden state between calls).
          expect(classifyFailure(raw, rules, NOW)).toEqual(failure);
          // What the classifier decides is recorded as-is: the attempt's failed event validates.
          writer.toEnvelope('run-fuzz', {
            type: 'toolcall.attempt.failed',
            callId: 'call-1',
            server: 'db',
            tool: 'query',
            at: NOW,
            n: 1,
            durationMs: 12,
            failure,
            decision: failure.retryable ? 'retry' : 'fail',
            reason: 'fuzz',
            probeToken: 'token-1',
          });
        }),
        fuzzParameters(2_000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'reads any successful tool result as complete or partial with a warning, never throwing',
    () => {
      fc.assert(
        fc.property(toolResult, (result) => {
          const partial = detectPartial(result);
          if (result.isError === true) expect(partial).toBeUndefined();
          if (partial === undefined) return;
          expect(partial.partial).toBe(true);
          expect(typeof partial.warning === 'string' && partial.warning.trim() !== '').toBe(true);
        }),
        fuzzParameters(3_000),
      );
    },
    fuzzTimeout(60_000),
  );

  it(
    'refuses no rule set with an exception: validateRules explains invalid patterns in words',
    () => {
      fc.assert(
        fc.property(fc.array(rule, { maxLength: 4 }), (rules) => {
          const messages = validateRules(rules, 'tools.db/query.classify');
          for (const message of messages) expect(message).toMatch(/^tools\.db\/query\.classify/);
        }),
        fuzzParameters(1_000),
      );
    },
    fuzzTimeout(60_000),
  );
});
