// The run viewer on `retrace serve`: `/runs` lists the workflow runs of the store and `/run?id=RUN` is a run's page
// (the document `retrace report RUN` writes, plus its workflow file's statechart). Both stay live: their scripts poll
// `/api/runs` and `/api/run?id=RUN&after=SEQ`. Every request reads the store, so runs written since show up.
import type { ServerResponse } from 'node:http';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { EventStore } from '../../store/eventStore.js';
import { sendJson, type ObservabilityServer } from '../http/observabilityServer.js';
import { renderRunPage, runPageUpdate } from './renderRunPage.js';
import { renderRunsPage, runsPageRow, runsTableHtml, type RunsPageRow } from './renderRunsPage.js';
import { loadRunWorkflowChart } from './runWorkflowChart.js';

export interface ViewerRoutesOptions {
  /** The runtime config (a run's workflow file is compiled with it, as the run did). */
  config?: RuntimeConfig | undefined;
  /** How often a run page asks for new events, in ms; 1000 by default. */
  runIntervalMs?: number | undefined;
  /** How often the runs list asks for the list, in ms; 2000 by default. */
  runsIntervalMs?: number | undefined;
}

const runHref = (runId: string): string => `/run?id=${encodeURIComponent(runId)}`;
const RUNS_HREF = '/runs';

function sendHtml(response: ServerResponse, html: string): void {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(html);
}

/** Every workflow run of the store as a row, newest first (read now: runs appended since the last request count). */
async function runRows(store: EventStore): Promise<RunsPageRow[]> {
  const rows: RunsPageRow[] = [];
  for (const summary of await store.runs()) {
    const row = runsPageRow(await store.read(summary.runId));
    if (row) rows.push(row);
  }
  return rows.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
}

/** The run the request names, with its events; undefined once the response says what was wrong. */
async function requestedRun(
  store: EventStore,
  url: URL,
  response: ServerResponse,
): Promise<{ runId: string; events: Awaited<ReturnType<EventStore['read']>> } | undefined> {
  const runId = url.searchParams.get('id');
  if (!runId) {
    sendJson(response, 400, { error: `name the run: ${url.pathname}?id=RUN` });
    return undefined;
  }
  const events = await store.read(runId);
  if (!runsPageRow(events)) {
    sendJson(response, 404, { error: `no workflow run "${runId}" in the log (see /runs)` });
    return undefined;
  }
  return { runId, events };
}

export function addViewerRoutes(
  server: Pick<ObservabilityServer, 'route'>,
  store: EventStore,
  options: ViewerRoutesOptions = {},
): void {
  const runIntervalMs = options.runIntervalMs ?? 1_000;
  const runsIntervalMs = options.runsIntervalMs ?? 2_000;

  server.route('GET', '/runs', async (_request, response) => {
    const rows = await runRows(store);
    sendHtml(response, renderRunsPage(rows, { runHref, live: { api: '/api/runs', intervalMs: runsIntervalMs } }));
  });
  server.route('GET', '/api/runs', async (_request, response) => {
    const rows = await runRows(store);
    sendJson(response, 200, { runs: rows, html: runsTableHtml(rows, runHref) });
  });
  server.route('GET', '/run', async (_request, response, url) => {
    const run = await requestedRun(store, url, response);
    if (!run) return;
    const workflowChart = await loadRunWorkflowChart(run.events, { config: options.config });
    const live = { api: `/api/run?id=${encodeURIComponent(run.runId)}`, intervalMs: runIntervalMs };
    sendHtml(
      response,
      renderRunPage(run.events, { runsHref: RUNS_HREF, generatedAt: Date.now(), workflowChart, live }),
    );
  });
  server.route('GET', '/api/run', async (_request, response, url) => {
    const after = url.searchParams.get('after') ?? '0';
    if (!/^\d+$/.test(after)) {
      sendJson(response, 400, { error: `after: expected the last seq the page has (a whole number), got "${after}"` });
      return;
    }
    const run = await requestedRun(store, url, response);
    if (!run) return;
    sendJson(response, 200, runPageUpdate(run.events, Number(after), { runsHref: RUNS_HREF }));
  });
}
