// The MCP connector against the flaky server over stdio: every failure shape, reconnection, sharing, shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/common/clock.js';
import { isRetraceError } from '../../src/common/errors.js';
import { createMcpConnector } from '../../src/actors/mcpConnector.js';
import type { AttemptOutcome, McpConnector } from '../../src/actors/mcpTypes.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { childPidsMatching, flakyStdioConfig, isAlive } from '../support/servers.js';

/** A clock that only moves when asked: the connector must stamp times from it, not from Date.now(). */
function steppingClock(): Clock {
  let now = 1_000;
  return { now: () => (now += 10), setTimeout: () => 0, clearTimeout: () => undefined };
}

function call(connector: McpConnector, tool: string, args: Record<string, unknown> = {}, signal?: AbortSignal) {
  return connector.callTool({ server: 'flaky', tool, args, signal: signal ?? new AbortController().signal });
}

function failureOf(outcome: AttemptOutcome): RawFailure {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome.result)}`);
  return outcome.failure;
}

async function statsOf(
  connector: McpConnector,
): Promise<{ pid: number; cancellations: number; calls: Record<string, number> }> {
  const outcome = await call(connector, 'stats');
  if (!outcome.ok) throw new Error(`stats failed: ${JSON.stringify(outcome.failure)}`);
  return outcome.result.structuredContent as { pid: number; cancellations: number; calls: Record<string, number> };
}

describe('McpConnector over stdio', () => {
  let connector: McpConnector;

  beforeAll(() => {
    connector = createMcpConnector({ servers: { flaky: flakyStdioConfig() }, clock: steppingClock() });
  });
  afterAll(() => connector.close());

  it('lists tools with their input schemas and annotations', async () => {
    const tools = await connector.listTools('flaky');
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining(['echo', 'flaky', 'fail', 'slow', 'stats', 'write_record']),
    );
    expect(byName.get('echo')?.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('write_record')?.annotations).toMatchObject({ destructiveHint: true, idempotentHint: false });
    expect(byName.get('idempotent_write')?.annotations?.idempotentHint).toBe(true);
    expect(byName.get('echo')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' } },
    });
    expect(byName.get('echo')?.description).toMatch(/echo/i);
  });

  it('returns a successful result stamped by the injected clock', async () => {
    const outcome = await call(connector, 'echo', { message: 'hello' });
    expect(outcome).toMatchObject({ ok: true, result: { content: [{ type: 'text', text: 'hello' }] } });
    expect(outcome.finishedAt).toBeGreaterThan(outcome.startedAt);
    expect(outcome.startedAt).toBeLessThan(100_000);
  });

  it('reports JSON-RPC errors as rpc failures with their codes', async () => {
    expect(failureOf(await call(connector, 'fail', { kind: 'invalid_params' }))).toMatchObject({
      source: 'rpc',
      code: -32602,
    });
    expect(failureOf(await call(connector, 'fail', { kind: 'unimplemented' }))).toMatchObject({
      source: 'rpc',
      code: -32601,
    });
  });

  it('reports an isError result as a tool failure with its text, then succeeds once the failures are used up', async () => {
    const first = failureOf(await call(connector, 'flaky', { key: 'text', failures: 1 }));
    expect(first).toMatchObject({ source: 'tool', text: 'Service temporarily unavailable' });
    const second = await call(connector, 'flaky', { key: 'text', failures: 1 });
    expect(second).toMatchObject({ ok: true, result: { structuredContent: { attempt: 2 } } });
  });

  it('keeps the structured content of an isError result', async () => {
    const failure = failureOf(
      await call(connector, 'flaky', {
        key: 'structured',
        failures: 1,
        error: 'is_error_structured',
        error_type: 'rate_limit',
        retry_after: 2,
      }),
    );
    expect(failure).toMatchObject({
      source: 'tool',
      structuredContent: { error: { type: 'rate_limit', retry_after: 2 } },
    });
  });

  it('reports constraint violations with their suggestions and an unknown tool the way the SDK does', async () => {
    const constraint = failureOf(await call(connector, 'fail', { kind: 'constraint' }));
    expect(constraint).toMatchObject({
      source: 'tool',
      structuredContent: { error: { type: 'constraint_violation', suggestions: expect.any(Array) as unknown } },
    });
    const unknown = failureOf(await call(connector, 'no_such_tool'));
    expect(unknown).toMatchObject({ source: 'tool', text: expect.stringContaining('-32602') as unknown });
  });

  it('returns partial data as a success carrying partial: true', async () => {
    const outcome = await call(connector, 'partial', { count: 2 });
    expect(outcome).toMatchObject({ ok: true, result: { structuredContent: { partial: true, items: [1, 2] } } });
  });

  it('forwards progress notifications', async () => {
    const progress: unknown[] = [];
    const outcome = await connector.callTool({
      server: 'flaky',
      tool: 'slow',
      args: { ms: 20 },
      signal: new AbortController().signal,
      onProgress: (update) => progress.push(update),
    });
    expect(outcome.ok).toBe(true);
    expect(progress).toEqual([{ progress: 1, total: 2, message: 'halfway' }]);
  });

  it('answers an abort with a cancelled failure and sends notifications/cancelled', async () => {
    const before = await statsOf(connector);
    const controller = new AbortController();
    const pending = call(connector, 'slow', { ms: 60_000 }, controller.signal);
    // stdio keeps order: once stats answers, the slow call has reached the server.
    await statsOf(connector);
    controller.abort('the caller gave up');
    expect(failureOf(await pending)).toEqual({ source: 'cancelled', message: 'cancelled: the caller gave up' });
    const after = await statsOf(connector);
    expect(after.cancellations).toBe(before.cancellations + 1);
    expect(after.pid).toBe(before.pid);
  });

  it('does not call at all when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = await statsOf(connector);
    expect(failureOf(await call(connector, 'echo', { message: 'x' }, controller.signal)).source).toBe('cancelled');
    expect((await statsOf(connector)).calls['echo']).toBe(before.calls['echo']);
  });

  it('shares one connection between concurrent first calls', async () => {
    const before = new Set(childPidsMatching('flakyServerMain'));
    const fresh = createMcpConnector({ servers: { flaky: flakyStdioConfig() } });
    try {
      const [tools, ...outcomes] = await Promise.all([
        fresh.listTools('flaky'),
        ...Array.from({ length: 5 }, () => call(fresh, 'stats')),
      ]);
      expect(tools.length).toBeGreaterThan(0);
      const pids = outcomes.map((outcome) => (outcome.ok ? (outcome.result.structuredContent?.['pid'] as number) : 0));
      expect(new Set(pids).size).toBe(1);
      expect(childPidsMatching('flakyServerMain').filter((pid) => !before.has(pid))).toEqual([pids[0]]);
    } finally {
      await fresh.close();
    }
  });

  it('rejects an unknown server with E_UNKNOWN_SERVER', async () => {
    const attempt = connector.callTool({
      server: 'nope',
      tool: 'echo',
      args: {},
      signal: new AbortController().signal,
    });
    await expect(attempt).rejects.toMatchObject({
      code: 'E_UNKNOWN_SERVER',
      message: expect.stringContaining("'nope'") as unknown,
    });
    await expect(connector.listTools('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_SERVER' });
  });
});

describe('McpConnector when the stdio server dies', () => {
  it('reports a mid-call exit with its code and stderr, then reconnects to a new process', async () => {
    const connector = createMcpConnector({ servers: { flaky: flakyStdioConfig() } });
    try {
      const { pid } = await statsOf(connector);
      const failure = failureOf(await call(connector, 'flaky', { key: 'crash', failures: 1, error: 'exit', code: 3 }));
      expect(failure).toMatchObject({ source: 'transport', reason: 'exited', exitCode: 3, signal: null, sent: true });
      expect(failure.source === 'transport' && failure.message).toContain('exiting mid-call');
      const after = await statsOf(connector);
      expect(after.pid).not.toBe(pid);
      expect(isAlive(pid)).toBe(false);
    } finally {
      await connector.close();
    }
  });

  it('reports a process killed mid-call with its signal', async () => {
    const connector = createMcpConnector({ servers: { flaky: flakyStdioConfig() } });
    try {
      const { pid } = await statsOf(connector);
      const outcome = await connector.callTool({
        server: 'flaky',
        tool: 'slow',
        args: { ms: 400 },
        signal: new AbortController().signal,
        // Progress arrives halfway through the call: certainly mid-call.
        onProgress: () => process.kill(pid, 'SIGKILL'),
      });
      expect(failureOf(outcome)).toMatchObject({
        source: 'transport',
        reason: 'exited',
        signal: 'SIGKILL',
        sent: true,
      });
    } finally {
      await connector.close();
    }
  });

  it('close() leaves no child process behind, even with a call in flight', async () => {
    const connector = createMcpConnector({ servers: { flaky: flakyStdioConfig() } });
    const { pid } = await statsOf(connector);
    const hanging = call(connector, 'flaky', { key: 'hang-on-close', failures: 1, error: 'hang' });
    await statsOf(connector);
    await connector.close();
    expect(isAlive(pid)).toBe(false);
    expect(failureOf(await hanging)).toMatchObject({ source: 'transport', reason: 'closed' });
    await expect(connector.listTools('flaky')).rejects.toMatchObject({ code: 'E_CLOSED' });
    expect(failureOf(await call(connector, 'echo', { message: 'late' }))).toMatchObject({
      source: 'transport',
      sent: false,
    });
  });
});

describe('McpConnector start-up failures', () => {
  it('names a missing command in a RetraceError and returns spawn_failed for a call', async () => {
    const connector = createMcpConnector({ servers: { flaky: { command: 'retrace-no-such-command', args: ['--x'] } } });
    try {
      const error: unknown = await connector.listTools('flaky').catch((caught: unknown) => caught);
      expect(isRetraceError(error)).toBe(true);
      expect(error).toMatchObject({
        code: 'E_CONNECTION',
        message: expect.stringContaining('retrace-no-such-command --x') as unknown,
      });
      expect(failureOf(await call(connector, 'echo'))).toMatchObject({
        source: 'transport',
        reason: 'spawn_failed',
        errno: 'ENOENT',
        sent: false,
      });
    } finally {
      await connector.close();
    }
  });

  it('explains a server that exits during start-up with its stderr', async () => {
    const script = "console.error('boom: DATABASE_URL is not set'); process.exit(4)";
    const connector = createMcpConnector({ servers: { flaky: { command: process.execPath, args: ['-e', script] } } });
    try {
      await expect(connector.listTools('flaky')).rejects.toMatchObject({
        code: 'E_CONNECTION',
        message: expect.stringMatching(
          /exited with code 4 during start-up; stderr: boom: DATABASE_URL is not set/,
        ) as unknown,
      });
    } finally {
      await connector.close();
    }
  });
});

describe('the flaky server plan', () => {
  it('scripts outcomes per tool from --plan, then behaves normally', async () => {
    const plan = JSON.stringify({ echo: ['unavailable', { error: 'rpc', code: -32603, text: 'boom' }, 'ok'] });
    const connector = createMcpConnector({ servers: { flaky: flakyStdioConfig(['--plan', plan]) } });
    try {
      expect(failureOf(await call(connector, 'echo', { message: 'a' }))).toMatchObject({
        source: 'tool',
        text: 'Service temporarily unavailable',
      });
      expect(failureOf(await call(connector, 'echo', { message: 'b' }))).toMatchObject({ source: 'rpc', code: -32603 });
      expect((await call(connector, 'echo', { message: 'c' })).ok).toBe(true);
      expect((await call(connector, 'echo', { message: 'd' })).ok).toBe(true);
    } finally {
      await connector.close();
    }
  });

  it('reads the plan from FLAKY_PLAN too', async () => {
    const env = { FLAKY_PLAN: JSON.stringify({ write_record: ['rate_limit'] }) };
    const connector = createMcpConnector({ servers: { flaky: flakyStdioConfig([], env) } });
    try {
      expect(failureOf(await call(connector, 'write_record', { id: 'r1' }))).toMatchObject({
        source: 'tool',
        structuredContent: { error: { type: 'rate_limit', retry_after: 1 } },
      });
      expect(await call(connector, 'write_record', { id: 'r1' })).toMatchObject({
        ok: true,
        result: { structuredContent: { id: 'r1', writes: 1 } },
      });
    } finally {
      await connector.close();
    }
  });
});
