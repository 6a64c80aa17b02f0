// `retrace chaos-proxy` over Streamable HTTP, in process: the flaky server behind it, a retrace runtime in front;
// every fault kind classified by retrace as that kind, the report resource equal to what the client saw, outage
// windows on a simulated clock, cancellation and progress forwarded.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import { startChaosHttpProxy, type ChaosHttpProxy } from '../../src/chaos/chaosHttp.js';
import { ChaosPlan, type ChaosKind, type ChaosPlanInput } from '../../src/chaos/chaosPlan.js';
import type { ChaosReportData } from '../../src/chaos/chaosReport.js';
import type { FlakyHttpServer } from '../../src/testing/flakyHttpHost.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';
import { startFlakyHttp } from '../support/servers.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (open.length) await open.pop()?.();
});

interface Setup {
  flaky: FlakyHttpServer;
  proxy: ChaosHttpProxy;
  clock: TestClock;
  runtime: Runtime;
}

async function setup(plan: ChaosPlanInput): Promise<Setup> {
  const flaky = await startFlakyHttp();
  open.push(() => flaky.close());
  const clock = createTestClock(1_700_000_000_000);
  const proxy = await startChaosHttpProxy({ plan: ChaosPlan.parse(plan), target: { url: flaky.url }, clock });
  open.push(() => proxy.close());
  const runtime = createRuntime({ config: { servers: { chaos: { url: proxy.url } } }, clock, random: () => 0.5 });
  open.push(() => runtime.close());
  return { flaky, proxy, clock, runtime };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'chaos-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  open.push(() => client.close());
  return client;
}

async function readReport(client: Client): Promise<ChaosReportData> {
  const read = await client.readResource({ uri: 'chaos://report' });
  const [content] = read.contents;
  return JSON.parse(content && 'text' in content ? content.text : '{}') as ChaosReportData;
}

