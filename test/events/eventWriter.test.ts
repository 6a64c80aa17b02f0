import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import { REDACTED } from '../../src/common/redact.js';
import {
  DEFAULT_MAX_RESULT_BYTES,
  TRUNCATION_PREVIEW_CHARS,
  createEventWriter,
  parseEvent,
  retraceEventTypes,
} from '../../src/events/index.js';
import type { EmittedFact, EventWriterOptions } from '../../src/events/index.js';
import type { ClassifiedFailure } from '../../src/policy/failure.js';

const on = { callId: 'call-1', server: 'db', tool: 'query', at: 1_700_000_000_000 };

const timeout: ClassifiedFailure = {
  class: 'transient',
  kind: 'timeout',
  retryable: true,
  maybeExecuted: true,
  message: 'attempt timed out after 5000 ms',
  rule: 'default:timeout',
  cause: { source: 'timeout', timeoutMs: 5000, message: 'attempt timed out after 5000 ms' },
};

const result: CallToolResult = { content: [{ type: 'text', text: '3 rows' }], structuredContent: { rows: 3 } };

/** A tool result of one text block. */
function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

/** One fact of every type the machines (and the runtime's advisories) emit. */
const facts: EmittedFact[] = [
  { ...on, type: 'toolcall.requested', args: { sql: 'select 1' }, fallbacks: ['db/query_replica', null] },
  { ...on, type: 'toolcall.attempt.started', n: 1, route: 'primary' },
  {
    ...on,
    type: 'toolcall.attempt.failed',
    n: 1,
    durationMs: 5000,
    failure: timeout,
    decision: 'retry',
    reason: 'transient timeout, retry 1 of 3',
    probeToken: 'call-1#1',
  },
  { ...on, type: 'toolcall.backoff.scheduled', n: 1, delayMs: 1200, until: on.at + 1200, retryAfter: false },
  { ...on, type: 'toolcall.fallback.started', to: { server: 'db', tool: 'query_replica' }, reason: 'retries used up' },
  { ...on, type: 'toolcall.cache.miss', reason: 'stale', ageMs: 90_000 },
  { ...on, type: 'toolcall.cache.hit', ageMs: 4_000 },
  {
    ...on,
    type: 'toolcall.succeeded',
    status: 'fallback',
    n: 2,
    probeToken: 'call-1#2',
    result,
    cacheable: true,
    args: { sql: 'select 1' },
    warnings: ['answered by the replica'],
  },
  {
    ...on,
    type: 'toolcall.failed',
    error: { class: 'transient', kind: 'timeout', message: 'timed out', rule: 'default:timeout' },
    attempts: 3,
    n: 3,
    probeToken: 'call-1#3',
  },
  {
    ...on,
    type: 'toolcall.escalated',
    escalation: {
      level: 'critical',
      trigger: 'auth_failed',
      server: 'db',
      tool: 'query',
      message: 'the token was refused',
      recommendedAction: 'Renew the token',
      kind: 'auth',
      callId: 'call-1',
      at: on.at,
    },
  },
  { ...on, type: 'toolcall.warning', message: 'the replica may lag' },
  {
    ...on,
    type: 'toolcall.advisory.raised',
    escalation: {
      level: 'warning',
      trigger: 'repeated_failures',
      server: 'db',
      tool: 'query',
      message: 'db/query failed 6 times in 5 minutes',
      recommendedAction: 'Check the server logs and health',
      callId: 'call-1',
      at: on.at,
    },
    windowMs: 300_000,
    failures: 6,
    calls: 8,
    threshold: 5,
  },
  {
    type: 'breaker.opened',
    key: 'db/query',
    at: on.at,
    reason: 'failureRatio',
    failureRatio: 0.6,
    calls: 10,
    openUntil: on.at + 30_000,
  },
  { type: 'breaker.halfOpened', key: 'db/query', at: on.at + 30_000 },
  { type: 'breaker.closed', key: 'db/query', at: on.at + 31_000, reason: 'probesSucceeded' },
  ...workflowFacts(),
];

