import { describe, expect, it } from 'vitest';
import { defaultRecommendedActions } from '../../src/policy/escalation.js';
import {
  eventsOf,
  fail,
  hang,
  http,
  ok,
  processExit,
  rpc,
  runCall,
  settle,
  startCall,
  target,
  toolText,
} from '../support/toolCallHarness.js';

const timeoutFailure = rpc(-32001, 'Request timed out');
const delaysOf = (events: Parameters<typeof eventsOf>[0]) =>
  eventsOf(events, 'toolcall.backoff.scheduled').map((event) => event.delayMs);

describe('tool-call machine: retry and backoff on a simulated clock', () => {
  it('waits exactly base_delay × exponential_base^attempt between attempts without jitter', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', base_delay: 1, exponential_base: 2, max_retries: 3 }),
      script: { primary: [fail(timeoutFailure), fail(timeoutFailure), fail(timeoutFailure), ok('done')] },
    });
    expect(run.outcome.status).toBe('succeeded');
    expect(delaysOf(run.events)).toEqual([1000, 2000, 4000]);
    const start = run.outcome.startedAt;
    expect(run.outcome.attempts.map((attempt) => attempt.startedAt - start)).toEqual([0, 1000, 3000, 7000]);
    expect(run.outcome.attempts.map((attempt) => attempt.n)).toEqual([1, 2, 3, 4]);
  });

  it('caps the delay at max_delay', async () => {
    const run = await runCall({
      primary: target('primary', {
        jitter: 'none',
        base_delay: 10,
        exponential_base: 3,
        max_delay: 20,
        max_retries: 4,
      }),
      script: {
        primary: [fail(timeoutFailure), fail(timeoutFailure), fail(timeoutFailure), fail(timeoutFailure), ok()],
      },
    });
    expect(delaysOf(run.events)).toEqual([10_000, 20_000, 20_000, 20_000]);
  });

  it('accepts durations as strings with units', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', base_delay: '250ms', max_retries: 2 }),
      script: { primary: [fail(timeoutFailure), fail(timeoutFailure), ok()] },
    });
    expect(delaysOf(run.events)).toEqual([250, 500]);
  });

  it('gives up after max_retries and fails with retries_exhausted', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', max_retries: 2 }),
      script: { primary: [fail(timeoutFailure), fail(timeoutFailure), fail(timeoutFailure)] },
    });
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.attempts).toHaveLength(3);
    expect(run.outcome.error?.kind).toBe('timeout');
    expect(eventsOf(run.events, 'toolcall.attempt.failed').at(-1)?.reason).toBe('retries_exhausted');
  });

  it('runs hours of backoff in a moment of real time', async () => {
    const failures = Array.from({ length: 40 }, () => fail(timeoutFailure));
    const run = await runCall({
      primary: target('primary', {
        jitter: 'none',
        base_delay: '1h',
        max_delay: '1h',
        max_retries: 40,
        deadline: '100h',
      }),
      script: { primary: [...failures, ok()] },
    });
    expect(run.outcome.status).toBe('succeeded');
    expect(run.outcome.finishedAt - run.outcome.startedAt).toBe(40 * 3_600_000);
  });

  it.each(['full', 'equal', 'decorrelated'] as const)('keeps %s jitter within its bounds', async (jitter) => {
    for (let seed = 0; seed < 1; seed += 0.05) {
      const run = await runCall({
        seed,
        primary: target('primary', { jitter, base_delay: 1, max_delay: 8, max_retries: 5 }),
        script: { primary: [...Array.from({ length: 5 }, () => fail(timeoutFailure)), ok()] },
      });
      const delays = delaysOf(run.events);
      expect(delays).toHaveLength(5);
      let previous = 1000;
      delays.forEach((delay, retry) => {
        const computed = Math.min(1000 * 2 ** retry, 8000);
        if (jitter === 'full') expect(delay).toBeGreaterThanOrEqual(0);
        if (jitter === 'equal') expect(delay).toBeGreaterThanOrEqual(computed / 2);
        if (jitter !== 'decorrelated') expect(delay).toBeLessThanOrEqual(computed);
        if (jitter === 'decorrelated') {
          expect(delay).toBeGreaterThanOrEqual(1000);
          expect(delay).toBeLessThanOrEqual(Math.min(8000, previous * 3));
        }
        previous = delay;
      });
    }
  });

  it('draws the same jitter from the same seed, and different jitter from another', async () => {
    const script = () => ({ primary: [fail(timeoutFailure), fail(timeoutFailure), fail(timeoutFailure), ok()] });
    const primary = target('primary', { jitter: 'full' });
    const a = await runCall({ seed: 0.123, primary, script: script() });
    const b = await runCall({ seed: 0.123, primary, script: script() });
    const c = await runCall({ seed: 0.777, primary, script: script() });
    expect(delaysOf(a.events)).toEqual(delaysOf(b.events));
    expect(delaysOf(a.events)).not.toEqual(delaysOf(c.events));
  });

  it('honours Retry-After over the computed backoff, even beyond max_delay', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', base_delay: 1, max_delay: 5 }),
      script: { primary: [fail(http(429, { 'retry-after': '7' })), fail(http(429, { 'retry-after': '12' })), ok()] },
    });
    expect(run.outcome.status).toBe('succeeded');
    expect(delaysOf(run.events)).toEqual([7000, 12_000]);
    expect(eventsOf(run.events, 'toolcall.backoff.scheduled').every((event) => event.retryAfter)).toBe(true);
  });

  it('does not wait for a Retry-After that ends past the deadline', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', deadline: 10 }),
      script: { primary: [fail(http(429, { 'retry-after': '60' }))] },
    });
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.attempts).toHaveLength(1);
    expect(eventsOf(run.events, 'toolcall.attempt.failed')[0]?.reason).toBe('deadline');
    expect(run.outcome.finishedAt - run.outcome.startedAt).toBe(0);
  });

  it('stops retrying when the next attempt would start after the overall deadline', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', base_delay: 2, deadline: 5, max_retries: 10 }),
      script: { primary: [fail(timeoutFailure), fail(timeoutFailure)] },
    });
    expect(delaysOf(run.events)).toEqual([2000]);
    expect(run.outcome.attempts).toHaveLength(2);
    expect(eventsOf(run.events, 'toolcall.attempt.failed').at(-1)?.reason).toBe('deadline');
  });

  it('cancels an attempt that runs past its timeout and retries it', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', timeout: '3s', base_delay: 1 }),
      script: { primary: [hang, ok()] },
    });
    expect(run.outcome.status).toBe('succeeded');
    expect(run.aborted).toEqual(['primary#1']);
    expect(run.outcome.attempts[0]?.error?.kind).toBe('timeout');
    expect(run.outcome.attempts[0]?.durationMs).toBe(3000);
    expect(run.outcome.attempts[1]!.startedAt - run.outcome.startedAt).toBe(4000);
  });

  it('cuts the attempt timeout to what is left of the deadline', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none', timeout: '30s', deadline: '5s', base_delay: 1 }),
      script: { primary: [fail(timeoutFailure, 2000), hang] },
    });
    // attempt 1 ends at 2 s, the retry starts at 3 s, and only 2 s of the deadline remain for it.
    expect(run.outcome.attempts[1]?.durationMs).toBe(2000);
    expect(run.outcome.status).toBe('failed');
  });

  it('escalates instead of repeating a non-idempotent call that may have taken effect', async () => {
    const run = await runCall({
      primary: target('primary', { idempotent: false, timeout: '1s' }),
      script: { primary: [hang] },
    });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.attempts).toHaveLength(1);
    expect(run.outcome.escalation).toMatchObject({ trigger: 'unsafe_to_repeat', level: 'warning' });
  });

  it('retries a non-idempotent call whose failure proves it never ran', async () => {
    const run = await runCall({
      primary: target('primary', { idempotent: false, jitter: 'none' }),
      script: { primary: [fail(http(429, { 'retry-after': '1' })), ok()] },
    });
    expect(run.outcome.status).toBe('succeeded');
  });

  it('stops the attempt and ends as failed when cancelled during backoff', async () => {
    const started = startCall({
      primary: target('primary', { jitter: 'none', base_delay: 60 }),
      script: { primary: [fail(timeoutFailure), ok()] },
    });
    await new Promise((resolve) => setImmediate(resolve));
    started.clock.runNext();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started.run.state()).toBe('backoff');
    started.run.cancel('user pressed ctrl-c');
    const outcome = await settle(started.run, started.clock);
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.kind).toBe('cancelled');
    expect(started.clock.pending()).toBe(0);
  });

  it('aborts the in-flight attempt when cancelled while calling', async () => {
    const started = startCall({ script: { primary: [hang] } });
    await new Promise((resolve) => setImmediate(resolve));
    started.run.cancel();
    const outcome = await settle(started.run, started.clock);
    expect(outcome.error?.kind).toBe('cancelled');
    expect(started.aborted).toEqual(['primary#1']);
  });
});

