// `retrace replay` and `retrace metrics` of a workflow run recorded by `retrace run` against the example server.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { WorkflowMetricsReport, WorkflowTimeline } from '../../src/index.js';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { exampleStdioConfig } from '../support/exampleServer.js';
import { demoPlan, demoWorkflow } from '../support/workflowDemo.js';

// A time on a line: real time passed in this run, so only its shape is checked.
const t = String.raw`\+\d+\.\d{3}s +`;

describe('retrace replay of a workflow run', () => {
  it('prints the run as a tree, its projection as JSON, cuts it with --until, and shows its workflow metrics', async ({
    workspace,
  }) => {
    await workspace.writeConfig({ servers: { scheduler: workspace.stdio(exampleStdioConfig({ plan: demoPlan })) } });
    await writeFile(join(workspace.dir, 'demo.yaml'), demoWorkflow);
    const run = await workspace.run(['run', 'demo.yaml', '--run-id', 'demo-1', '--json'], { timeoutMs: 90_000 });
    expect(run.code, run.stderr).toBe(0);

    const tree = await workspace.run(['replay', 'demo-1']);
    expect(tree.code, tree.stderr).toBe(0);
    const text = tree.stdout;
    expect(text).toMatch(/^workflow timeline-demo \(run demo-1\) from .*demo\.yaml at \S+Z: succeeded$/m);
    for (const line of [
      String.raw`validate \[mcp_call\] succeeded in \d+\.\d{3}s`,
      String.raw`    attempt 1 scheduler/validate_schedule_tool \d+ms transient/unavailable → retry \(retryable\)`,
      String.raw`    backoff 1000ms until \+\d+\.\d{3}s`,
      String.raw`    cache hit, \d+ms old`,
      String.raw`    fallback scheduler/validate_schedule_by_id_tool → scheduler/validate_schedule_tool \(unimplemented\)`,
      String.raw`  per_region\[1\]\.record \[state_update\] succeeded in \d+\.\d{3}s`,
      String.raw`    state raw\.deployed append → \["eu","us"\]`,
      String.raw`    computed\.deployed_count = 2 \(raw\.deployed update, [\d.]+ms\)`,
      String.raw`  notify/say \[error\] failed in \d+\.\d{3}s, 2 attempts: error: no channel`,
      String.raw`    backoff 0\.500s after attempt 1, next due \+\d+\.\d{3}s`,
      String.raw`  fallback after error: no channel: result \{"notified":false\}`,
      String.raw`tidy \[mcp_call\] skipped \(when is false\)`,
      String.raw`run succeeded after \d+\.\d{3}s \(10 steps\): result \{"deployed":2\}`,
    ]) {
      expect(text).toMatch(new RegExp(`^${t}  ${line}$`, 'm'));
    }

    const json = await workspace.run(['replay', 'demo-1', '--format', 'json']);
    const timeline = stdoutJson<WorkflowTimeline>(json);
    expect(timeline).toMatchObject({ runId: 'demo-1', name: 'timeline-demo', status: 'succeeded' });
    expect(timeline.steps).toHaveLength(11);

    const cut = await workspace.run(['replay', 'demo-1', '--until', '8']);
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/: running\n/);
    expect(cut.stdout).not.toMatch(/run succeeded/);
    expect(cut.stdout.trim().split('\n').at(-1)).toBe('(no end yet)');

    // The run waited a second of backoff: at its start plus 0.5 s it had not ended.
    const early = await workspace.run(['replay', 'demo-1', '--until', '+500ms']);
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toMatch(/validate \[mcp_call\] (running|waiting to retry)/);
    expect(early.stdout.trim().split('\n').at(-1)).toBe('(no end yet)');

    const bad = await workspace.run(['replay', 'demo-1', '--until', 'soon']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--until soon: expected a seq .*, a time .* or an offset from the run's start/);

    const metrics = await workspace.run(['metrics', '--json']);
    const { workflows } = stdoutJson<{ workflows: WorkflowMetricsReport[] }>(metrics);
    expect(workflows).toEqual([
      expect.objectContaining({
        name: 'timeline-demo',
        runs: { total: 1, running: 0, succeeded: 1, failed: 0, escalated: 0, cancelled: 0 },
        stepsExecuted: 11,
        retries: { steps: 1, toolCalls: 1 },
        fallbacks: { steps: 1, toolCalls: 1 },
      }),
    ]);
    const metricsText = await workspace.run(['metrics']);
    expect(metricsText.stdout).toMatch(/^workflow timeline-demo: runs 1 \(succeeded 1\), duration p50 \d+ ms/m);
    expect(metricsText.stdout).toMatch(/^ {2}step say: executions 1, failures 1, fallbacks 0, mean \d+ ms$/m);
  }, 240_000); // eight CLI processes one after another on a loaded machine
});
