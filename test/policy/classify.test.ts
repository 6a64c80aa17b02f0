import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { ClassificationRule } from '../../src/policy/classificationRule.js';
import { classifyFailure, messageOf } from '../../src/policy/classify.js';
import { detectPartial } from '../../src/policy/detectPartial.js';
import { defaultRules } from '../../src/policy/defaultRules.js';
import type { ClassifiedFailure, RawFailure } from '../../src/policy/failure.js';
import { validateRules } from '../../src/policy/validateRules.js';

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A JSON-RPC error as the SDK's McpError words it. */
function rpc(code: number, message: string, data?: unknown): RawFailure {
  const failure: RawFailure = { source: 'rpc', code, message: `MCP error ${code}: ${message}` };
  if (data !== undefined) failure.data = data;
  return failure;
}

/** A tool result with `isError: true`, shaped like the SDK's. */
function tool(text: string, structuredContent?: Record<string, unknown>): RawFailure {
  const result: Record<string, unknown> = { content: [{ type: 'text', text }], isError: true };
  if (structuredContent === undefined) return { source: 'tool', text, result };
  result['structuredContent'] = structuredContent;
  return { source: 'tool', text, structuredContent, result };
}

function http(status: number, headers: Record<string, string> = {}, message = `Streamable HTTP error: ${status}`) {
  return { source: 'http', status, headers, message } satisfies RawFailure;
}

function transport(reason: 'refused' | 'reset' | 'closed' | 'exited' | 'spawn_failed' | 'other', sent: boolean) {
  return { source: 'transport', reason, sent, message: `connection ${reason}` } satisfies RawFailure;
}

interface Case {
  evidence: string;
  raw: RawFailure;
  expected: Partial<ClassifiedFailure>;
}

function classify(raw: RawFailure, rules: readonly ClassificationRule[] = []): ClassifiedFailure {
  return classifyFailure(raw, rules, NOW);
}

/** One test per piece of evidence: `classifies <evidence> as <verdict>`. */
function itClassifies(cases: Case[], verdict: string): void {
  for (const { evidence, raw, expected } of cases) {
    it(`classifies ${evidence} as ${verdict}`, () => {
      expect(classify(raw)).toMatchObject(expected);
    });
  }
}

const transient = { class: 'transient', retryable: true } as const;
const permanent = { class: 'permanent', retryable: false, maybeExecuted: false } as const;
const degraded = { class: 'degraded', retryable: false, maybeExecuted: false } as const;