describe('tool-call machine: policy filters and tool rules', () => {
  it('retries only the classes or kinds the policy calls retryable', async () => {
    const primary = target('primary', { retryable: ['timeout'], jitter: 'none', base_delay: 1 });
    const unavailableRun = await runCall({ primary, script: { primary: [fail(http(503))] } });
    expect(unavailableRun.outcome.status).toBe('failed');
    expect(unavailableRun.outcome.attempts).toHaveLength(1);
    expect(eventsOf(unavailableRun.events, 'toolcall.attempt.failed')[0]?.reason).toBe('not_retryable_by_policy');
    const timeoutRun = await runCall({ primary, script: { primary: [fail(timeoutFailure), ok()] } });
    expect(timeoutRun.outcome.status).toBe('succeeded');
    expect(timeoutRun.outcome.attempts).toHaveLength(2);
  });

  it("classifies by the tool's own rules before the defaults, with their retry-after field", async () => {
    const primary = target('primary', {
      jitter: 'none',
      classify: [
        {
          name: 'busy',
          when: { field: { path: 'error.code', equals: 'E_BUSY' } },
          kind: 'lock',
          retry_after_field: 'error.wait',
        },
      ],
    });
    const run = await runCall({
      primary,
      script: { primary: [fail(toolText('Invalid request', { error: { code: 'E_BUSY', wait: 3 } })), ok()] },
    });
    expect(run.outcome.status).toBe('succeeded');
    expect(run.outcome.attempts[0]?.error).toMatchObject({ kind: 'lock', rule: 'tool:busy', retryAfterMs: 3000 });
    expect(delaysOf(run.events)).toEqual([3000]);
  });
});