/** Polls (on real I/O, no timer) until `condition` holds. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let poll = 0; poll < 2_000; poll++) {
    if (await condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never: ${what}`);
}

const once = { max_retries: 0 };

describe('chaos-proxy over HTTP', () => {
  const kinds: ChaosKind[] = [
    'unavailable',
    'rate_limit',
    'lock',
    'resource',
    'invalid_input',
    'not_found',
    'auth',
    'permission',
    'constraint',
    'unimplemented',
    'partial',
    'timeout',
  ];

  it('injects every kind so that retrace classifies it as that kind, and reports what it injected', async () => {
    const faults = [
      ...kinds.map((kind) => ({ tool: `k_${kind}`, rate: 1, kind, ...(kind === 'timeout' ? { ms: 100 } : {}) })),
      { tool: 'k_drop', rate: 1, kind: 'drop' as const },
    ];
    const { runtime, proxy, clock } = await setup({ seed: 7, faults });
    const seen: Record<string, string | undefined> = {};
    for (const kind of kinds) {
      const pending = runtime.callTool('chaos', `k_${kind}`, {}, { policy: once });
      if (kind === 'timeout') {
        // The hang runs on the proxy's clock: let it pass once the proxy holds the call.
        await until(
          () => clock.pending() > 0 && proxy.engine.report.toJSON().calls === kinds.indexOf(kind) + 1,
          'the hang',
        );
        clock.advance(100);
      }
      seen[kind] = (await pending).error?.kind;
    }
    const dropped = await runtime.callTool('chaos', 'k_drop', {}, { policy: once });
    expect(seen).toEqual(Object.fromEntries(kinds.map((kind) => [kind, kind])));
    expect(dropped.error).toMatchObject({ kind: 'unavailable', rule: 'default:transport-connection-lost' });

    const echoed = await runtime.callTool('chaos', 'echo', { message: 'through' });
    expect(echoed.result?.content).toEqual([{ type: 'text', text: 'through' }]);

    const report = await readReport(await connect(proxy.url));
    expect(report).toMatchObject({ seed: 7, calls: kinds.length + 2, forwarded: 1, outage_calls: 0 });
    expect(report.injected).toEqual({ ...Object.fromEntries(kinds.map((kind) => [kind, 1])), drop: 1 });
    expect(report.tools['echo']).toEqual({ calls: 1, forwarded: 1, injected: {} });
  });

  it('answers a rate limit with HTTP 429 and a Retry-After the runtime waits for', async () => {
    const { runtime } = await setup({ faults: [{ tool: 'echo', rate: 1, kind: 'rate_limit', ms: 3000 }] });
    const outcome = await runtime.callTool('chaos', 'echo', { message: 'x' }, { policy: once });
    expect(outcome.error).toMatchObject({ kind: 'rate_limit', retryAfterMs: 3000, rule: 'default:http-429' });
  });

  it('fails every call inside an outage window on the simulated clock, then forwards again', async () => {
    const { runtime, clock, proxy } = await setup({ seed: 1, outages: [{ from: '5s', to: '12s' }] });
    const call = () => runtime.callTool('chaos', 'echo', { message: 'x' }, { policy: once });
    expect((await call()).status).toBe('succeeded');
    clock.advance(5_000);
    const during = await call();
    expect(during.error).toMatchObject({ kind: 'unavailable', rule: 'default:http-502-503-504' });
    expect(during.error?.message).toMatch(/planned outage from 5 s to 12 s/);
    clock.advance(7_000);
    expect((await call()).status).toBe('succeeded');
    expect(proxy.engine.report.toJSON()).toMatchObject({ calls: 3, forwarded: 2, outage_calls: 1 });
  });

  it('gives the same fault sequence to the same seed, call for call', async () => {
    const plan = { seed: 99, faults: [{ tool: 'echo', rate: 0.5, kind: 'unavailable' as const }] };
    const statuses = async (): Promise<string[]> => {
      const { runtime } = await setup(plan);
      const seen: string[] = [];
      for (let call = 0; call < 12; call++) {
        seen.push((await runtime.callTool('chaos', 'echo', { message: 'x' }, { policy: once })).status);
      }
      return seen;
    };
    const first = await statuses();
    expect(first).toContain('failed');
    expect(first).toContain('succeeded');
    expect(await statuses()).toEqual(first);
  });

  it('forwards progress notifications and cancellation to and from the upstream', async () => {
    const { proxy, flaky } = await setup({});
    const client = await connect(proxy.url);
    const progress: unknown[] = [];
    const slow = await client.callTool({ name: 'slow', arguments: { ms: 20 } }, undefined, {
      onprogress: (update) => progress.push(update),
    });
    expect(slow.content).toEqual([{ type: 'text', text: 'slept 20 ms' }]);
    expect(progress).toEqual([{ progress: 1, total: 2, message: 'halfway' }]);

    const abort = new AbortController();
    const hung = client.callTool({ name: 'slow', arguments: { ms: 600_000 } }, undefined, { signal: abort.signal });
    await until(() => (flaky.control.stats().calls['slow'] ?? 0) === 2, 'the upstream got the second call');
    abort.abort('enough');
    await expect(hung).rejects.toThrow(/enough/);
    await until(() => flaky.control.stats().cancellations === 1, 'the upstream heard the cancellation');
  });
});

describe('chaos-proxy over HTTP beyond loopback', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    const flaky = await startFlakyHttp();
    open.push(() => flaky.close());
    const plan = ChaosPlan.parse({ seed: 1, faults: [] });
    await expect(startChaosHttpProxy({ plan, target: { url: flaky.url }, host: '0.0.0.0', port: 0 })).rejects.toThrow(
      '--listen 0.0.0.0:0: an address beyond loopback needs --token (clients then send Authorization: Bearer <token>)',
    );
  });

  it('with a token, answers 401 to a client without it and forwards for a client with it', async () => {
    const flaky = await startFlakyHttp();
    open.push(() => flaky.close());
    const plan = ChaosPlan.parse({ seed: 1, faults: [] });
    const proxy = await startChaosHttpProxy({ plan, target: { url: flaky.url }, host: '0.0.0.0', token: 's3cret' });
    open.push(() => proxy.close());
    // Reached over loopback only: the proxy listens on every address, the test talks to 127.0.0.1.
    const url = new URL(proxy.url);
    url.hostname = '127.0.0.1';
    const stranger = new Client({ name: 'stranger', version: '1' });
    await expect(stranger.connect(new StreamableHTTPClientTransport(url))).rejects.toThrow(/401|Unauthorized/);
    const client = new Client({ name: 'chaos-test', version: '1' });
    const headers = { authorization: 'Bearer s3cret' };
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    open.push(() => client.close());
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('echo');
  });
});