describe('seed table 1: transient errors are retried', () => {
  describe('Connection Timeout', () => {
    itClassifies(
      [
        {
          evidence: 'a JSON-RPC -32001 request timeout (may have executed)',
          raw: rpc(-32001, 'Request timed out', { timeout: 60_000 }),
          expected: { ...transient, kind: 'timeout', maybeExecuted: true, rule: 'default:rpc-request-timeout' },
        },
        {
          evidence: "retrace's own attempt timeout (may have executed)",
          raw: { source: 'timeout', timeoutMs: 30_000, message: 'no answer within 30s' },
          expected: { ...transient, kind: 'timeout', maybeExecuted: true, rule: 'default:attempt-timeout' },
        },
        {
          evidence: 'HTTP 408 (never processed)',
          raw: http(408),
          expected: { ...transient, kind: 'timeout', maybeExecuted: false, rule: 'default:http-408' },
        },
        {
          evidence: 'a tool result saying the query timed out',
          raw: tool('Query timed out after 30 s'),
          expected: { ...transient, kind: 'timeout', maybeExecuted: false, rule: 'default:text-timeout' },
        },
        {
          evidence: 'a tool result with error.type "timeout"',
          raw: tool('failed', { error: { type: 'timeout' } }),
          expected: {
            ...transient,
            kind: 'timeout',
            maybeExecuted: false,
            rule: 'default:structured-timeout@error.type',
          },
        },
      ],
      'a retryable timeout',
    );
  });

  describe('Database Lock', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result saying the database is locked',
          raw: tool('SQLITE_BUSY: database is locked'),
          expected: { ...transient, kind: 'lock', maybeExecuted: false },
        },
        {
          evidence: 'a JSON-RPC internal error reporting a deadlock',
          raw: rpc(-32603, 'deadlock detected while updating assignments'),
          expected: { ...transient, kind: 'lock', rule: 'default:text-lock' },
        },
        {
          evidence: 'a MySQL lock wait timeout (a lock, not a timeout)',
          raw: tool('Lock wait timeout exceeded; try restarting transaction'),
          expected: { ...transient, kind: 'lock' },
        },
        {
          evidence: 'a Postgres serialization failure',
          raw: tool('could not serialize access due to concurrent update'),
          expected: { ...transient, kind: 'lock' },
        },
        {
          evidence: 'HTTP 409 Conflict',
          raw: http(409),
          expected: { ...transient, kind: 'lock', maybeExecuted: false, rule: 'default:http-409' },
        },
        {
          evidence: 'a tool result with error.code "DEADLOCK"',
          raw: tool('failed', { error: { code: 'DEADLOCK' } }),
          expected: { ...transient, kind: 'lock', rule: 'default:structured-lock@error.code' },
        },
        {
          evidence: 'HTTP 409 with Retry-After (the lock is held for a known time)',
          raw: http(409, { 'retry-after': '30' }),
          expected: { ...transient, kind: 'lock', retryAfterMs: 30_000, rule: 'default:http-409' },
        },
        {
          evidence: 'a tool result with error.type "conflict" and retry_after seconds',
          raw: tool('Deployment dep-0001 is still rolling out: concurrent deployment conflict', {
            error: { type: 'conflict', retry_after: 60 },
          }),
          expected: { ...transient, kind: 'lock', retryAfterMs: 60_000, rule: 'default:structured-lock@error.type' },
        },
        {
          evidence: 'a conflict whose text alone says when to retry',
          raw: tool('Deployment dep-0001 is still rolling out: concurrent deployment conflict; retry after 42 s'),
          expected: { ...transient, kind: 'lock', retryAfterMs: 42_000, rule: 'default:text-lock' },
        },
      ],
      'a retryable lock',
    );
  });

  describe('Rate Limit', () => {
    itClassifies(
      [
        {
          evidence: 'HTTP 429 with Retry-After seconds',
          raw: http(429, { 'retry-after': '2' }),
          expected: {
            ...transient,
            kind: 'rate_limit',
            retryAfterMs: 2000,
            maybeExecuted: false,
            rule: 'default:http-429',
          },
        },
        {
          evidence: 'HTTP 429 with an HTTP-date Retry-After',
          raw: http(429, { 'retry-after': 'Wed, 01 Jan 2025 12:00:45 GMT' }),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 45_000 },
        },
        {
          evidence: 'HTTP 429 with an X-RateLimit-Reset Unix time',
          raw: http(429, { 'x-ratelimit-reset': String(NOW / 1000 + 20) }),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 20_000 },
        },
        {
          evidence: 'HTTP 403 with an exhausted X-RateLimit-Remaining',
          raw: http(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 5) }),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 5000, rule: 'default:http-403-rate-limit' },
        },
        {
          evidence: 'a tool result with error.type "rate_limit" and retry_after seconds',
          raw: tool('Too many requests', { error: { type: 'rate_limit', retry_after: 2 } }),
          expected: {
            ...transient,
            kind: 'rate_limit',
            retryAfterMs: 2000,
            rule: 'default:structured-rate_limit@error.type',
          },
        },
        {
          evidence: 'a tool result with retry_after_ms',
          raw: tool('slow down', { error: { type: 'RateLimitError' }, retry_after_ms: 1500 }),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 1500 },
        },
        {
          evidence: 'a tool result whose JSON text names a rate limit',
          raw: tool('{"error": {"type": "rate_limited", "retry_after": 3}}'),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 3000 },
        },
        {
          evidence: 'a tool result saying "retry after 3 seconds"',
          raw: tool('Rate limit exceeded, retry after 3 seconds'),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 3000, rule: 'default:text-rate_limit' },
        },
        {
          evidence: 'a JSON-RPC error whose data says rate_limit',
          raw: rpc(-32000, 'Server error', { type: 'rate_limit', retry_after: 1 }),
          expected: { ...transient, kind: 'rate_limit', retryAfterMs: 1000 },
        },
      ],
      'a retryable rate limit',
    );
  });

  describe('Service Unavailable', () => {
    itClassifies(
      [
        {
          evidence: 'HTTP 503 with Retry-After',
          raw: http(503, { 'retry-after': '10' }),
          expected: { ...transient, kind: 'unavailable', retryAfterMs: 10_000, maybeExecuted: false },
        },
        {
          evidence: 'HTTP 502',
          raw: http(502),
          expected: { ...transient, kind: 'unavailable', maybeExecuted: false, rule: 'default:http-502-503-504' },
        },
        {
          evidence: 'HTTP 504 (may have executed behind the gateway)',
          raw: http(504),
          expected: { ...transient, kind: 'unavailable', maybeExecuted: true },
        },
        {
          evidence: 'HTTP 404 "Session not found" after a server restart',
          raw: http(
            404,
            {},
            'Streamable HTTP error: {"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"}}',
          ),
          expected: { ...transient, kind: 'unavailable', rule: 'default:http-session-expired' },
        },
        {
          evidence: 'a refused connection (never sent)',
          raw: transport('refused', false),
          expected: {
            ...transient,
            kind: 'unavailable',
            maybeExecuted: false,
            rule: 'default:transport-connection-lost',
          },
        },
        {
          evidence: 'a connection reset after the request was sent',
          raw: transport('reset', true),
          expected: { ...transient, kind: 'unavailable', maybeExecuted: true },
        },
        {
          evidence: 'a stdio server that exited mid-call',
          raw: { ...transport('exited', true), exitCode: 1, signal: null },
          expected: { ...transient, kind: 'unavailable', maybeExecuted: true },
        },
        {
          evidence: 'a JSON-RPC -32000 connection closed (may have executed)',
          raw: rpc(-32000, 'Connection closed'),
          expected: { ...transient, kind: 'unavailable', maybeExecuted: true, rule: 'default:rpc-connection-closed' },
        },
        {
          evidence: 'a tool result saying the backend is restarting',
          raw: tool('Backend restarting, health check failing'),
          expected: { ...transient, kind: 'unavailable', maybeExecuted: false, rule: 'default:text-unavailable' },
        },
        {
          evidence: 'a tool result with error.type "service_unavailable"',
          raw: tool('x', { error: { type: 'service_unavailable' } }),
          expected: { ...transient, kind: 'unavailable' },
        },
      ],
      'a retryable unavailable',
    );
  });

  describe('Temporary Resource', () => {
    itClassifies(
      [
        {
          evidence: 'a full Celery queue',
          raw: tool('Celery queue full'),
          expected: { ...transient, kind: 'resource' },
        },
        {
          evidence: 'a busy Redis reported by a JSON-RPC internal error',
          raw: rpc(-32603, 'Redis busy running a script'),
          expected: { ...transient, kind: 'resource', maybeExecuted: false },
        },
        {
          evidence: 'EAGAIN',
          raw: tool('EAGAIN: Resource temporarily unavailable'),
          expected: { ...transient, kind: 'resource', rule: 'default:text-resource' },
        },
        {
          evidence: 'a tool result with error.type "queue_full"',
          raw: tool('x', { error: { type: 'queue_full' } }),
          expected: { ...transient, kind: 'resource' },
        },
        {
          evidence: '"try again later" with a wait in milliseconds',
          raw: tool('Try again later; retry in 500ms'),
          expected: { ...transient, kind: 'resource', retryAfterMs: 500, rule: 'default:text-try-again-later' },
        },
      ],
      'a retryable temporary resource failure',
    );
  });
});