describe('tool-call machine: every row of the seed tables drives its path', () => {
  it.each([
    ['connection timeout', rpc(-32001, 'Request timed out'), 'timeout', [1000, 2000, 4000]],
    ['database lock', toolText('deadlock detected while updating schedule'), 'lock', [100, 100, 100]],
    ['service unavailable', http(503), 'unavailable', [2000, 2000, 2000]],
    ['temporary resource', toolText('Celery queue full, try again later'), 'resource', [1000, 1000, 1000]],
    ['server process died', processExit(), 'unavailable', [2000, 2000, 2000]],
  ] as const)('retries a %s with the seed strategy', async (_name, failure, kind, delays) => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none' }),
      script: { primary: [fail(failure), fail(failure), fail(failure), fail(failure)] },
    });
    expect(run.outcome.attempts).toHaveLength(4);
    expect(run.outcome.error?.kind).toBe(kind);
    expect(delaysOf(run.events)).toEqual(delays);
  });

  it('waits for a rate limit as its headers say, then succeeds', async () => {
    const run = await runCall({ script: { primary: [fail(http(429, { 'retry-after': '3' })), ok()] } });
    expect(run.outcome.status).toBe('succeeded');
    expect(delaysOf(run.events)).toEqual([3000]);
  });

  it.each([
    ['invalid input', rpc(-32602, 'Invalid params: start_date must be a date'), 'invalid_input'],
    ['resource not found', toolText('schedule_id 99 does not exist'), 'not_found'],
  ] as const)('returns %s to the caller at once', async (_name, failure, kind) => {
    const run = await runCall({
      primary: target('primary', { fallbacks: ['alternative'] }),
      fallbacks: [target('alternative')],
      script: { primary: [fail(failure)] },
    });
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.error?.kind).toBe(kind);
    expect(run.calls).toEqual(['primary']);
  });

  it.each([
    ['authentication failed', http(401), 'auth', 'auth_failed'],
    ['permission denied', toolText('Permission denied: insufficient privileges'), 'permission', 'permission_denied'],
  ] as const)('escalates %s to a person at critical level', async (_name, failure, kind, trigger) => {
    const run = await runCall({ script: { primary: [fail(failure)] } });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.escalation).toMatchObject({ level: 'critical', trigger, kind });
    expect(run.outcome.escalation?.recommendedAction).toBe(defaultRecommendedActions[kind]);
    expect(run.calls).toEqual(['primary']);
  });

  it('escalates a data constraint violation and keeps its suggestions', async () => {
    const failure = toolText('ACGME rule violated', {
      error: { type: 'constraint_violation', suggestions: ['move shift to Tuesday', 'add a resident'] },
    });
    const run = await runCall({ script: { primary: [fail(failure)] } });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.escalation).toMatchObject({ trigger: 'data_integrity', kind: 'constraint' });
    expect(run.outcome.escalation?.suggestions).toEqual(['move shift to Tuesday', 'add a resident']);
    expect(run.outcome.error?.suggestions).toEqual(['move shift to Tuesday', 'add a resident']);
  });

  it('routes an unimplemented tool straight to its alternative', async () => {
    const run = await runCall({
      primary: target('primary', { fallbacks: ['alternative'] }),
      fallbacks: [target('alternative')],
      script: { primary: [fail(rpc(-32601, 'Method not found'))], alternative: [ok('from alternative')] },
    });
    expect(run.outcome.status).toBe('fallback');
    expect(run.outcome.tool).toEqual({ server: 'srv', tool: 'alternative' });
    expect(run.calls).toEqual(['primary', 'alternative']);
    expect(eventsOf(run.events, 'toolcall.fallback.started')[0]).toMatchObject({ reason: 'unimplemented' });
  });

  it('serves fresh cached data when the backend is down', async () => {
    const run = await runCall({
      primary: target('primary', { cache: { ttl: '5m' } }),
      cache: { primary: { result: { content: [{ type: 'text', text: 'cached' }] }, storedAt: 1_000_000 - 42_000 } },
      script: { primary: [fail(toolText('Backend API down'))] },
    });
    expect(run.outcome.status).toBe('cached');
    expect(run.outcome.cachedAgeMs).toBe(42_000);
    expect(run.outcome.result?.content).toEqual([{ type: 'text', text: 'cached' }]);
    expect(run.calls).toEqual(['primary']);
  });

  it('does not serve a cached entry older than its TTL', async () => {
    const run = await runCall({
      primary: target('primary', { cache: { ttl: '5m' } }),
      cache: { primary: { result: { content: [] }, storedAt: 1_000_000 - 301_000 } },
      script: { primary: [fail(toolText('Backend API down'))] },
    });
    expect(run.outcome.status).toBe('failed');
    expect(eventsOf(run.events, 'toolcall.cache.miss')[0]).toMatchObject({ reason: 'stale', ageMs: 301_000 });
  });

  it('serves the cache after transient retries are exhausted', async () => {
    const run = await runCall({
      primary: target('primary', { cache: true, max_retries: 1, jitter: 'none' }),
      cache: { primary: { result: { content: [] }, storedAt: 1_000_000 } },
      script: { primary: [fail(http(503)), fail(http(503))] },
    });
    expect(run.outcome.status).toBe('cached');
    expect(run.outcome.cachedAgeMs).toBe(2000);
  });

  it('runs the synchronous alternative under its deadline when the worker is offline', async () => {
    const run = await runCall({
      primary: target('primary', { sync_alternative: { tool: 'run_sync' } }),
      syncAlternative: target('run_sync', { timeout: 30, deadline: 30 }),
      script: { primary: [fail(toolText('Celery worker offline'))], run_sync: [ok('sync result', 12_000)] },
    });
    expect(run.outcome.status).toBe('fallback');
    expect(run.outcome.tool?.tool).toBe('run_sync');
    expect(run.outcome.warnings.join('\n')).toMatch(/synchronously/);
  });

  it('fails gracefully when the synchronous alternative overruns its deadline', async () => {
    const run = await runCall({
      primary: target('primary', { sync_alternative: { tool: 'run_sync' } }),
      syncAlternative: target('run_sync', { timeout: 30, deadline: 30, idempotent: true, max_retries: 0 }),
      script: { primary: [fail(toolText('no workers available: celery worker offline'))], run_sync: [hang] },
    });
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.attempts[1]?.durationMs).toBe(30_000);
  });

  it('skips a non-critical tool of a degraded server with a warning', async () => {
    const run = await runCall({ script: { primary: [fail(toolText('MCP server degraded'))] } });
    expect(run.outcome.status).toBe('skipped');
    expect(run.outcome.warnings.join('\n')).toMatch(/skipped/);
  });

  it('does not skip a critical tool of a degraded server', async () => {
    const run = await runCall({
      primary: target('primary', { critical: true }),
      script: { primary: [fail(toolText('MCP server degraded'))] },
    });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.escalation?.trigger).toBe('critical_tool_failed');
  });

  it('returns partial data with a warning', async () => {
    const run = await runCall({
      script: {
        primary: [{ ok: { content: [{ type: 'text', text: '3 of 5' }], structuredContent: { partial: true } } }],
      },
    });
    expect(run.outcome.status).toBe('partial');
    expect(run.outcome.warnings).toHaveLength(1);
    expect(run.outcome.warnings[0]).toMatch(/partial/i);
  });
});