/** One fact of every `workflow.*` type, said by the workflow `run-1` and its step `fetch`. */
function workflowFacts(): EmittedFact[] {
  const flow = { actorId: 'run-1', at: on.at };
  const step = { actorId: 'fetch', parentId: 'run-1', stepId: 'fetch', stepType: 'mcp_call' as const, at: on.at };
  const error = { message: 'HTTP 503', type: 'unavailable', step_id: 'fetch', attempt: 1 };
  return [
    { ...flow, type: 'workflow.started', name: 'deploy', file: 'deploy.yaml', hash: 'abc', inputs: { region: 'eu' } },
    { ...step, type: 'workflow.step.started', attempt: 1 },
    { ...step, type: 'workflow.step.succeeded', attempt: 2, result: { rows: 3 } },
    { ...step, type: 'workflow.step.failed', attempts: 3, error },
    { ...step, type: 'workflow.step.skipped', reason: 'when' },
    { ...step, type: 'workflow.step.retrying', attempt: 1, delayMs: 2000, until: on.at + 2000, error },
    { ...step, type: 'workflow.step.fallback', strategy: 'fallback', value: { status: 'unavailable' }, error },
    { ...step, type: 'workflow.step.cancelled', reason: 'cancelled by the caller' },
    { ...flow, type: 'workflow.state.updated', stepId: 'count', path: ['raw', 'attempts'], op: 'increment', value: 1 },
    {
      ...flow,
      type: 'workflow.computed.evaluated',
      field: 'computed.ready',
      timestamp: new Date(on.at).toISOString(),
      trigger: 'raw.attempts update',
      input: 1,
      output: true,
      duration_ms: 0.2,
      dependencies: ['raw.attempts'],
    },
    { ...flow, type: 'workflow.warning', message: 'state is large', stateBytes: 2_000_000 },
    { ...flow, type: 'workflow.succeeded', result: { ok: true }, steps: 4 },
    { ...flow, type: 'workflow.failed', error, steps: 4 },
    { ...flow, type: 'workflow.escalated', error: { ...error, type: 'escalated' }, steps: 4 },
    { ...flow, type: 'workflow.cancelled', reason: 'cancelled by the caller', steps: 2 },
    { ...flow, type: 'workflow.resolved', stepActorId: 'deploy', action: 'value', value: { ok: true }, by: 'ops' },
    {
      ...flow,
      type: 'workflow.resumed',
      previousSeq: 12,
      stepsReplayed: 4,
      reason: 'resumed after the process stopped',
    },
  ];
}

/** The actor a fact names: a call's id, a breaker's key, a workflow machine's actor id. */
function actorOf(fact: EmittedFact): string {
  if ('callId' in fact) return fact.callId;
  if ('key' in fact) return fact.key;
  return fact.actorId;
}

/** The fact of that type from the list above. */
function fact<T extends EmittedFact['type']>(type: T): Extract<EmittedFact, { type: T }> {
  const found = facts.find((candidate) => candidate.type === type);
  if (found === undefined) throw new Error(`no ${type} fact`);
  return found as Extract<EmittedFact, { type: T }>;
}

function succeededWith(result: CallToolResult): EmittedFact {
  return { ...fact('toolcall.succeeded'), result };
}

function writer(overrides: Partial<EventWriterOptions> = {}) {
  let tick = 0;
  return createEventWriter({ clock: { now: () => on.at + tick++ }, random: () => 0.5, ...overrides });
}

/** What a fact's data should be: the fact minus `type`, `at` and its actor field, as JSON keeps it. */
function expectedData(fact: EmittedFact): unknown {
  const { type: _type, at: _at, ...rest } = fact;
  const data: Record<string, unknown> = { ...rest };
  delete data['callId'];
  delete data['key'];
  delete data['actorId'];
  delete data['parentId'];
  return JSON.parse(JSON.stringify(data));
}