describe('seed table 2: permanent errors fail fast', () => {
  describe('Invalid Input', () => {
    itClassifies(
      [
        {
          evidence: 'a JSON-RPC -32602',
          raw: rpc(-32602, 'Invalid params'),
          expected: { ...permanent, kind: 'invalid_input', rule: 'default:rpc-invalid-params' },
        },
        {
          evidence: "the SDK's input validation error in a tool result",
          raw: tool(
            'MCP error -32602: Input validation error: Invalid arguments for tool validate: start_date: Required',
          ),
          expected: { ...permanent, kind: 'invalid_input', rule: 'default:mcp-input-validation' },
        },
        {
          evidence: 'HTTP 400',
          raw: http(400),
          expected: { ...permanent, kind: 'invalid_input', rule: 'default:http-400' },
        },
        { evidence: 'HTTP 422', raw: http(422), expected: { ...permanent, kind: 'invalid_input' } },
        {
          evidence: 'a tool result saying a field must be a date',
          raw: tool('start_date must be an ISO date'),
          expected: { ...permanent, kind: 'invalid_input', rule: 'default:text-invalid_input' },
        },
        {
          evidence: 'a tool result with error.type "ValidationError"',
          raw: tool('x', { error: { type: 'ValidationError' } }),
          expected: { ...permanent, kind: 'invalid_input' },
        },
      ],
      'permanent invalid input',
    );
  });

  describe('Resource Not Found', () => {
    itClassifies(
      [
        {
          evidence: 'HTTP 404',
          raw: http(404),
          expected: { ...permanent, kind: 'not_found', rule: 'default:http-404' },
        },
        {
          evidence: 'a tool result saying the schedule does not exist',
          raw: tool('schedule_id 42 does not exist'),
          expected: { ...permanent, kind: 'not_found' },
        },
        {
          evidence: 'a JSON-RPC internal error saying not found',
          raw: rpc(-32603, 'Schedule 42 not found'),
          expected: { ...permanent, kind: 'not_found', rule: 'default:text-not_found' },
        },
        {
          evidence: 'a tool result with error.code "NOT_FOUND"',
          raw: tool('x', { error: { code: 'NOT_FOUND' } }),
          expected: { ...permanent, kind: 'not_found', rule: 'default:structured-not_found@error.code' },
        },
      ],
      'permanent not found',
    );
  });

  describe('Authentication Failed', () => {
    itClassifies(
      [
        { evidence: 'HTTP 401', raw: http(401), expected: { ...permanent, kind: 'auth', rule: 'default:http-401' } },
        {
          evidence: 'a tool result saying the token is invalid',
          raw: tool('Authentication failed: invalid token'),
          expected: { ...permanent, kind: 'auth', rule: 'default:text-auth' },
        },
        {
          evidence: 'a tool result with error.type "unauthorized"',
          raw: tool('x', { error: { type: 'unauthorized' } }),
          expected: { ...permanent, kind: 'auth' },
        },
      ],
      'a permanent authentication failure',
    );
  });

  describe('Permission Denied', () => {
    itClassifies(
      [
        {
          evidence: 'HTTP 403',
          raw: http(403),
          expected: { ...permanent, kind: 'permission', rule: 'default:http-403' },
        },
        {
          evidence: 'a tool result saying privileges are insufficient',
          raw: tool('Permission denied: insufficient privileges for promote_to_production'),
          expected: { ...permanent, kind: 'permission' },
        },
        {
          evidence: 'a tool result with error.type "forbidden"',
          raw: tool('x', { error: { type: 'forbidden' } }),
          expected: { ...permanent, kind: 'permission' },
        },
      ],
      'a permanent permission denial',
    );
  });

  describe('Data Constraint Violation', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result with error.type "constraint_violation" and suggestions',
          raw: tool('ACGME violation', {
            error: { type: 'constraint_violation', suggestions: ['Move the shift to Tuesday', 'Split the call'] },
          }),
          expected: {
            ...permanent,
            kind: 'constraint',
            suggestions: ['Move the shift to Tuesday', 'Split the call'],
            rule: 'default:structured-constraint@error.type',
          },
        },
        {
          evidence: 'a JSON-RPC error whose data carries suggestion objects',
          raw: rpc(-32603, 'constraint violated', {
            type: 'constraint_violation',
            suggestions: [{ suggested_fix: 'Reduce weekly hours below 80' }],
          }),
          expected: { ...permanent, kind: 'constraint', suggestions: ['Reduce weekly hours below 80'] },
        },
        {
          evidence: 'a tool result naming an ACGME rule',
          raw: tool('ACGME 80-hour rule violated for resident R12'),
          expected: { ...permanent, kind: 'constraint', rule: 'default:text-constraint' },
        },
        {
          evidence: 'a Postgres unique constraint error',
          raw: tool('duplicate key value violates unique constraint "assignments_pkey"'),
          expected: { ...permanent, kind: 'constraint' },
        },
      ],
      'a permanent constraint violation',
    );
  });

  describe('Unimplemented Feature', () => {
    itClassifies(
      [
        {
          evidence: 'a JSON-RPC -32601',
          raw: rpc(-32601, 'Method not found'),
          expected: { ...permanent, kind: 'unimplemented', rule: 'default:rpc-method-not-found' },
        },
        {
          evidence: "the SDK's unknown-tool result (ahead of the generic -32602 rule)",
          raw: tool('MCP error -32602: Tool nope not found'),
          expected: { ...permanent, kind: 'unimplemented', rule: 'default:mcp-unknown-tool' },
        },
        {
          evidence: 'an "Unknown tool" result from another server',
          raw: tool('Unknown tool: nope'),
          expected: { ...permanent, kind: 'unimplemented', rule: 'default:mcp-unknown-tool' },
        },
        {
          evidence: 'a tool result saying the feature is not implemented',
          raw: tool('Contingency analysis is not implemented yet'),
          expected: { ...permanent, kind: 'unimplemented', rule: 'default:text-unimplemented' },
        },
        {
          evidence: 'a tool result with error.type "not_implemented"',
          raw: tool('x', { error: { type: 'not_implemented' } }),
          expected: { ...permanent, kind: 'unimplemented' },
        },
        { evidence: 'HTTP 501', raw: http(501), expected: { ...permanent, kind: 'unimplemented' } },
      ],
      'permanent unimplemented',
    );
  });
});

