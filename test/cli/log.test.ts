// The log from the command line: every `retrace call` is a run, read back by runs, replay, metrics, export and import.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { requireSharedNats } from '../support/natsServer.js';
import { flakyStdioConfig } from '../support/servers.js';

const fastPolicy = '--policy-json={"base_delay":"10ms","jitter":"none"}';

describe('the log on the command line', () => {
  it('records a call as a run and replays its timeline, metrics and export from the log alone', async ({
    workspace,
  }) => {
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    const call = await workspace.run([
      'call',
      'flaky',
      'flaky',
      '--arg',
      'key=k',
      '--arg',
      'failures=1',
      '-q',
      fastPolicy,
    ]);
    expect(call.code, call.stderr).toBe(0);
    const { runId } = stdoutJson<{ runId: string }>(call);
    expect(runId).toMatch(/^[0-9A-Z]{26}$/);

    const runs = await workspace.run(['runs', '--json']);
    expect(stdoutJson<Array<{ runId: string; status: string; events: number }>>(runs)).toEqual([
      expect.objectContaining({ runId, status: 'succeeded', events: 6 }),
    ]);

    const replay = await workspace.run(['replay', runId]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/attempt 1 flaky\/flaky \d+ms transient\/unavailable → retry/);
    expect(replay.stdout).toMatch(/backoff 10ms until/);
    expect(replay.stdout).toMatch(/outcome succeeded via flaky\/flaky/);

    const until = await workspace.run(['replay', runId, '--until', '3']);
    expect(until.stdout).not.toMatch(/outcome succeeded/);

    const metrics = await workspace.run(['metrics', '--json']);
    expect(stdoutJson<{ tools: unknown[]; workflows: unknown[] }>(metrics)).toEqual({
      tools: [expect.objectContaining({ server: 'flaky', tool: 'flaky', totalCalls: 2, totalErrors: 1, retries: 1 })],
      workflows: [],
    });

    const exported = await workspace.run(['export', runId]);
    const lines = exported.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([1, 2, 3, 4, 5, 6]);

    // Into another log: the run comes back whole, and a bad line is refused with its line number.
    const file = join(workspace.dir, 'run.jsonl');
    await writeFile(file, exported.stdout);
    const imported = await workspace.run(['--data-dir', 'other', 'import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    const otherRuns = await workspace.run(['--data-dir', 'other', 'runs', '--json']);
    expect(stdoutJson<Array<{ runId: string }>>(otherRuns).map((run) => run.runId)).toEqual([runId]);
    const bad = join(workspace.dir, 'bad.jsonl');
    await writeFile(bad, `${lines[0]}\n{not json\n`);
    const refused = await workspace.run(['--data-dir', 'third', 'import', bad]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bad\.jsonl:2/);
  }, 120_000); // six CLI processes one after another: ~3 s each alone, much more on a loaded machine

  it('records to NATS JetStream with --nats and replays from there', async ({ workspace }) => {
    const nats = await requireSharedNats();
    await workspace.writeConfig({ servers: { flaky: workspace.stdio(flakyStdioConfig()) } });
    const call = await workspace.run([
      '--nats',
      nats,
      'call',
      'flaky',
      'flaky',
      '--arg',
      'key=j',
      '--arg',
      'failures=1',
      '-q',
      fastPolicy,
    ]);
    expect(call.code, call.stderr).toBe(0);
    const { runId } = stdoutJson<{ runId: string }>(call);
    const replay = await workspace.run(['--nats', nats, 'replay', runId, '--format', 'json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toContain('"kind": "backoff"');
    const exported = await workspace.run(['--nats', nats, 'export', runId]);
    expect(exported.stdout.trim().split('\n')).toHaveLength(6);
  }, 120_000); // six CLI processes one after another: ~3 s each alone, much more on a loaded machine

  it('says clearly when a run is not in the log', async ({ workspace }) => {
    await workspace.writeConfig({ servers: {} });
    const result = await workspace.run(['replay', 'NOPE']);
    expect(result.code).toBe(64);
    expect(result.stderr.trim()).toBe('retrace: no run "NOPE" in the log (see retrace runs)');
  });
});
