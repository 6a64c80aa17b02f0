// The runtime against real MCP servers over real transports; backoff runs on a time-skipping clock.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type RuntimeEvent } from '../../src/actors/runtime.js';
import type { ServerConfig } from '../../src/actors/serverConfig.js';
import type { RuntimeConfigInput } from '../../src/config/runtimeConfig.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';
import { flakyStdioConfig, isAlive, serverEverythingConfig, startFlakyHttp } from '../support/servers.js';

interface Harness {
  runtime: Runtime;
  clock: TestClock;
  events: RuntimeEvent[];
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (open.length) await open.pop()?.();
});

/** Backoff waits are skipped on the test clock the moment they are scheduled; I/O stays real. */
function harness(servers: Record<string, ServerConfig>, config: Omit<RuntimeConfigInput, 'servers'> = {}): Harness {
  const clock = createTestClock(1_700_000_000_000);
  const runtime = createRuntime({ config: { servers, ...config }, clock, random: () => 0.5 });
  const events: RuntimeEvent[] = [];
  runtime.on('event', (event) => {
    events.push(event);
    if (event.type === 'toolcall.backoff.scheduled') setImmediate(() => clock.advance(event.delayMs));
  });
  open.push(() => runtime.close());
  return { runtime, clock, events };
}

const delays = (events: RuntimeEvent[]) =>
  events.flatMap((event) => (event.type === 'toolcall.backoff.scheduled' ? [event.delayMs] : []));

interface FlakyStats {
  pid: number;
  calls: Record<string, number>;
  cancellations: number;
}

async function flakyStats(runtime: Runtime, server = 'flaky'): Promise<FlakyStats> {
  return (await runtime.callTool(server, 'stats', {})).result?.structuredContent as unknown as FlakyStats;
}

/** Waits on real I/O (no timer) until the server has received a call of `tool`. */
async function untilServerHas(runtime: Runtime, tool: string): Promise<void> {
  for (let poll = 0; poll < 1000; poll += 1) if (((await flakyStats(runtime)).calls[tool] ?? 0) >= 1) return;
  throw new Error(`the server never received a call of ${tool}`);
}

describe('runtime over stdio with the flaky server', () => {
  const noJitter = { defaults: { jitter: 'none' as const } };

  it('rides out two transient failures and succeeds on the third attempt', async () => {
    const { runtime, events } = harness({ flaky: flakyStdioConfig() }, noJitter);
    const outcome = await runtime.callTool('flaky', 'flaky', { key: 'a', failures: 2 });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts.map((attempt) => attempt.error?.kind)).toEqual(['unavailable', 'unavailable', undefined]);
    expect(delays(events)).toEqual([2000, 2000]);
    expect(outcome.result?.structuredContent).toEqual({ attempt: 3 });
  });

  it('reconnects to a fresh process after the server dies mid-call', async () => {
    const { runtime } = harness(
      { flaky: flakyStdioConfig() },
      { tools: { flaky: { max_retries: 2, fallbacks: ['echo'] } }, ...noJitter },
    );
    const before = (await flakyStats(runtime)).pid;
    // The failure counter lives in the server process, so every fresh process dies again: each attempt meets a new one.
    const outcome = await runtime.callTool('flaky', 'flaky', {
      key: 'crash',
      failures: 1,
      error: 'exit',
      message: 'x',
    });
    expect(outcome.attempts.slice(0, 3).map((attempt) => attempt.error?.kind)).toEqual([
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
    expect(outcome.attempts[0]?.error?.message).toMatch(/exit/i);
    expect(outcome.status).toBe('fallback');
    const after = (await flakyStats(runtime)).pid;
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);
  });

  it('returns invalid params (-32602) to the caller after one attempt', async () => {
    const { runtime } = harness({ flaky: flakyStdioConfig() });
    const outcome = await runtime.callTool('flaky', 'fail', { kind: 'invalid_params' });
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.error).toMatchObject({ class: 'permanent', kind: 'invalid_input' });
  });

  it('routes an unimplemented method (-32601) and an unknown tool to the alternative', async () => {
    const { runtime } = harness(
      { flaky: flakyStdioConfig() },
      { tools: { fail: { fallbacks: ['echo'] }, nope: { fallbacks: ['echo'] } } },
    );
    const unimplemented = await runtime.callTool('flaky', 'fail', { kind: 'unimplemented', message: 'via fallback' });
    expect(unimplemented.status).toBe('fallback');
    expect(unimplemented.tool?.tool).toBe('echo');
    const unknown = await runtime.callTool('flaky', 'nope', { message: 'via fallback' });
    expect(unknown.status).toBe('fallback');
    expect(unknown.attempts[0]?.error?.kind).toBe('unimplemented');
  });

  it('cuts a hanging attempt at its timeout, cancels it on the server, and retries', async () => {
    const { runtime, clock } = harness(
      { flaky: flakyStdioConfig() },
      { tools: { flaky: { timeout: '5s' } }, ...noJitter },
    );
    const pending = runtime.callTool('flaky', 'flaky', { key: 'hang', failures: 1, error: 'hang' });
    // Wait (on real I/O, not a timer) until the server has the call, then let the attempt's 5 s pass.
    await untilServerHas(runtime, 'flaky');
    clock.advance(5000);
    const outcome = await pending;
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts[0]).toMatchObject({ durationMs: 5000, error: { kind: 'timeout' } });
    expect((await flakyStats(runtime)).cancellations).toBeGreaterThanOrEqual(1);
  });

  it('escalates rather than repeats a timed-out non-idempotent write', async () => {
    const { runtime, clock } = harness(
      { flaky: flakyStdioConfig(['--plan', JSON.stringify({ write_record: ['timeout'] })]) },
      { tools: { write_record: { timeout: '2s' } } },
    );
    const pending = runtime.callTool('flaky', 'write_record', { id: 'r1', data: { amount: 10 } });
    await untilServerHas(runtime, 'write_record');
    clock.advance(2000);
    const outcome = await pending;
    expect(outcome.status).toBe('escalated');
    expect(outcome.escalation?.trigger).toBe('unsafe_to_repeat');
    expect((await flakyStats(runtime)).calls['write_record']).toBe(1);
  });
});