describe('seed table 3: degraded errors degrade gracefully', () => {
  describe('Backend API Down', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result saying the backend API is down',
          raw: tool('Backend API down'),
          expected: { ...degraded, kind: 'backend_down', rule: 'default:text-backend_down' },
        },
        {
          evidence: 'a JSON-RPC internal error saying the upstream is unavailable',
          raw: rpc(-32603, 'upstream unavailable'),
          expected: { ...degraded, kind: 'backend_down' },
        },
        {
          evidence: 'a tool result with error.type "backend_unavailable"',
          raw: tool('x', { error: { type: 'backend_unavailable' } }),
          expected: { ...degraded, kind: 'backend_down' },
        },
      ],
      'degraded backend down',
    );
  });

  describe('Celery Worker Offline', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result saying no Celery workers are available',
          raw: tool('No celery workers available to run resilience_contingency'),
          expected: { ...degraded, kind: 'worker_offline' },
        },
        {
          evidence: 'a tool result with error.type "worker_offline"',
          raw: tool('x', { error: { type: 'worker_offline' } }),
          expected: { ...degraded, kind: 'worker_offline', rule: 'default:structured-worker_offline@error.type' },
        },
      ],
      'degraded worker offline',
    );
  });

  describe('MCP Server Degraded', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result saying the server is degraded',
          raw: tool('Server degraded: read-only mode'),
          expected: { ...degraded, kind: 'server_degraded' },
        },
        {
          evidence: 'a tool result with type "degraded"',
          raw: tool('x', { type: 'degraded' }),
          expected: { ...degraded, kind: 'server_degraded', rule: 'default:structured-server_degraded@type' },
        },
      ],
      'degraded server',
    );
  });

  describe('Partial Data Available', () => {
    itClassifies(
      [
        {
          evidence: 'a tool result with error.type "partial_result"',
          raw: tool('x', { error: { type: 'partial_result' } }),
          expected: { ...degraded, kind: 'partial' },
        },
        {
          evidence: 'a tool result with error.type "partial_data"',
          raw: tool('Partial data: 3 of 5 rotations answered', { error: { type: 'partial_data' } }),
          expected: { ...degraded, kind: 'partial', rule: 'default:structured-partial@error.type' },
        },
        {
          evidence: 'a tool result flagged structuredContent.partial === true',
          raw: tool('3 of 5 rotations answered', { partial: true, items: [1, 2, 3] }),
          expected: { ...degraded, kind: 'partial', rule: 'default:structured-partial@partial' },
        },
        {
          evidence: 'a tool result with status "partial"',
          raw: tool('3 of 5 rotations answered', { status: 'partial' }),
          expected: { ...degraded, kind: 'partial', rule: 'default:structured-partial@status' },
        },
      ],
      'degraded partial data',
    );

    // A degraded partial is returned as a success with a warning: only the tool's own flag may ask for that.
    it.each([
      'Deployment partially applied; rollback required',
      'Partial data: 3 of 5 rotations answered',
      'partial failure: 2 of 4 hosts updated',
    ])('never reads "%s" (text alone) as partial data', (text) => {
      const failure = classify(tool(text));
      expect(failure.kind).not.toBe('partial');
      expect(failure.class).not.toBe('degraded');
      expect(failure.rule).not.toMatch(/partial/);
    });

    it('does not take a partial flag that is false, or a status other than "partial"', () => {
      expect(classify(tool('Deployment partially applied', { partial: false })).kind).not.toBe('partial');
      expect(classify(tool('Deployment partially applied', { status: 'partially_applied' })).kind).not.toBe('partial');
    });

    it('lets a named failure type win over a partial flag', () => {
      expect(classify(tool('x', { partial: true, error: { type: 'timeout' } }))).toMatchObject({
        kind: 'timeout',
        rule: 'default:structured-timeout@error.type',
      });
    });
  });
});

