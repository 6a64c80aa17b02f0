import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/actors/logger.js';
import { createRuntime, type RuntimeEvent } from '../../src/actors/runtime.js';
import type { Escalation } from '../../src/policy/escalation.js';
import { parseConfigText } from '../../src/config/loadConfig.js';
import { parseRuntimeConfig, type RuntimeConfigInput } from '../../src/config/runtimeConfig.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { createScriptedConnector, type ScriptedAnswer } from '../support/scriptedConnector.js';
import { drive } from '../support/driveClock.js';

const unavailable: ScriptedAnswer = { failure: { source: 'http', status: 503, headers: {}, message: 'HTTP 503' } };
const invalid: ScriptedAnswer = { failure: { source: 'rpc', code: -32602, message: 'Invalid params' } };

function setup(
  config: RuntimeConfigInput,
  answer: Parameters<typeof createScriptedConnector>[1],
  tools = [] as Parameters<typeof createScriptedConnector>[2],
  listTools?: Parameters<typeof createScriptedConnector>[3],
) {
  const clock = createTestClock(1_700_000_000_000);
  const connector = createScriptedConnector(clock, answer, tools, listTools);
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination, pretty: false });
  const runtime = createRuntime({
    config: { servers: { srv: { command: 'unused' } }, ...config },
    connector,
    clock,
    random: () => 0.5,
    logger,
  });
  const escalations: Escalation[] = [];
  const events: RuntimeEvent[] = [];
  runtime.on('escalation', (escalation) => escalations.push(escalation));
  runtime.on('event', (event) => events.push(event));
  const call = (tool: string, args: Record<string, unknown> = {}) => drive(runtime.callTool('srv', tool, args), clock);
  return { clock, connector, runtime, escalations, events, lines, call };
}