describe('tool-call machine: fallback chain, breaker and escalation', () => {
  it('tries the fallback chain in order, each tool with its own policy', async () => {
    const run = await runCall({
      primary: target('primary', { max_retries: 0, fallbacks: ['first', 'second'] }),
      fallbacks: [target('first', { max_retries: 1, jitter: 'none', base_delay: 5 }), target('second')],
      script: {
        primary: [fail(http(503))],
        first: [fail(http(502)), fail(http(502))],
        second: [ok('second answers')],
      },
    });
    expect(run.outcome.status).toBe('fallback');
    expect(run.calls).toEqual(['primary', 'first', 'first', 'second']);
    // `first` sets base_delay for itself, which overrides the seed's 2 s for unavailable servers.
    expect(delaysOf(run.events)).toEqual([5000]);
    expect(run.outcome.tool?.tool).toBe('second');
  });

  it('answers an empty result with a warning for a null in the chain', async () => {
    const run = await runCall({
      primary: target('primary', { max_retries: 0, fallbacks: [null] }),
      fallbacks: [null],
      script: { primary: [fail(http(503))] },
    });
    expect(run.outcome.status).toBe('fallback');
    expect(run.outcome.result).toEqual({ content: [] });
    expect(run.outcome.warnings.join('\n')).toMatch(/empty result/);
    // The empty answer is not a success of the tool that failed: no attempt number, no breaker token.
    expect(eventsOf(run.events, 'toolcall.succeeded')[0]).toMatchObject({
      status: 'fallback',
      n: undefined,
      probeToken: undefined,
    });
  });

  it('escalates when every fallback is exhausted', async () => {
    const run = await runCall({
      primary: target('primary', { max_retries: 0 }),
      fallbacks: [target('first', { max_retries: 0 })],
      script: { primary: [fail(http(503))], first: [fail(http(503))] },
    });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.escalation).toMatchObject({ trigger: 'fallbacks_exhausted', level: 'warning' });
  });

  it('escalates a failed critical tool with its configured level and action', async () => {
    const run = await runCall({
      primary: target('promote_to_production_tool', {
        critical: true,
        max_retries: 1,
        jitter: 'none',
        escalation: { level: 'emergency', recommended_action: '1. Check deployment logs' },
      }),
      script: { promote_to_production_tool: [fail(http(503)), fail(http(503))] },
    });
    expect(run.outcome.status).toBe('escalated');
    expect(run.outcome.escalation).toMatchObject({
      level: 'emergency',
      trigger: 'critical_tool_failed',
      recommendedAction: '1. Check deployment logs',
    });
  });

  it('uses a per-kind escalation setting over the tool one', async () => {
    const run = await runCall({
      primary: target('primary', {
        escalation: {
          level: 'warning',
          by_kind: { auth: { level: 'emergency', recommended_action: 'rotate the key' } },
        },
      }),
      script: { primary: [fail(http(401))] },
    });
    expect(run.outcome.escalation).toMatchObject({ level: 'emergency', recommendedAction: 'rotate the key' });
  });

  it('short-circuits to the fallback without calling a tool whose breaker is open', async () => {
    const run = await runCall({
      primary: target('primary', { fallbacks: ['alternative'] }),
      fallbacks: [target('alternative')],
      breakerRefuses: (key) => key === 'srv/primary',
      script: { alternative: [ok()] },
    });
    expect(run.calls).toEqual(['alternative']);
    expect(run.outcome.status).toBe('fallback');
    expect(run.outcome.attempts[0]?.error?.kind).toBe('circuit_open');
    expect(eventsOf(run.events, 'toolcall.fallback.started')[0]?.reason).toBe('circuit_open');
  });

  it('emits its facts in order for a call that retries then succeeds', async () => {
    const run = await runCall({
      primary: target('primary', { jitter: 'none' }),
      script: { primary: [fail(http(503)), ok()] },
    });
    expect(run.events.map((event) => event.type)).toEqual([
      'toolcall.requested',
      'toolcall.attempt.started',
      'toolcall.attempt.failed',
      'toolcall.backoff.scheduled',
      'toolcall.attempt.started',
      'toolcall.succeeded',
    ]);
    expect(eventsOf(run.events, 'toolcall.backoff.scheduled')[0]).toMatchObject({ delayMs: 2000, until: 1_002_000 });
  });
});

describe('tool-call runner: backoff without a live actor', () => {
  it('parks a call in backoff as a snapshot with one scheduler timer, and resumes it at retryAt', async () => {
    const started = startCall({
      primary: target('primary', { jitter: 'none', base_delay: '10m', max_delay: '10m', deadline: '1h' }),
      script: { primary: [fail(timeoutFailure), ok('after ten minutes')] },
    });
    await new Promise((resolve) => setImmediate(resolve));
    started.clock.runNext(); // the scripted attempt answers (after 0 ms on the clock)
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(started.run.state()).toBe('backoff');
    expect(started.clock.pending()).toBe(1);
    started.clock.advance(600_000 - 1);
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(started.run.state()).toBe('backoff');
    const outcome = await settle(started.run, started.clock);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts[1]!.startedAt - outcome.startedAt).toBe(600_000);
    expect(started.events.filter((event) => event.type === 'toolcall.requested')).toHaveLength(1);
  });
});