describe('failures retrace produces itself', () => {
  it('classifies an open circuit as not retryable on the same tool', () => {
    const failure = classify({ source: 'circuit', state: 'open', message: 'circuit open for fault/echo' });
    expect(failure).toMatchObject({ kind: 'circuit_open', retryable: false, maybeExecuted: false });
  });

  it('classifies a cancellation as permanent and not retryable', () => {
    expect(classify({ source: 'cancelled', message: 'cancelled by caller' })).toMatchObject({
      kind: 'cancelled',
      class: 'permanent',
      retryable: false,
    });
  });

  it('classifies a thrown exception as unknown, without reading its words', () => {
    expect(classify({ source: 'exception', name: 'TypeError', message: 'invalid thing' })).toMatchObject({
      kind: 'unknown',
      class: 'transient',
      rule: 'default:exception',
    });
  });

  it('classifies a failed spawn as unavailable but not retryable', () => {
    expect(classify(transport('spawn_failed', false))).toMatchObject({
      kind: 'unavailable',
      class: 'transient',
      retryable: false,
      maybeExecuted: false,
      rule: 'default:transport-spawn-failed',
    });
  });
});

describe('fallbacks and edge cases', () => {
  it('classifies an unrecognised JSON-RPC internal error as a retryable unknown', () => {
    expect(classify(rpc(-32603, 'Internal error'))).toMatchObject({
      kind: 'unknown',
      class: 'transient',
      retryable: true,
      rule: 'default:rpc-internal-error',
    });
  });

  it('classifies HTTP 500 as a retryable unknown', () => {
    expect(classify(http(500, {}, 'Internal Server Error'))).toMatchObject({
      kind: 'unknown',
      retryable: true,
      rule: 'default:http-500',
    });
  });

  it('classifies an unnamed HTTP 4xx as a permanent unknown', () => {
    expect(classify(http(418, {}, "I'm a teapot"))).toMatchObject({
      kind: 'unknown',
      class: 'permanent',
      retryable: false,
      rule: 'default:http-4xx',
    });
  });

  it('classifies a tool output that broke its schema as permanent, and as executed', () => {
    const failure = classify(
      tool('MCP error -32602: Output validation error: Invalid structured content for tool x: count: Required'),
    );
    expect(failure).toMatchObject({
      kind: 'unknown',
      class: 'permanent',
      retryable: false,
      maybeExecuted: true,
      rule: 'default:mcp-output-validation',
    });
  });

  describe('a result the server rejected after the tool ran', () => {
    const zodIssues =
      '[{"expected":"array","code":"invalid_type","path":["content"],"message":"Invalid input: expected array, received undefined"}]';
    const executedServerBug = {
      kind: 'unknown',
      class: 'permanent',
      retryable: false,
      maybeExecuted: true,
    } as const;

    it('classifies the SDK\'s -32602 "Invalid tools/call result" as a permanent server bug, not invalid input', () => {
      expect(classify(rpc(-32602, `Invalid tools/call result: ${zodIssues}`))).toMatchObject({
        ...executedServerBug,
        rule: 'default:mcp-malformed-result',
      });
    });

    it('classifies the same words in an isError tool result the same way', () => {
      expect(classify(tool(`MCP error -32602: Invalid tools/call result: ${zodIssues}`))).toMatchObject({
        ...executedServerBug,
        rule: 'default:mcp-malformed-result',
      });
    });

    it("classifies the client's output-schema rejection as a permanent server bug, and as executed", () => {
      expect(
        classify(rpc(-32602, "Structured content does not match the tool's output schema: data/count must be number")),
      ).toMatchObject({ ...executedServerBug, rule: 'default:mcp-output-validation' });
    });

    it('still blames the caller for an invalid tools/call request', () => {
      expect(classify(rpc(-32602, 'Invalid tools/call request: params.name: Required'))).toMatchObject({
        kind: 'invalid_input',
        class: 'permanent',
        maybeExecuted: false,
        rule: 'default:rpc-invalid-params',
      });
    });

    it('comes before the generic -32602 rule', () => {
      const names = defaultRules.map((rule) => rule.name);
      expect(names.indexOf('default:mcp-malformed-result')).toBeLessThan(names.indexOf('default:rpc-invalid-params'));
      expect(names.indexOf('default:mcp-malformed-result')).toBeGreaterThan(
        names.indexOf('default:mcp-output-validation'),
      );
    });
  });

  it('does not mistake a scheduling conflict for lock contention', () => {
    expect(classify(tool('Schedule has 3 conflicts on 2025-01-04')).kind).not.toBe('lock');
    expect(classify(tool('write conflict on assignments, please retry')).kind).toBe('lock');
  });

  it('does not read a validator\'s "is not allowed" as a permission denial', () => {
    expect(classify(tool('"foo" is not allowed')).kind).not.toBe('permission');
    expect(classify(tool('You are not allowed to promote this build')).kind).toBe('permission');
  });

  it('ignores rate-limit reset headers on a failure that is not a rate limit', () => {
    const failure = classify(http(404, { 'x-ratelimit-reset': String(NOW / 1000 + 60) }));
    expect(failure.kind).toBe('not_found');
    expect(failure.retryAfterMs).toBeUndefined();
  });

  it('does not read a date after "retry after" as a number of seconds', () => {
    expect(classify(tool('Service unavailable, retry after 2025-01-02')).retryAfterMs).toBeUndefined();
  });

  it('keeps the raw evidence as the cause and the message as the text', () => {
    const raw = tool('Celery queue full');
    const failure = classify(raw);
    expect(failure.cause).toBe(raw);
    expect(failure.message).toBe('Celery queue full');
  });

  it('produces a valid classified failure for every source', () => {
    const raws: RawFailure[] = [
      rpc(1234, 'custom'),
      tool(''),
      http(302),
      transport('other', false),
      { source: 'timeout', timeoutMs: 5, message: '' },
      { source: 'circuit', state: 'halfOpen', message: '' },
      { source: 'cancelled', message: '' },
      { source: 'exception', name: 'Error', message: '' },
    ];
    for (const raw of raws) {
      const failure = classify(raw);
      expect(failure.rule).toMatch(/^default:/);
      expect(failure.message).not.toBe('');
    }
  });
});