describe('runtime on a simulated clock', () => {
  it('opens the shared breaker, short-circuits later calls to the fallback, then half-opens and closes', async () => {
    let healthy = false;
    const { runtime, connector, call, clock, events } = setup(
      {
        tools: {
          primary: {
            max_retries: 0,
            fallbacks: ['alternative'],
            breaker: { minimum_calls: 4, failure_threshold: 0.5, window_size: 10, cooldown: '30s' },
          },
        },
      },
      (request) => (request.tool === 'alternative' || healthy ? { text: 'ok' } : unavailable),
    );
    for (let i = 0; i < 4; i += 1) expect((await call('primary')).status).toBe('fallback');
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('open');
    const before = connector.calls.filter((request) => request.tool === 'primary').length;
    const shortCircuited = await call('primary');
    expect(shortCircuited.status).toBe('fallback');
    expect(shortCircuited.attempts[0]?.error?.kind).toBe('circuit_open');
    expect(connector.calls.filter((request) => request.tool === 'primary').length).toBe(before);
    expect(runtime.metrics().find((metrics) => metrics.tool === 'primary')?.shortCircuits).toBe(1);

    healthy = true;
    clock.advance(30_000);
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('halfOpen');
    expect((await call('primary')).status).toBe('succeeded');
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('closed');
    expect(events.filter((event) => event.type.startsWith('breaker.')).map((event) => event.type)).toEqual([
      'breaker.opened',
      'breaker.halfOpened',
      'breaker.closed',
    ]);
    await runtime.close();
  });

  it('waits out an open circuit when the call has no fallback and a retry left, and fails at once when it has none', async () => {
    let healthy = false;
    const { runtime, connector, call, clock } = setup(
      {
        tools: {
          primary: {
            max_retries: 2,
            retryable: ['transient'],
            breaker: { minimum_calls: 2, failure_threshold: 0.5, window_size: 10, cooldown: '30s' },
          },
          cached: {
            max_retries: 2,
            retryable: ['transient'],
            cache: true,
            breaker: { minimum_calls: 2, failure_threshold: 0.5, window_size: 10, cooldown: '30s' },
          },
          nowait: { max_retries: 0, breaker: { minimum_calls: 1, failure_threshold: 0.5, cooldown: '30s' } },
        },
      },
      () => (healthy ? { text: 'ok' } : unavailable),
    );
    // Two calls that fail every attempt open the circuit (max_retries 0 for them: only the breaker is under test).
    for (let i = 0; i < 2; i += 1) {
      expect((await drive(runtime.callTool('srv', 'primary', {}, { policy: { max_retries: 0 } }), clock)).status).toBe(
        'failed',
      );
    }
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('open');
    const before = connector.calls.length;
    healthy = true;
    const startedAt = clock.now();
    const waited = await call('primary');
    expect(waited.status).toBe('succeeded');
    expect(waited.attempts.map((attempt) => attempt.error?.kind ?? 'ok')).toEqual(['circuit_open', 'ok']);
    expect(clock.now() - startedAt).toBeGreaterThanOrEqual(30_000);
    expect(connector.calls.length).toBe(before + 1);
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('closed');

    // A read-only tool whose cache has nothing for these arguments: the miss, then the same wait.
    healthy = false;
    for (let i = 0; i < 2; i += 1) {
      await drive(runtime.callTool('srv', 'cached', { n: i }, { policy: { max_retries: 0 } }), clock);
    }
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/cached')?.state).toBe('open');
    healthy = true;
    const missed = await call('cached', { n: 99 });
    expect(missed.status).toBe('succeeded');
    expect(missed.attempts.map((attempt) => attempt.error?.kind ?? 'ok')).toEqual(['circuit_open', 'ok']);

    healthy = false;
    expect((await call('nowait')).status).toBe('failed');
    const refused = await call('nowait');
    expect(refused.status).toBe('failed');
    expect(refused.attempts.map((attempt) => attempt.error?.kind)).toEqual(['circuit_open']);
    await runtime.close();
  });

  it('waits only what is left of the cool-down when the circuit opened a while before the call', async () => {
    let healthy = false;
    const { runtime, call, clock, events } = setup(
      {
        tools: {
          primary: {
            max_retries: 2,
            retryable: ['transient'],
            breaker: { minimum_calls: 2, failure_threshold: 0.5, window_size: 10, cooldown: '30s' },
          },
        },
      },
      () => (healthy ? { text: 'ok' } : unavailable),
    );
    for (let i = 0; i < 2; i += 1) {
      await drive(runtime.callTool('srv', 'primary', {}, { policy: { max_retries: 0 } }), clock);
    }
    const openedAt = clock.now();
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/primary')?.state).toBe('open');
    clock.advance(20_000);
    healthy = true;
    const waited = await call('primary');
    expect(waited.status).toBe('succeeded');
    expect(waited.attempts.map((attempt) => attempt.error?.kind ?? 'ok')).toEqual(['circuit_open', 'ok']);
    // The breaker half-opened at openedAt + 30 s: the call asked again a millisecond later, not 30 s after it was refused.
    expect(waited.attempts[0]?.error?.retryAfterMs).toBe(10_000);
    expect(waited.attempts[1]?.startedAt).toBe(openedAt + 30_001);
    expect(events.filter((event) => event.type === 'breaker.halfOpened')).toHaveLength(1);
    await runtime.close();
  });

  it('frees the half-open probe slot of a call cancelled mid-attempt', async () => {
    let mode: 'fail' | 'hang' | 'ok' = 'fail';
    const { runtime, call, clock } = setup(
      { tools: { primary: { max_retries: 0, breaker: { minimum_calls: 2, cooldown: '10s', half_open_probes: 1 } } } },
      () => (mode === 'fail' ? unavailable : mode === 'hang' ? { hang: true } : { text: 'ok' }),
    );
    await call('primary');
    await call('primary');
    clock.advance(10_000);
    expect(runtime.breakers()[0]?.state).toBe('halfOpen');
    mode = 'hang';
    const controller = new AbortController();
    const pending = runtime.callTool('srv', 'primary', {}, { signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect((await pending).error?.kind).toBe('cancelled');
    mode = 'ok';
    const probe = await call('primary');
    expect(probe.status).toBe('succeeded');
    expect(runtime.breakers()[0]?.state).toBe('closed');
    await runtime.close();
  });

  it('escalates once when a tool fails more than 5 times in 5 minutes', async () => {
    const { call, escalations, clock, runtime } = setup({ tools: { flaky: { max_retries: 0 } } }, () => unavailable);
    for (let i = 0; i < 5; i += 1) {
      await call('flaky');
      clock.advance(50_000);
    }
    expect(escalations.filter((escalation) => escalation.trigger === 'repeated_failures')).toHaveLength(0);
    await call('flaky');
    await call('flaky');
    const repeated = escalations.filter((escalation) => escalation.trigger === 'repeated_failures');
    expect(repeated).toHaveLength(1);
    expect(repeated[0]).toMatchObject({ level: 'warning', tool: 'flaky' });
    await runtime.close();
  });

  it('does not count failures older than the 5-minute window', async () => {
    const { call, escalations, clock, runtime } = setup({ tools: { flaky: { max_retries: 0 } } }, () => unavailable);
    for (let i = 0; i < 8; i += 1) {
      await call('flaky');
      clock.advance(61_000);
    }
    expect(escalations.filter((escalation) => escalation.trigger === 'repeated_failures')).toHaveLength(0);
    await runtime.close();
  });

  it('escalates when the error rate exceeds 50% over at least the minimum number of calls', async () => {
    let n = 0;
    const { call, escalations, runtime } = setup(
      {
        tools: { mixed: { max_retries: 0 } },
        escalation: { repeated_failures: { count: 1000 }, error_rate: { threshold: 0.5, minimum_calls: 10 } },
      },
      () => ((n += 1) % 3 === 0 ? { text: 'ok' } : invalid),
    );
    for (let i = 0; i < 9; i += 1) await call('mixed');
    expect(escalations.filter((escalation) => escalation.trigger === 'error_rate')).toHaveLength(0);
    await call('mixed');
    await call('mixed');
    const rate = escalations.filter((escalation) => escalation.trigger === 'error_rate');
    expect(rate).toHaveLength(1);
    expect(rate[0]?.message).toMatch(/error rate \d+%/);
    await runtime.close();
  });

  it('keeps the seed ERROR_METRICS per tool', async () => {
    let n = 0;
    const { call, runtime } = setup({ tools: { tool: { max_retries: 1, jitter: 'none' } } }, () => {
      n += 1;
      if (n <= 2) return unavailable;
      if (n === 3) return invalid;
      return { text: 'ok' };
    });
    expect((await call('tool')).status).toBe('failed');
    expect((await call('tool')).status).toBe('failed');
    expect((await call('tool')).status).toBe('succeeded');
    const metrics = runtime.metrics().find((entry) => entry.tool === 'tool');
    expect(metrics).toMatchObject({
      totalCalls: 4,
      totalErrors: 3,
      transientErrors: 2,
      permanentErrors: 1,
      retries: 1,
      retriesExhausted: 1,
      errorRate: 0.75,
    });
    await runtime.close();
  });

  it('caches a read-only tool and serves the cache while its backend is down, until the TTL passes', async () => {
    let down = false;
    const { call, clock, runtime } = setup(
      { tools: { status: { max_retries: 0 } } },
      () => (down ? { failure: { source: 'tool', text: 'Backend API down', result: {} } } : { text: 'fresh' }),
      [{ name: 'status', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }],
    );
    expect((await call('status', { b: 1, a: 2 })).status).toBe('succeeded');
    down = true;
    clock.advance(120_000);
    const cached = await call('status', { a: 2, b: 1 });
    expect(cached.status).toBe('cached');
    expect(cached.cachedAgeMs).toBe(120_000);
    expect((await call('status', { a: 3 })).status).toBe('failed');
    clock.advance(200_000);
    expect((await call('status', { a: 2, b: 1 })).status).toBe('failed');
    await runtime.close();
  });

  it('logs escalations at the matching pino level and structured error records with redacted params', async () => {
    const { call, lines, runtime } = setup(
      { tools: { deploy: { critical: true, max_retries: 0, escalation: { level: 'emergency' } } } },
      () => unavailable,
    );
    const outcome = await call('deploy', { version: '1.2.3', approval_token: 'hunter2' });
    expect(outcome.status).toBe('escalated');
    const emergency = lines.find((line) => String(line['msg']).startsWith('EMERGENCY ESCALATION'));
    expect(emergency?.['level']).toBe(60);
    const record = lines.find((line) => line['tool_name'] === 'deploy');
    expect(record).toMatchObject({
      error_type: 'unavailable',
      retry_attempt: 1,
      params: { version: '1.2.3', approval_token: '[redacted]' },
    });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    await runtime.close();
  });

  it('takes an already-validated config as it is, without reading its milliseconds as seconds again', async () => {
    const clock = createTestClock(0);
    const config = parseRuntimeConfig({
      servers: { srv: { command: 'unused' } },
      defaults: { base_delay: 2, jitter: 'none', max_retries: 1, by_kind: { unavailable: { base_delay: 2 } } },
    });
    const runtime = createRuntime({ config, clock, connector: createScriptedConnector(clock, () => unavailable) });
    const outcome = await drive(runtime.callTool('srv', 'tool'), clock);
    expect(outcome.attempts[0]?.delayMs).toBe(2000);
    await runtime.close();
    // The same from YAML, as `retrace.config.yaml` is read (its paths are made absolute afterwards).
    const fromYaml = parseConfigText(
      'servers: { srv: { command: ./server.js } }\ndefaults: { base_delay: 2, jitter: none, max_retries: 1, by_kind: { unavailable: { base_delay: 2 } } }\n',
      { file: '/tmp/retrace.config.yaml' },
    );
    const again = createRuntime({
      config: fromYaml,
      clock,
      connector: createScriptedConnector(clock, () => unavailable),
    });
    expect((await drive(again.callTool('srv', 'tool'), clock)).attempts[0]?.delayMs).toBe(2000);
    await again.close();
  });

  it('counts an empty fallback answer as the failure it was, so the breaker still opens', async () => {
    const { call, runtime } = setup(
      {
        tools: {
          down: { max_retries: 0, fallbacks: [null], breaker: { minimum_calls: 5, failure_threshold: 0.7 } },
        },
      },
      () => unavailable,
    );
    for (let i = 0; i < 6; i += 1) expect((await call('down')).status).toBe('fallback');
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/down')?.state).toBe('open');
    const metrics = runtime.metrics().find((entry) => entry.tool === 'down');
    expect(metrics).toMatchObject({ totalCalls: 5, totalErrors: 5, errorRate: 1, shortCircuits: 1 });
    await runtime.close();
  });

  it('keeps counting and answering when a listener throws', async () => {
    const { runtime, call } = setup(
      { tools: { flaky: { max_retries: 0, breaker: { minimum_calls: 2, failure_threshold: 0.5 } } } },
      () => unavailable,
    );
    runtime.on('event', () => {
      throw new Error('a broken subscriber');
    });
    runtime.on('escalation', () => {
      throw new Error('a broken pager');
    });
    expect((await call('flaky')).status).toBe('failed');
    expect((await call('flaky')).status).toBe('failed');
    expect(runtime.breakers().find((breaker) => breaker.key === 'srv/flaky')?.state).toBe('open');
    await runtime.close();
  });

  it('shows listeners the events with secrets redacted, by key and by configured path', async () => {
    const { call, events, runtime } = setup({ log: { redact: ['args.version'] } }, () => ({ text: 'done' }));
    await call('deploy', { version: '1.2.3', approval_token: 'hunter2', nested: { password: 'pw' } });
    expect(JSON.stringify(events)).not.toMatch(/hunter2|"pw"/);
    const requested = events.find((event) => event.type === 'toolcall.requested');
    expect(requested).toMatchObject({ args: { version: '[redacted]', approval_token: '[redacted]' } });
    await runtime.close();
  });

  it('does not wait for the tool list of a fallback server', async () => {
    const { runtime, clock } = setup(
      {
        servers: { srv: { command: 'unused' }, other: { command: 'unused' } },
        tools: { tool: { fallbacks: ['other/alt'] } },
      },
      () => ({ text: 'ok' }),
      [],
      (server) => (server === 'other' ? new Promise<never>(() => undefined) : Promise.resolve([])),
    );
    const started = clock.now();
    expect((await drive(runtime.callTool('srv', 'tool'), clock)).status).toBe('succeeded');
    expect(clock.now() - started).toBe(0);
    await runtime.close();
  });

  it('waits at most 2 s for its own server to list its tools, and only once', async () => {
    const { runtime, clock, connector } = setup(
      {},
      () => ({ text: 'ok' }),
      [],
      () => new Promise<never>(() => undefined),
    );
    const pending = runtime.callTool('srv', 'tool');
    for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(connector.calls).toHaveLength(0);
    clock.advance(2000);
    expect((await drive(pending, clock)).status).toBe('succeeded');
    const started = clock.now();
    expect((await drive(runtime.callTool('srv', 'tool'), clock)).status).toBe('succeeded');
    expect(clock.now() - started).toBe(0);
    await runtime.close();
  });

  it('runs the configured synchronous alternative, under its 30 s default deadline, when the worker is offline', async () => {
    const { call, connector, runtime } = setup(
      { tools: { start_task: { sync_alternative: { tool: 'run_task_sync' } } } },
      (request) =>
        request.tool === 'start_task'
          ? { failure: { source: 'tool', text: 'Celery worker offline', result: {} } }
          : { text: 'done synchronously' },
    );
    const outcome = await call('start_task');
    expect(outcome.status).toBe('fallback');
    expect(outcome.tool).toEqual({ server: 'srv', tool: 'run_task_sync' });
    expect(connector.calls.map((request) => request.tool)).toEqual(['start_task', 'run_task_sync']);
    await runtime.close();
  });

  it('gives up on a synchronous alternative that overruns its 30 s deadline', async () => {
    const { call, runtime } = setup(
      { tools: { start_task: { sync_alternative: { tool: 'run_task_sync' } } } },
      (request) =>
        request.tool === 'start_task'
          ? { failure: { source: 'tool', text: 'Celery worker offline', result: {} } }
          : { hang: true },
    );
    const outcome = await call('start_task');
    expect(outcome.status).toBe('failed');
    expect(outcome.attempts[1]).toMatchObject({
      tool: 'run_task_sync',
      durationMs: 30_000,
      error: { kind: 'timeout' },
    });
    await runtime.close();
  });

  it('records every fact of a call as a run with a gap-free seq before it answers, and names the run', async () => {
    const clock = createTestClock(1_700_000_000_000);
    const store = createMemoryStore();
    let n = 0;
    const connector = createScriptedConnector(clock, () => ((n += 1) === 1 ? unavailable : { text: 'ok' }));
    const runtime = createRuntime({
      config: { servers: { srv: { command: 'unused' } }, defaults: { jitter: 'none' } },
      connector,
      clock,
      random: () => 0.5,
      store,
    });
    const outcome = await drive(runtime.callTool('srv', 'tool', { token: 'secret-value' }), clock);
    expect(outcome.status).toBe('succeeded');
    const run = await store.read(outcome.runId);
    expect(run.map((event) => event.type)).toEqual([
      'toolcall.requested',
      'toolcall.attempt.started',
      'toolcall.attempt.failed',
      'toolcall.backoff.scheduled',
      'toolcall.attempt.started',
      'toolcall.succeeded',
    ]);
    expect(run.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(JSON.stringify(run)).not.toContain('secret-value');
    expect((await store.runs()).find((summary) => summary.runId === outcome.runId)?.status).toBe('succeeded');
    await runtime.close();
  });

  it('refuses to report a call it could not record', async () => {
    const clock = createTestClock(1_700_000_000_000);
    const store = createMemoryStore({ failAppends: () => true });
    const runtime = createRuntime({
      config: { servers: { srv: { command: 'unused' } } },
      connector: createScriptedConnector(clock, () => ({ text: 'ok' })),
      clock,
      store,
    });
    await expect(drive(runtime.callTool('srv', 'tool'), clock)).rejects.toThrow(/could not be recorded: disk full/);
    await runtime.close();
  });

  it('applies per-call policy overrides over the config', async () => {
    const { runtime, clock } = setup({ tools: { tool: { max_retries: 5 } } }, () => unavailable);
    const outcome = await drive(runtime.callTool('srv', 'tool', {}, { policy: { max_retries: 0 } }), clock);
    expect(outcome.attempts).toHaveLength(1);
    await runtime.close();
  });
});
