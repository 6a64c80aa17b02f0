// `retrace serve` watches the data dir read-only: a `retrace run` of another process goes on beside it without waiting
// for a lock, and /metrics, /runs and `--inspect` see that run once it is in the log.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, vi } from 'vitest';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { cliTest, stdoutJson, type CliWorkspace } from '../support/cli.js';
import { parsePrometheusText, sampleKey } from '../support/promText.js';
import { requireSharedNats, throwawayStream } from '../support/natsServer.js';
import { counterWorkflow, startServe, type ServeChild } from '../support/serveChild.js';

/** How long a change another process made may take to show (the watch reads every 250 ms; processes start slowly). */
const SEEN_WITHIN = { timeout: 10_000, interval: 50 };

const METRICS_CHECK = "the metrics have folded the log's stored events";

/** /readyz once it answers 200 (bounded), its body. */
function readyBody(serve: ServeChild): Promise<unknown> {
  return vi.waitFor(async () => {
    const response = await fetch(`${serve.url}/readyz`);
    expect(response.status).toBe(200);
    return response.json() as Promise<unknown>;
  }, SEEN_WITHIN);
}

/** Runs counter.yaml in another process, allowed no lock wait (a locked log exits 75 at once); its run id. */
async function runCounter(workspace: CliWorkspace): Promise<string> {
  const run = await workspace.run(['run', 'counter.yaml', '--quiet'], { env: { RETRACE_LOCK_WAIT_MS: '0' } });
  expect(run.code, run.stderr).toBe(0);
  return stdoutJson<{ runId: string }>(run).runId;
}

/** /metrics once it counts `succeeded` runs of counter (bounded wait). */
function metricsCounting(serve: ServeChild, succeeded: number): Promise<Map<string, number>> {
  return vi.waitFor(async () => {
    const scraped = parsePrometheusText(await (await fetch(`${serve.url}/metrics`)).text());
    expect(scraped.get(sampleKey('retrace_workflow_runs', { workflow: 'counter', status: 'succeeded' }))).toBe(
      succeeded,
    );
    return scraped;
  }, SEEN_WITHIN);
}

interface InspectionMessage {
  type: string;
  sessionId?: string;
  definition?: string;
  event?: { type?: string; runId?: string };
  snapshot?: { status?: string; value?: unknown };
}

describe('retrace serve beside the runs of other processes', { timeout: 120_000 }, () => {
  cliTest('follows a run another process writes, which never waits for a lock', async ({ workspace }) => {
    await writeFile(join(workspace.dir, 'counter.yaml'), counterWorkflow);
    // Started before the data dir exists: nothing to read yet is not a failure.
    const serve = await startServe(workspace);
    try {
      const ready = await readyBody(serve);
      expect(ready).toEqual({
        ready: true,
        checks: {
          log: {
            ok: true,
            what: `the data dir ${join(workspace.dir, '.retrace')} and its log are readable and followed (read-only: no writer lock)`,
          },
          metrics: { ok: true, what: METRICS_CHECK },
        },
      });

      const runs: string[] = [];
      for (let i = 1; i <= 2; i += 1) {
        runs.push(await runCounter(workspace));
        const samples = await metricsCounting(serve, i);
        expect(samples.get(sampleKey('retrace_workflow_steps_total', { workflow: 'counter' }))).toBe(3 * i);
      }

      const runsHtml = await (await fetch(`${serve.url}/runs`)).text();
      for (const runId of runs) expect(runsHtml).toContain(`href="/run?id=${runId}"`);
      const page = await fetch(`${serve.url}/run?id=${runs[1] ?? ''}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(runs[1]);
      expect(serve.stderr()).toContain('watching the log read-only (no writer lock)');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  cliTest('--inspect relays the runs it sees to a WebSocket viewer of its inspector', async ({ workspace }) => {
    await writeFile(join(workspace.dir, 'counter.yaml'), counterWorkflow);
    const serve = await startServe(workspace, ['--inspect', '0']);
    const received: InspectionMessage[] = [];
    try {
      const socketUrl = await vi.waitFor(() => {
        const printed = /events stream from (ws:\/\/127\.0\.0\.1:\d+)/.exec(serve.stderr())?.[1];
        expect(printed, serve.stderr()).toBeDefined();
        return printed ?? '';
      }, SEEN_WITHIN);
      // The relay replays what it relayed to a viewer that connects late, and closes its viewers when serve stops.
      createWebSocketReceiver({ server: socketUrl }).subscribe((message) =>
        received.push(message as InspectionMessage),
      );

      const runId = await runCounter(workspace);

      await vi.waitFor(() => {
        // The workflow actor and its three steps, each registered with its machine and ending done.
        const actors = received.filter((message) => message.type === '@xstate.actor');
        const machines = actors.map((message) => (JSON.parse(message.definition ?? '{}') as { id?: string }).id);
        expect(machines.sort()).toEqual(['step', 'step', 'step', 'workflow']);
        const ends = received.flatMap((message) =>
          message.type === '@xstate.snapshot' && message.snapshot?.status === 'done' ? [message.snapshot.value] : [],
        );
        expect(ends).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      }, SEEN_WITHIN);
      const started = received.find((message) => message.event?.type === 'workflow.started');
      expect(started?.type).toBe('@xstate.event');
      expect(JSON.stringify(received)).toContain(runId);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  cliTest('over JetStream: follows the stream other processes append to', async ({ workspace }) => {
    const servers = await requireSharedNats();
    const { stream, subjectPrefix, remove } = throwawayStream('servewatch');
    try {
      await workspace.writeConfig({
        store: 'jetstream',
        nats: { url: servers, stream, subject_prefix: subjectPrefix },
      });
      await writeFile(join(workspace.dir, 'counter.yaml'), counterWorkflow);
      const serve = await startServe(workspace);
      try {
        expect(await readyBody(serve)).toEqual({
          ready: true,
          checks: {
            log: { ok: true, what: `the JetStream stream ${stream} is readable and followed (read-only)` },
            metrics: { ok: true, what: METRICS_CHECK },
            nats: { ok: true, what: `connected to NATS at ${servers}` },
          },
        });
        const runId = await runCounter(workspace);
        await metricsCounting(serve, 1);
        expect(await (await fetch(`${serve.url}/runs`)).text()).toContain(`href="/run?id=${runId}"`);
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    } finally {
      await remove(servers);
    }
  });
});