describe('tool rules', () => {
  it('are tried before the defaults and named tool:<name>', () => {
    const rules: ClassificationRule[] = [
      { name: 'session-404', when: { source: 'http', status: 404 }, kind: 'unavailable' },
    ];
    expect(classify(http(404), rules)).toMatchObject({
      kind: 'unavailable',
      retryable: true,
      rule: 'tool:session-404',
    });
  });

  it('are named by position when they have no name', () => {
    const rules: ClassificationRule[] = [
      { when: { message: 'nothing like this' }, kind: 'timeout' },
      { when: { message: 'regenerating' }, kind: 'resource' },
    ];
    expect(classify(tool('Schedule is regenerating'), rules)).toMatchObject({ kind: 'resource', rule: 'tool:#1' });
  });

  it('override class and retryability', () => {
    const rules: ClassificationRule[] = [
      { name: 'no-retry-timeouts', when: { source: 'rpc', code: -32001 }, kind: 'timeout', retryable: false },
      { name: 'lock-is-permanent', when: { message: 'locked by admin' }, kind: 'lock', class: 'permanent' },
    ];
    expect(classify(rpc(-32001, 'Request timed out'), rules)).toMatchObject({ class: 'transient', retryable: false });
    expect(classify(tool('Record locked by admin'), rules)).toMatchObject({ class: 'permanent', retryable: false });
  });

  it('read the wait and the suggestions from the fields they name', () => {
    const rules: ClassificationRule[] = [
      {
        name: 'busy',
        when: { field: { path: 'detail.code', equals: 'BUSY' } },
        kind: 'resource',
        retry_after_field: 'detail.wait_s',
        suggestions_field: 'detail.hints',
      },
    ];
    const failure = classify(tool('busy', { detail: { code: 'BUSY', wait_s: 4, hints: ['later'] } }), rules);
    expect(failure).toMatchObject({ kind: 'resource', retryAfterMs: 4000, suggestions: ['later'], rule: 'tool:busy' });
  });

  it('match a field by existence and by pattern', () => {
    const rules: ClassificationRule[] = [
      { name: 'has-violations', when: { field: { path: 'violations', exists: true } }, kind: 'constraint' },
      { name: 'quota', when: { field: { path: 'error.reason', matches: '^quota' } }, kind: 'rate_limit' },
    ];
    expect(classify(tool('x', { violations: [] }), rules).rule).toBe('tool:has-violations');
    expect(classify(tool('x', { error: { reason: 'QUOTA_EXCEEDED' } }), rules).rule).toBe('tool:quota');
    expect(classify(tool('x', { error: { reason: 'other' } }), rules).rule).not.toMatch(/^tool:/);
  });

  it('match JSON-RPC codes named in a tool result text', () => {
    const rules: ClassificationRule[] = [{ name: 'app-code', when: { code: -32099 }, kind: 'lock' }];
    expect(classify(tool('MCP error -32099: busy row'), rules).rule).toBe('tool:app-code');
  });

  it('do not walk prototypes through a field path', () => {
    const rules: ClassificationRule[] = [
      { name: 'proto', when: { field: { path: 'constructor.name', exists: true } }, kind: 'lock' },
    ];
    expect(classify(tool('x', { a: 1 }), rules).rule).not.toBe('tool:proto');
  });

  it('are honoured when a reused rule list changes', () => {
    const rules: ClassificationRule[] = [];
    expect(classify(tool('Schedule is regenerating'), rules).kind).toBe('unknown');
    rules.push({ name: 'late', when: { message: 'regenerating' }, kind: 'resource' });
    expect(classify(tool('Schedule is regenerating'), rules).rule).toBe('tool:late');
  });

  it('with an invalid regular expression never match and never throw', () => {
    const rules: ClassificationRule[] = [{ name: 'broken', when: { message: '(unclosed' }, kind: 'auth' }];
    expect(classify(tool('Database is locked (unclosed'), rules)).toMatchObject({
      kind: 'lock',
      rule: 'default:text-lock',
    });
  });
});

