// The chaos proxy's dice and fault shapes, without a server: reproducible draws, outage windows on a simulated
// clock, and each kind's failure read back by retrace's default classifier as that kind.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { toolErrorFailure } from '../../src/actors/mcpFailure.js';
import { ChaosEngine } from '../../src/chaos/chaosEngine.js';
import { injectionFor } from '../../src/chaos/chaosFaults.js';
import { ChaosPlan, type ChaosKind, type ChaosPlanInput } from '../../src/chaos/chaosPlan.js';
import { JsonRpcFailure, failureResult } from '../../src/common/failureShapes.js';
import { classifyFailure } from '../../src/policy/classify.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { createTestClock } from '../../src/testing/testClock.js';

function engine(plan: ChaosPlanInput, clock = createTestClock(1_000)): ChaosEngine {
  return new ChaosEngine(ChaosPlan.parse(plan), clock);
}

function sequence(chaos: ChaosEngine, calls: string[]): (string | undefined)[] {
  return calls.map((tool) => chaos.decide(tool)?.kind);
}

const mixed: ChaosPlanInput = {
  seed: 42,
  faults: [
    { tool: 'write_*', rate: 0.2, kind: 'lock' },
    { tool: '*', rate: 0.3, kind: 'unavailable' },
  ],
};
const calls = Array.from({ length: 200 }, (_, index) => (index % 3 === 0 ? 'write_record' : 'read_record'));

describe('chaos dice', () => {
  it('gives the same faults for the same seed and calls, and others for another seed', () => {
    const first = sequence(engine(mixed), calls);
    expect(sequence(engine(mixed), calls)).toEqual(first);
    expect(sequence(engine({ ...mixed, seed: 43 }), calls)).not.toEqual(first);
    // Near the planned rates: unavailable on ~30% of reads, lock on ~20% of writes.
    const reads = first.filter((_, index) => calls[index] === 'read_record');
    const writes = first.filter((_, index) => calls[index] === 'write_record');
    expect(reads.filter((kind) => kind === 'unavailable').length / reads.length).toBeGreaterThan(0.2);
    expect(reads.filter((kind) => kind === 'unavailable').length / reads.length).toBeLessThan(0.4);
    expect(writes.filter((kind) => kind === 'lock').length / writes.length).toBeGreaterThan(0.1);
    expect(reads).not.toContain('lock');
  });

  it('draws per tool, so interleaving other tools does not change a tool’s faults', () => {
    const alone = sequence(engine(mixed), Array(50).fill('read_record'));
    const chaos = engine(mixed);
    const interleaved = Array.from({ length: 50 }, () => {
      chaos.decide('write_record');
      return chaos.decide('read_record')?.kind;
    });
    expect(interleaved).toEqual(alone);
  });

  it('fails every call inside an outage window, measured on the clock since the proxy started', () => {
    const clock = createTestClock(1_700_000_000_000);
    const chaos = engine({ seed: 1, outages: [{ from: '5s', to: '12s' }] }, clock);
    expect(chaos.decide('echo')).toBeUndefined();
    clock.advance(4_999);
    expect(chaos.decide('echo')).toBeUndefined();
    clock.advance(1);
    expect(chaos.decide('echo')).toEqual({ kind: 'unavailable', outage: { from: 5_000, to: 12_000 } });
    clock.advance(6_999);
    expect(chaos.decide('other')?.kind).toBe('unavailable');
    clock.advance(1);
    expect(chaos.decide('echo')).toBeUndefined();
    expect(chaos.report.toJSON()).toMatchObject({
      calls: 5,
      forwarded: 3,
      outage_calls: 2,
      injected: { unavailable: 2 },
    });
  });

  it('counts calls, forwards and faults per kind and per tool', () => {
    const chaos = engine({
      faults: [
        { tool: 'slow', rate: 1, kind: 'latency' },
        { tool: 'bad', rate: 1, kind: 'auth' },
      ],
    });
    sequence(chaos, ['slow', 'bad', 'ok', 'bad']);
    expect(chaos.report.toJSON()).toMatchObject({
      calls: 4,
      forwarded: 2,
      injected: { latency: 1, auth: 2 },
      tools: {
        bad: { calls: 2, forwarded: 0, injected: { auth: 2 } },
        ok: { calls: 1, forwarded: 1, injected: {} },
        slow: { calls: 1, forwarded: 1, injected: { latency: 1 } },
      },
    });
    expect(chaos.report.describe()).toBe('4 tool calls, 2 forwarded, 3 faults injected (auth 2, latency 1)');
  });
});