describe('createEventWriter', () => {
  it('has a fact of every event type to test with', () => {
    expect(new Set(facts.map((fact) => fact.type))).toEqual(new Set(retraceEventTypes));
  });

  it('round-trips every emitted type through JSON and parseEvent', () => {
    const events = writer();
    for (const fact of facts) {
      const envelope = events.toEnvelope('run-1', fact);
      const read = parseEvent(JSON.parse(JSON.stringify(envelope)));
      expect(read).toEqual(JSON.parse(JSON.stringify(envelope)));
      expect(read.type).toBe(fact.type);
      expect(read.ts).toBe(fact.at);
      expect(read.actorId).toBe(actorOf(fact));
      expect(read.data).toEqual(expectedData(fact));
    }
  });

  it('fills the envelope: version 1, run, parent, ts from the fact, callId or breaker key as actor', () => {
    const events = writer();
    const call = events.toEnvelope('run-1', fact('toolcall.attempt.started'), 'step-7');
    expect(call).toMatchObject({ v: 1, runId: 'run-1', actorId: 'call-1', parentId: 'step-7', seq: 1, ts: on.at });
    expect(call.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const breaker = events.toEnvelope('run-1', fact('breaker.halfOpened'));
    expect(breaker).toMatchObject({ actorId: 'db/query', seq: 2, type: 'breaker.halfOpened', data: {} });
    expect('parentId' in breaker).toBe(false);
  });

  it('numbers each run 1, 2, 3, … without gaps, independently of other runs', () => {
    const events = writer();
    const seqs = (runId: string) => events.toEnvelope(runId, fact('toolcall.attempt.started')).seq;
    expect([seqs('a'), seqs('a'), seqs('b'), seqs('a'), seqs('b'), seqs('c')]).toEqual([1, 2, 1, 3, 2, 1]);
    expect(events.lastSeq('a')).toBe(3);
    expect(events.lastSeq('unknown')).toBe(0);
  });

  it('makes the same envelopes without validation, for a runtime that writes none', () => {
    const validated = writer();
    const unvalidated = writer({ validate: false });
    for (const fact of facts) {
      const { id: _id, ...expected } = validated.toEnvelope('run-1', fact);
      const { id: _other, ...envelope } = unvalidated.toEnvelope('run-1', fact);
      expect(envelope).toEqual(expected);
    }
  });

  it('uses no seq for a fact its schema refuses', () => {
    const events = writer();
    events.toEnvelope('run-1', fact('toolcall.attempt.started'));
    const broken = { ...on, type: 'toolcall.attempt.started', n: 'two', route: 'primary' } as unknown as EmittedFact;
    expect(() => events.toEnvelope('run-1', broken)).toThrow('toolcall.attempt.started: ');
    expect(events.toEnvelope('run-1', fact('toolcall.attempt.started')).seq).toBe(2);
  });

  it('names the type and field of a fact its schema refuses', () => {
    const broken = { ...on, type: 'toolcall.backoff.scheduled', n: 1, delayMs: -5, until: 0, retryAfter: false };
    let thrown: unknown;
    try {
      writer().toEnvelope('run-1', broken as EmittedFact);
    } catch (error) {
      thrown = error;
    }
    expect(isRetraceError(thrown)).toBe(true);
    if (!isRetraceError(thrown)) return;
    expect(thrown.location?.path).toBe('data.delayMs');
    expect(thrown.describe()).toBe('data.delayMs: toolcall.backoff.scheduled: Too small: expected number to be >=0');
  });

  it('continues a resumed run after its last seq, and starts a forgotten run again from 1', () => {
    const events = writer();
    events.resumeRun('run-1', 41);
    expect(events.toEnvelope('run-1', fact('toolcall.attempt.started')).seq).toBe(42);
    events.forgetRun('run-1');
    expect(events.toEnvelope('run-1', fact('toolcall.attempt.started')).seq).toBe(1);
    expect(() => events.resumeRun('run-1', -1)).toThrow(
      'run run-1: the last seq must be a whole number from 0, not -1',
    );
  });

  it('redacts args and results by path from the data, and secret-looking keys in them', () => {
    const events = writer({ redact: ['args.sql', 'result.structuredContent.rows'] });
    const requested = events.toEnvelope('run-1', {
      ...on,
      type: 'toolcall.requested',
      args: { sql: 'select * from users', api_key: 'k-1', limit: 10 },
      fallbacks: [],
    });
    expect(requested.data).toEqual({
      server: 'db',
      tool: 'query',
      args: { sql: REDACTED, api_key: REDACTED, limit: 10 },
      fallbacks: [],
    });
    const succeeded = events.toEnvelope('run-1', fact('toolcall.succeeded'));
    expect(succeeded.type === 'toolcall.succeeded' && succeeded.data.result).toEqual({
      content: [{ type: 'text', text: '3 rows' }],
      structuredContent: { rows: REDACTED },
    });
    expect(succeeded.type === 'toolcall.succeeded' && succeeded.data.probeToken).toBe('call-1#2');
  });

  it('redacts the headers of a failed attempt without touching its probe token', () => {
    const failure: ClassifiedFailure = {
      ...timeout,
      kind: 'rate_limit',
      cause: { source: 'http', status: 429, headers: { authorization: 'Bearer x', 'retry-after': '2' }, message: '' },
    };
    const event = writer().toEnvelope('run-1', { ...fact('toolcall.attempt.failed'), failure });
    expect(event.type === 'toolcall.attempt.failed' && event.data.failure.cause).toEqual({
      source: 'http',
      status: 429,
      headers: { authorization: REDACTED, 'retry-after': '2' },
      message: '',
    });
    expect(event.type === 'toolcall.attempt.failed' && event.data.probeToken).toBe('call-1#1');
  });

  it('leaves the emitted fact as it was', () => {
    const requested = { ...on, type: 'toolcall.requested' as const, args: { password: 'p' }, fallbacks: [] };
    writer().toEnvelope('run-1', requested);
    expect(requested.args).toEqual({ password: 'p' });
  });

  it('replaces a result over maxResultBytes by a truncation marker with its size and a preview', () => {
    const big = textResult('é'.repeat(600));
    const json = JSON.stringify(big);
    const bytes = Buffer.byteLength(json);
    expect(bytes).toBe(json.length + 600);
    const events = writer({ maxResultBytes: bytes - 1 });
    const event = events.toEnvelope('run-1', succeededWith(big));
    expect(event.type === 'toolcall.succeeded' && event.data.result).toEqual({
      truncated: true,
      bytes,
      preview: json.slice(0, TRUNCATION_PREVIEW_CHARS),
    });
    const fits = writer({ maxResultBytes: bytes }).toEnvelope('run-1', succeededWith(big));
    expect(fits.type === 'toolcall.succeeded' && fits.data.result).toEqual(big);
  });

  it('truncates the raw tool result of a failed attempt under the same limit', () => {
    const raw = { isError: true, content: [{ type: 'text', text: 'x'.repeat(200) }] };
    const failure: ClassifiedFailure = { ...timeout, cause: { source: 'tool', text: 'x', result: raw } };
    const event = writer({ maxResultBytes: 100 }).toEnvelope('run-1', { ...fact('toolcall.attempt.failed'), failure });
    expect(event.type === 'toolcall.attempt.failed' && event.data.failure.cause).toEqual({
      source: 'tool',
      text: 'x',
      result: { truncated: true, bytes: JSON.stringify(raw).length, preview: JSON.stringify(raw).slice(0, 100) },
    });
  });

  it('keeps results up to 64 KiB by default', () => {
    expect(DEFAULT_MAX_RESULT_BYTES).toBe(65_536);
    const text = 'x'.repeat(65_536 - JSON.stringify(textResult('')).length);
    const event = writer().toEnvelope('run-1', succeededWith(textResult(text)));
    expect(event.type === 'toolcall.succeeded' && event.data.result).toEqual(textResult(text));
    const over = writer().toEnvelope('run-1', succeededWith(textResult(`${text}y`)));
    expect(over.type === 'toolcall.succeeded' && over.data.result).toMatchObject({ truncated: true, bytes: 65_537 });
  });

  it('refuses a size limit that is not a whole number of bytes', () => {
    expect(() => writer({ maxResultBytes: 0 })).toThrow('maxResultBytes must be a whole number of bytes from 1, not 0');
  });
});
