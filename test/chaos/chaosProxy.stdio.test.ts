// `retrace chaos-proxy -- COMMAND ARGS…` as a real process over stdio in front of the flaky server: a retrace runtime
// calling through it sees each kind as that kind; a crash kills the upstream and ends the proxy.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { StdioServerConfig } from '../../src/actors/serverConfig.js';
import type { ChaosKind, ChaosPlanInput } from '../../src/chaos/chaosPlan.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { cliMain, tsxLoader } from '../support/cli.js';
import { processesMarked } from '../support/processGroup.js';
import { repoRoot } from '../support/servers.js';

const flakyMain = join(repoRoot, 'src', 'testing', 'flakyServerMain.ts');
let directory: string;
let runtime: Runtime;
const marker = { RETRACE_CHAOS_TEST: String(process.pid) };
const crashMarker = { RETRACE_CHAOS_CRASH_TEST: String(process.pid) };

async function proxyConfig(
  name: string,
  plan: ChaosPlanInput,
  env: Record<string, string> = marker,
): Promise<StdioServerConfig> {
  const file = join(directory, `${name}.yaml`);
  await writeFile(file, stringify(plan));
  const upstream = [process.execPath, '--import', tsxLoader, flakyMain];
  return {
    command: process.execPath,
    args: ['--import', tsxLoader, cliMain, 'chaos-proxy', '--plan', file, '--', ...upstream],
    cwd: repoRoot,
    env,
  };
}

const kinds: ChaosKind[] = ['unavailable', 'lock', 'rate_limit', 'invalid_input', 'auth', 'constraint', 'partial'];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'retrace-chaos-'));
  const faults = kinds.map((kind) => ({ tool: `k_${kind}`, rate: 1, kind }));
  const servers = {
    chaos: await proxyConfig('kinds', {
      seed: 3,
      faults: [...faults, { tool: 'echo', rate: 1, kind: 'latency', ms: 1 }],
    }),
    crashing: await proxyConfig('crash', { faults: [{ tool: 'boom', rate: 1, kind: 'crash' }] }, crashMarker),
  };
  runtime = createRuntime({ config: { servers }, clock: createTestClock(1_700_000_000_000), random: () => 0.5 });
});
afterAll(async () => {
  await runtime.close();
  await rm(directory, { recursive: true, force: true });
});

const once = { max_retries: 0 };

describe('chaos-proxy over stdio', () => {
  it('injects each kind so that a retrace runtime calling through it classifies it as that kind', async () => {
    const seen: Record<string, string | undefined> = {};
    for (const kind of kinds)
      seen[kind] = (await runtime.callTool('chaos', `k_${kind}`, {}, { policy: once })).error?.kind;
    expect(seen).toEqual(Object.fromEntries(kinds.map((kind) => [kind, kind])));
    // Latency delays and forwards; the flaky server answers.
    const echoed = await runtime.callTool('chaos', 'echo', { message: 'late' });
    expect(echoed.result?.content).toEqual([{ type: 'text', text: 'late' }]);
    expect(await runtime.listTools('chaos')).toContainEqual(expect.objectContaining({ name: 'flaky' }));
  });

  it('crashes: the upstream is killed and the proxy exits mid-call, which retrace sees as unavailable', async () => {
    const outcome = await runtime.callTool('crashing', 'boom', {}, { policy: once });
    expect(outcome.error).toMatchObject({ kind: 'unavailable', rule: 'default:transport-connection-lost' });
    expect(outcome.error?.message).toMatch(/exited with code 3/);
    // Neither the proxy nor its upstream (which has the proxy's environment) is left.
    for (let poll = 0; poll < 200 && processesMarked(crashMarker).length > 0; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(processesMarked(crashMarker)).toEqual([]);
  });
});