/** What a client sees of an MCP-level fault, as retrace's connector turns it into evidence. */
async function rawFailureOf(kind: ChaosKind, ms?: number): Promise<RawFailure> {
  const injection = injectionFor(
    { kind, fault: { tool: '*', rate: 1, kind, ...(ms === undefined ? {} : { ms }) } },
    'stdio',
  );
  if (injection.type !== 'answer') throw new Error(`${kind} is not answered over MCP but as ${injection.type}`);
  const clock = createTestClock(0);
  try {
    const pending = failureResult(injection.spec, {
      signal: new AbortController().signal,
      allowExit: false,
      name: 't',
      clock,
    });
    clock.advance(ms ?? 0);
    const result: CallToolResult = await pending;
    return toolErrorFailure(result);
  } catch (error) {
    if (!(error instanceof JsonRpcFailure)) throw error;
    return { source: 'rpc', code: error.code, message: error.message };
  }
}

describe('chaos fault shapes', () => {
  const mcpKinds: ChaosKind[] = [
    'unavailable',
    'lock',
    'rate_limit',
    'resource',
    'invalid_input',
    'not_found',
    'auth',
    'permission',
    'constraint',
    'unimplemented',
    'partial',
  ];
  it.each(mcpKinds)('%s over MCP is classified as %s', async (kind) => {
    expect(classifyFailure(await rawFailureOf(kind), [], 0).kind).toBe(kind);
  });

  it('a timeout with ms hangs that long on the clock, then reads as a timeout', async () => {
    expect(classifyFailure(await rawFailureOf('timeout', 250), [], 0)).toMatchObject({
      kind: 'timeout',
      class: 'transient',
    });
  });

  it('a rate limit carries its wait: a retry_after field over MCP, Retry-After over HTTP', async () => {
    expect(classifyFailure(await rawFailureOf('rate_limit', 1500), [], 0).retryAfterMs).toBe(1500);
    const http = injectionFor(
      { kind: 'rate_limit', fault: { tool: '*', rate: 1, kind: 'rate_limit', ms: 1500 } },
      'http',
    );
    expect(http).toMatchObject({
      type: 'http',
      spec: { status: 429, headers: { 'retry-after': '2', 'retry-after-ms': '1500' } },
    });
  });

  it('a lock with ms says when it is expected to be free; without ms it says nothing', async () => {
    expect(classifyFailure(await rawFailureOf('lock', 4000), [], 0)).toMatchObject({
      kind: 'lock',
      retryAfterMs: 4000,
    });
    expect(classifyFailure(await rawFailureOf('lock'), [], 0).retryAfterMs).toBeUndefined();
  });

  it('answers unavailable with 503 over HTTP, latency with a delay, crash and drop below MCP', () => {
    expect(injectionFor({ kind: 'unavailable' }, 'http')).toMatchObject({ type: 'http', spec: { status: 503 } });
    expect(injectionFor({ kind: 'latency', fault: { tool: '*', rate: 1, kind: 'latency', ms: 200 } }, 'stdio')).toEqual(
      {
        type: 'delay',
        ms: 200,
      },
    );
    expect(injectionFor({ kind: 'crash' }, 'stdio')).toEqual({ type: 'crash' });
    expect(injectionFor({ kind: 'drop' }, 'http')).toEqual({ type: 'http', spec: { error: 'drop' } });
  });

  it('says an outage in the message, with its window', async () => {
    const injection = injectionFor({ kind: 'unavailable', outage: { from: 5_000, to: 12_000 } }, 'stdio');
    expect(injection).toMatchObject({
      spec: {
        text: expect.stringMatching(/^Service temporarily unavailable: planned outage from 5 s to 12 s/) as unknown,
      },
    });
  });
});

describe('chaos engine state (--state)', () => {
  it('goes on from a saved state as the process it came from would have: same draws, same outage clock', () => {
    const plan: ChaosPlanInput = { ...mixed, outages: [{ from: '5s', to: '12s' }] };
    const clock = createTestClock(1_000);
    const whole = engine(plan, clock);
    const first = sequence(whole, calls.slice(0, 80));
    const saved = whole.state();
    expect(saved).toMatchObject({ seed: 42, startedAt: 1_000 });
    expect(Object.values(saved.callsPerTool).reduce((sum, count) => sum + count, 0)).toBe(80);
    const rest = sequence(whole, calls.slice(80));

    // A new process, later: its dice continue, and the outage window is counted from the first start.
    const later = createTestClock(1_000);
    const states: number[] = [];
    const resumed = new ChaosEngine(ChaosPlan.parse(plan), later, saved, (state) =>
      states.push(Object.values(state.callsPerTool).reduce((sum, count) => sum + count, 0)),
    );
    expect([...first, ...sequence(resumed, calls.slice(80))]).toEqual([...first, ...rest]);
    expect(states.at(-1)).toBe(200);
    later.advance(6_000);
    expect(resumed.decide('read_record')?.kind).toBe('unavailable');
    // A process that started afresh now is not in the window yet.
    expect('outage' in (engine(plan, later).decide('read_record') ?? {})).toBe(false);
  });
});