describe('runtime over Streamable HTTP with the flaky server', () => {
  async function httpHarness(config: Omit<RuntimeConfigInput, 'servers'> = {}) {
    const server = await startFlakyHttp();
    open.push(() => server.close());
    return harness({ web: { url: server.url } }, { defaults: { jitter: 'none' }, ...config });
  }

  it('waits as the 429 Retry-After header says, then succeeds', async () => {
    const { runtime, events } = await httpHarness();
    const outcome = await runtime.callTool('web', 'flaky', {
      key: 'r',
      failures: 1,
      error: 'http_status',
      status: 429,
      headers: { 'retry-after': '7' },
    });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts[0]?.error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 7000 });
    expect(delays(events)).toEqual([7000]);
  });

  it('reads a Retry-After given as an HTTP date', async () => {
    const { runtime, events, clock } = await httpHarness();
    const date = new Date(clock.now() + 30_000).toUTCString();
    const outcome = await runtime.callTool('web', 'flaky', {
      key: 'd',
      failures: 1,
      error: 'http_status',
      status: 503,
      headers: { 'retry-after': date },
    });
    expect(outcome.status).toBe('succeeded');
    expect(delays(events)[0]).toBeGreaterThan(29_000);
    expect(delays(events)[0]).toBeLessThanOrEqual(30_000);
  });

  it('retries 502/503/504 as unavailable', async () => {
    const { runtime } = await httpHarness();
    for (const status of [502, 503, 504]) {
      const outcome = await runtime.callTool('web', 'flaky', {
        key: `s${status}`,
        failures: 1,
        error: 'http_status',
        status,
      });
      expect(outcome.status).toBe('succeeded');
      expect(outcome.attempts[0]?.error?.kind).toBe('unavailable');
    }
  });

  it('escalates 401 and 403 to a person', async () => {
    const { runtime } = await httpHarness();
    const auth = await runtime.callTool('web', 'flaky', { key: 'u', failures: 1, error: 'http_status', status: 401 });
    expect(auth.escalation).toMatchObject({ trigger: 'auth_failed', level: 'critical' });
    const denied = await runtime.callTool('web', 'flaky', { key: 'f', failures: 1, error: 'http_status', status: 403 });
    expect(denied.escalation).toMatchObject({ trigger: 'permission_denied' });
  });

  it('survives a connection dropped mid-call', async () => {
    const { runtime } = await httpHarness();
    const outcome = await runtime.callTool('web', 'flaky', { key: 'drop', failures: 1, error: 'drop' });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts[0]?.error?.class).toBe('transient');
  });

  it('keeps the structured retry_after of an isError result', async () => {
    const { runtime, events } = await httpHarness();
    const outcome = await runtime.callTool('web', 'flaky', {
      key: 'st',
      failures: 1,
      error: 'is_error_structured',
      error_type: 'rate_limit',
      retry_after: 4,
    });
    expect(outcome.status).toBe('succeeded');
    expect(delays(events)).toEqual([4000]);
  });
});

describe('runtime with a published server', () => {
  it('lists server-everything tools and calls its echo tool', async () => {
    const { runtime } = harness({ everything: serverEverythingConfig() });
    const tools = await runtime.listTools('everything');
    expect(tools.map((tool) => tool.name)).toContain('echo');
    const outcome = await runtime.callTool('everything', 'echo', { message: 'hi' });
    expect(outcome.status).toBe('succeeded');
    expect(JSON.stringify(outcome.result?.content)).toContain('hi');
  });
});