describe('validateRules', () => {
  it('reports an invalid regular expression with its location', () => {
    const problems = validateRules([
      { when: { message: 'fine' }, kind: 'lock' },
      { when: { message: '(unclosed' }, kind: 'auth' },
      { when: { field: { path: 'error.type', matches: '[z-a]' } }, kind: 'auth' },
    ]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^classify\[1\]\.when\.message: invalid regular expression: /);
    expect(problems[1]).toMatch(/^classify\[2\]\.when\.field\.matches: invalid regular expression: /);
  });

  it('prefixes problems with the location it is given', () => {
    expect(validateRules([{ when: { message: '*' }, kind: 'auth' }], 'tools.deploy.classify')[0]).toMatch(
      /^tools\.deploy\.classify\[0\]\.when\.message: /,
    );
  });

  it('reports malformed paths, unknown reasons and conditions that can never match', () => {
    const problems = validateRules([
      { when: { field: { path: 'error..type' } }, kind: 'auth', retry_after_field: 'a.', suggestions_field: '.b' },
      { when: { source: 'http', code: -32602 }, kind: 'invalid_input' },
      { when: { source: 'rpc', status: 404 }, kind: 'not_found' },
      { when: { reason: 'exploded' }, kind: 'unavailable' },
      { when: { source: 'timeout', field: { path: 'x' } }, kind: 'timeout' },
    ]);
    expect(problems).toEqual([
      expect.stringMatching(/^classify\[0\]\.when\.field\.path: "error\.\.type" is not a dotted path/),
      expect.stringMatching(/^classify\[0\]\.retry_after_field: /),
      expect.stringMatching(/^classify\[0\]\.suggestions_field: /),
      expect.stringMatching(/^classify\[1\]\.when\.code: .*never matches/),
      expect.stringMatching(/^classify\[2\]\.when\.status: .*never matches/),
      expect.stringMatching(/^classify\[3\]\.when\.reason: unknown transport reason "exploded"/),
      expect.stringMatching(/^classify\[4\]\.when\.field: .*never matches/),
    ]);
  });

  it('finds nothing wrong with the default rules', () => {
    expect(validateRules(defaultRules)).toEqual([]);
  });
});

