// `retrace chaos-proxy -- COMMAND ARGS…` as a real process: the report on stderr when it stops (a readable line and a
// JSON line) equals the chaos://report resource and what the client saw; a bad plan is refused with its position.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ChaosPlanInput } from '../../src/chaos/chaosPlan.js';
import type { ChaosReportData } from '../../src/chaos/chaosReport.js';
import { cliMain, runCli, tsxLoader } from '../support/cli.js';
import { repoRoot } from '../support/servers.js';

const flakyMain = join(repoRoot, 'src', 'testing', 'flakyServerMain.ts');
let directory: string;

async function proxyArgs(name: string, plan: ChaosPlanInput, extra: string[] = []): Promise<string[]> {
  const file = join(directory, `${name}.yaml`);
  await writeFile(file, stringify(plan));
  return [
    '--import',
    tsxLoader,
    cliMain,
    'chaos-proxy',
    '--plan',
    file,
    ...extra,
    '--',
    process.execPath,
    '--import',
    tsxLoader,
    flakyMain,
  ];
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'retrace-chaos-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('retrace chaos-proxy (the command)', () => {
  it('prints the report on exit (a readable line and a JSON line) equal to the chaos://report resource', async () => {
    const args = await proxyArgs('report', { seed: 5, faults: [{ tool: 'echo', rate: 0.5, kind: 'unavailable' }] });
    const transport = new StdioClientTransport({ command: process.execPath, args, cwd: repoRoot, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'chaos-test', version: '1' });
    await client.connect(transport);
    let failed = 0;
    for (let call = 0; call < 10; call++) {
      const result = await client.callTool({ name: 'echo', arguments: { message: 'x' } });
      if (result.isError) failed++;
    }
    const resources = await client.listResources();
    expect(resources.resources.map((resource) => resource.uri)).toEqual(['flaky://stats', 'chaos://report']);
    const read = await client.readResource({ uri: 'chaos://report' });
    const [content] = read.contents;
    const report = JSON.parse(content && 'text' in content ? content.text : '{}') as ChaosReportData;
    expect(failed).toBeGreaterThan(0);
    expect(report).toMatchObject({ seed: 5, calls: 10, forwarded: 10 - failed, injected: { unavailable: failed } });
    await client.close();
    for (let poll = 0; poll < 200 && !stderr.includes('"chaos.report"'); poll++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const lines = stderr.split('\n');
    expect(lines).toContain(
      `retrace chaos-proxy: 10 tool calls, ${10 - failed} forwarded, ${failed} faults injected (unavailable ${failed})`,
    );
    const json = JSON.parse(lines.find((line) => line.includes('"chaos.report"')) ?? '{}') as ChaosReportData;
    expect({ ...json, uptime_ms: 0 }).toEqual({
      type: 'chaos.report',
      reason: expect.any(String),
      ...report,
      uptime_ms: 0,
    });
  });

  it('goes on from its saved dice after a planned crash with --state; without it, the same crash comes back', async () => {
    // Seed 16 draws a crash for echo's first call and none for its second.
    const plan: ChaosPlanInput = { seed: 16, faults: [{ tool: 'echo', rate: 0.5, kind: 'crash' }] };
    /** One proxy process, one echo call: whether the proxy crashed under it. */
    const callOnce = async (args: string[]): Promise<'crashed' | 'answered'> => {
      const transport = new StdioClientTransport({ command: process.execPath, args, cwd: repoRoot, stderr: 'pipe' });
      const client = new Client({ name: 'chaos-test', version: '1' });
      await client.connect(transport);
      try {
        await client.callTool({ name: 'echo', arguments: { message: 'x' } });
        return 'answered';
      } catch {
        return 'crashed';
      } finally {
        await client.close();
      }
    };
    const fresh = await proxyArgs('crash-fresh', plan);
    expect([await callOnce(fresh), await callOnce(fresh)]).toEqual(['crashed', 'crashed']);

    const state = join(directory, 'dice.json');
    const kept = await proxyArgs('crash-kept', plan, ['--state', state]);
    expect([await callOnce(kept), await callOnce(kept)]).toEqual(['crashed', 'answered']);
    expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ seed: 16, callsPerTool: { echo: 2 } });

    const other = join(directory, 'other.yaml');
    await writeFile(other, stringify({ ...plan, seed: 17 }));
    const refused = await runCli(['chaos-proxy', '--plan', other, '--state', state, '--', 'node', 'server.js'], {
      cwd: directory,
    });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain(`--state ${state}: saved for seed 16, the plan's seed is 17`);
  });

  it('refuses a bad plan with its position, and a missing server with usage', async () => {
    const bad = join(directory, 'bad.yaml');
    await writeFile(bad, 'seed: 1\nfaults:\n  - { tool: echo, rate: 2, kind: unavailable }\n');
    const planned = await runCli(['chaos-proxy', '--plan', bad, '--', 'node', 'server.js'], { cwd: directory });
    expect(planned.code).toBe(78);
    expect(planned.stderr).toMatch(/bad\.yaml:3:25 faults\[0\]\.rate: .*1/);
    const usage = await runCli(['chaos-proxy', '--plan', bad], { cwd: directory });
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/-- COMMAND ARGS/);
    const good = join(directory, 'good.yaml');
    await writeFile(good, 'seed: 1\nfaults: []\n');
    const tokenOnStdio = await runCli(['chaos-proxy', '--plan', good, '--token', 't', '--', 'node', 'server.js'], {
      cwd: directory,
    });
    expect(tokenOnStdio.code).toBe(64);
    expect(tokenOnStdio.stderr).toContain('--token is for --listen (HTTP); stdio has no listener');
  });
});
