// `retrace serve` as a real process: it reads the data dir's log (read-only), serves its runs' metrics, health,
// readiness and pages, and stops cleanly on SIGTERM. (serveWatch.test.ts: runs of other processes while it serves.)
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cliMain, cliTest, tsxLoader } from '../support/cli.js';
import { parsePrometheusText, sampleKey } from '../support/promText.js';
import { counterWorkflow, startServe } from '../support/serveChild.js';

// Three CLI processes one after the other: on a loaded machine they take longer than the default 30 s.
cliTest('serves the metrics of the runs in its data dir until SIGTERM', { timeout: 120_000 }, async ({ workspace }) => {
  await writeFile(join(workspace.dir, 'counter.yaml'), counterWorkflow);
  expect((await workspace.run(['run', 'counter.yaml', '--quiet'])).code).toBe(0);

  const serve = await startServe(workspace);
  const url = serve.url;
  try {
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'alive', pid: serve.pid });
    let ready = await fetch(`${url}/readyz`);
    for (let i = 0; i < 500 && ready.status !== 200; i += 1) ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    expect(samples.get(sampleKey('retrace_workflow_runs', { workflow: 'counter', status: 'succeeded' }))).toBe(1);
    expect(samples.get(sampleKey('retrace_workflow_steps_total', { workflow: 'counter' }))).toBe(3);
    // The run viewer's pages: the runs list links the run, whose page is the report's document.
    const runs = await fetch(`${url}/runs`);
    expect(runs.headers.get('content-type')).toContain('text/html');
    const runsHtml = await runs.text();
    const runId = /href="\/run\?id=([^"]+)"/.exec(runsHtml)?.[1];
    expect(runId, runsHtml).toBeDefined();
    // Live without reloading: the page polls /api/runs, which reads the log on each request.
    expect(runsHtml).not.toContain('http-equiv="refresh"');
    expect(runsHtml).toContain('"api":"/api/runs"');
    const api = (await (await fetch(`${url}/api/runs`)).json()) as { runs: Array<{ runId: string; status: string }> };
    expect(api.runs).toEqual([
      expect.objectContaining({ runId: decodeURIComponent(runId ?? ''), status: 'succeeded' }),
    ]);
    const page = await (await fetch(`${url}/run?id=${runId ?? ''}`)).text();
    expect(page).toContain('counter');
    expect(page).toContain(decodeURIComponent(runId ?? ''));
    // The run recorded its file: the page draws the file's statechart, every step of it.
    expect(page).toContain('id="workflow-chart"');
    expect(page).toContain('data-step="two"');
    expect((await fetch(`${url}/run?id=nope`)).status).toBe(404);
    expect((await fetch(`${url}/run`)).status).toBe(400);
    // The server's log is pino JSON on stderr (not a TTY here).
    expect(
      serve
        .stderr()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { msg: string }),
    ).toContainEqual(expect.objectContaining({ msg: 'serving /metrics, /healthz, /readyz' }));
  } finally {
    expect(await serve.stop()).toBe(0);
  }
  // It never held the log's lock, and left nothing behind that would: a writer opens the log without waiting.
  const after = await workspace.run(['run', 'counter.yaml', '--quiet'], { env: { RETRACE_LOCK_WAIT_MS: '0' } });
  expect(after.code).toBe(0);
});

cliTest('stops cleanly on SIGINT sent as soon as the URL is printed', async ({ workspace }) => {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'serve', '--port', '0'], {
    cwd: workspace.dir,
    env: { ...process.env, ...workspace.marker, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (chunk.includes('retrace serve: http://')) child.kill('SIGINT');
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  expect({ code, signal }).toEqual({ code: 0, signal: null });
});

cliTest('refuses a bad port and a non-loopback address without a token, saying which', async ({ workspace }) => {
  const badPort = await workspace.run(['serve', '--port', 'http']);
  expect(badPort.code).toBe(64);
  expect(badPort.stderr).toContain('--port: expected a port number 0-65535, got "http"');
  const open = await workspace.run(['serve', '--port', '0', '--host', '0.0.0.0']);
  expect(open.code).toBe(64);
  expect(open.stderr).toContain('binding 0.0.0.0 (beyond loopback) requires a token');
});