describe('the default rules', () => {
  it('each have a unique default: name', () => {
    const names = defaultRules.map((rule) => rule.name);
    expect(names.every((name) => name?.startsWith('default:'))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('are frozen, so their compiled forms cannot go stale', () => {
    expect(Object.isFrozen(defaultRules)).toBe(true);
    expect(Object.isFrozen(defaultRules[0]?.when)).toBe(true);
  });
});

describe('messageOf', () => {
  it("uses a tool's structured error message when its text is empty", () => {
    expect(messageOf(tool('', { error: { message: 'queue full' } }))).toBe('queue full');
  });

  it('describes failures that came without a message', () => {
    expect(messageOf({ source: 'timeout', timeoutMs: 250, message: '' })).toBe('no answer within 250 ms');
    expect(messageOf(http(503, {}, ''))).toBe('HTTP 503');
    expect(messageOf({ source: 'rpc', code: -32603, message: '' })).toBe('JSON-RPC error -32603');
  });
});

describe('detectPartial', () => {
  const result = (extra: Partial<CallToolResult>): CallToolResult => ({ content: [], ...extra });

  it('flags structuredContent.partial with its warning', () => {
    expect(detectPartial(result({ structuredContent: { partial: true, warning: '2 sources missing' } }))).toEqual({
      partial: true,
      warning: '2 sources missing',
    });
  });

  it("flags structuredContent.status 'partial' and joins its warnings", () => {
    expect(detectPartial(result({ structuredContent: { status: 'partial', warnings: ['a', 'b'] } }))).toEqual({
      partial: true,
      warning: 'a; b',
    });
  });

  it('flags _meta.partial, with a default warning when none is given', () => {
    expect(detectPartial(result({ _meta: { partial: true } }))).toEqual({
      partial: true,
      warning: 'the tool returned a partial result',
    });
  });

  it('leaves complete and failed results alone', () => {
    expect(detectPartial(result({ structuredContent: { status: 'ok', partial: false } }))).toBeUndefined();
    expect(detectPartial(result({ isError: true, structuredContent: { partial: true } }))).toBeUndefined();
  });
});
