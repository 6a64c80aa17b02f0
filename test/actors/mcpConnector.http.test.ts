// The MCP connector against the flaky server over Streamable HTTP on 127.0.0.1: statuses, headers, drops, sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpConnector } from '../../src/actors/mcpConnector.js';
import type { AttemptOutcome, McpConnector } from '../../src/actors/mcpTypes.js';
import type { FlakyHttpServer } from '../../src/testing/flakyHttpHost.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { closedPort, spawnFlakyHttp, startFlakyHttp } from '../support/servers.js';

function call(connector: McpConnector, tool: string, args: Record<string, unknown> = {}, signal?: AbortSignal) {
  return connector.callTool({ server: 'web', tool, args, signal: signal ?? new AbortController().signal });
}

function failureOf(outcome: AttemptOutcome): RawFailure {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.result)}`);
  return outcome.failure;
}

describe('McpConnector over Streamable HTTP', () => {
  let host: FlakyHttpServer;
  let connector: McpConnector;

  beforeAll(async () => {
    host = await startFlakyHttp();
    connector = createMcpConnector({ servers: { web: { url: host.url } } });
  });
  afterAll(async () => {
    await connector.close();
    await host.close();
  });

  it('lists tools with annotations and calls one', async () => {
    const tools = await connector.listTools('web');
    expect(tools.find((tool) => tool.name === 'echo')?.annotations).toMatchObject({ readOnlyHint: true });
    expect(await call(connector, 'echo', { message: 'over http' })).toMatchObject({
      ok: true,
      result: { content: [{ type: 'text', text: 'over http' }] },
    });
  });

  it('shares one session between concurrent first calls', async () => {
    const fresh = await startFlakyHttp();
    const sharing = createMcpConnector({ servers: { web: { url: fresh.url } } });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, (_, index) => call(sharing, 'echo', { message: `${index}` })),
      );
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
      expect(fresh.sessionCount()).toBe(1);
    } finally {
      await sharing.close();
      await fresh.close();
    }
  });

  it('reports a 429 with its Retry-After header', async () => {
    const failure = failureOf(
      await call(connector, 'flaky', {
        key: 'rate',
        failures: 1,
        error: 'http_status',
        status: 429,
        headers: { 'Retry-After': '2' },
      }),
    );
    expect(failure).toMatchObject({ source: 'http', status: 429, headers: { 'retry-after': '2' } });
    expect(await call(connector, 'flaky', { key: 'rate', failures: 1 })).toMatchObject({ ok: true });
  });

  it('reports a 503', async () => {
    const failure = failureOf(
      await call(connector, 'flaky', { key: '503', failures: 1, error: 'http_status', status: 503 }),
    );
    expect(failure).toMatchObject({ source: 'http', status: 503 });
  });

  it('keeps each concurrent request’s own response headers', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        call(connector, 'flaky', {
          key: `concurrent-${index}`,
          failures: 1,
          error: 'http_status',
          status: index % 2 === 0 ? 429 : 503,
          headers: { 'x-call': String(index), 'retry-after': String(index) },
        }),
      ),
    );
    outcomes.forEach((outcome, index) => {
      expect(failureOf(outcome)).toMatchObject({
        source: 'http',
        status: index % 2 === 0 ? 429 : 503,
        headers: { 'x-call': String(index), 'retry-after': String(index) },
      });
    });
  });

  it('reports a socket dropped mid-stream as a reset that may have reached the server, then recovers', async () => {
    const failure = failureOf(await call(connector, 'flaky', { key: 'drop', failures: 1, error: 'drop' }));
    expect(failure).toMatchObject({ source: 'transport', reason: 'reset', sent: true });
    expect(await call(connector, 'flaky', { key: 'drop', failures: 1 })).toMatchObject({
      ok: true,
      result: { structuredContent: { attempt: 2 } },
    });
  });

  it('reports a connection reset before any response', async () => {
    const failure = failureOf(await call(connector, 'flaky', { key: 'reset', failures: 1, error: 'reset' }));
    expect(failure).toMatchObject({ source: 'transport', reason: 'reset', sent: true });
  });

  it('reports rpc errors and isError results as over stdio', async () => {
    expect(failureOf(await call(connector, 'fail', { kind: 'invalid_params' }))).toMatchObject({
      source: 'rpc',
      code: -32602,
    });
    expect(failureOf(await call(connector, 'fail', { kind: 'auth' }))).toMatchObject({
      source: 'tool',
      text: expect.stringContaining('Authentication failed') as unknown,
    });
  });

  it('answers an abort with a cancelled failure and sends notifications/cancelled', async () => {
    const controller = new AbortController();
    const pending = call(connector, 'flaky', { key: 'hang', failures: 1, error: 'hang' }, controller.signal);
    await expect.poll(() => host.control.stats().calls['flaky'] ?? 0).toBeGreaterThan(0);
    const before = host.control.stats().cancellations;
    controller.abort('deadline');
    expect(failureOf(await pending)).toEqual({ source: 'cancelled', message: 'cancelled: deadline' });
    await expect.poll(() => host.control.stats().cancellations).toBe(before + 1);
  });

  it('opens a new session after the server forgot the old one', async () => {
    expect((await call(connector, 'echo', { message: 'before' })).ok).toBe(true);
    await host.expireSessions();
    expect(failureOf(await call(connector, 'echo', { message: 'lost' }))).toMatchObject({
      source: 'transport',
      reason: 'closed',
      sent: false,
    });
    expect((await call(connector, 'echo', { message: 'after' })).ok).toBe(true);
    expect(host.sessionCount()).toBe(1);
  });

  it('ends its session on close()', async () => {
    const fresh = await startFlakyHttp();
    const closing = createMcpConnector({ servers: { web: { url: fresh.url } } });
    expect((await call(closing, 'echo', { message: 'x' })).ok).toBe(true);
    expect(fresh.sessionCount()).toBe(1);
    await closing.close();
    expect(fresh.sessionCount()).toBe(0);
    await fresh.close();
  });
});

describe('McpConnector when the HTTP server is unreachable', () => {
  it('gives a clear RetraceError naming the URL, and a refused failure for a call', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const connector = createMcpConnector({ servers: { web: { url } } });
    try {
      await expect(connector.listTools('web')).rejects.toMatchObject({
        code: 'E_CONNECTION',
        message: expect.stringMatching(new RegExp(`${url}.*connection refused`)) as unknown,
      });
      expect(failureOf(await call(connector, 'echo'))).toMatchObject({
        source: 'transport',
        reason: 'refused',
        errno: 'ECONNREFUSED',
        sent: false,
      });
    } finally {
      await connector.close();
    }
  });

  it('reports a server process that went away, and reconnects when one is back', async () => {
    const first = await spawnFlakyHttp();
    const connector = createMcpConnector({ servers: { web: first.config } });
    let second: Awaited<ReturnType<typeof spawnFlakyHttp>> | undefined;
    try {
      expect((await call(connector, 'echo', { message: 'up' })).ok).toBe(true);
      await first.kill();
      const failure = failureOf(await call(connector, 'echo', { message: 'down' }));
      expect(failure).toMatchObject({ source: 'transport', sent: false });
      expect(failure.source === 'transport' && failure.reason).toBe('refused');
      second = await spawnFlakyHttp({ port: Number(new URL(first.url).port) });
      expect((await call(connector, 'echo', { message: 'back' })).ok).toBe(true);
    } finally {
      await connector.close();
      await first.kill();
      await second?.kill();
    }
  });
});
