// The run viewer's pages on `retrace serve`: `/runs` lists the workflow runs of the store (reloading itself), and
// `/run?id=RUN` is a run's page, the same document `retrace report RUN` writes.
import type { ServerResponse } from 'node:http';
import type { EventStore } from '../../store/eventStore.js';
import { sendJson, type ObservabilityServer } from '../http/observabilityServer.js';
import { renderRunPage } from './renderRunPage.js';
import { renderRunsPage, runsPageRow, type RunsPageRow } from './renderRunsPage.js';

/** How often the runs list reloads itself, in seconds. */
const RUNS_REFRESH_SECONDS = 5;

const runHref = (runId: string): string => `/run?id=${encodeURIComponent(runId)}`;

function sendHtml(response: ServerResponse, html: string): void {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(html);
}

export function addViewerRoutes(server: Pick<ObservabilityServer, 'route'>, store: EventStore): void {
  server.route('GET', '/runs', async (_request, response) => {
    const rows: RunsPageRow[] = [];
    for (const summary of await store.runs()) {
      const row = runsPageRow(await store.read(summary.runId));
      if (row) rows.push(row);
    }
    rows.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
    sendHtml(response, renderRunsPage(rows, { runHref, refreshSeconds: RUNS_REFRESH_SECONDS }));
  });
  server.route('GET', '/run', async (_request, response, url) => {
    const runId = url.searchParams.get('id');
    if (!runId) {
      sendJson(response, 400, { error: 'name the run: /run?id=RUN' });
      return;
    }
    const events = await store.read(runId);
    if (!runsPageRow(events)) {
      sendJson(response, 404, { error: `no workflow run "${runId}" in the log (see /runs)` });
      return;
    }
    sendHtml(response, renderRunPage(events, { runsHref: '/runs', generatedAt: Date.now() }));
  });
}
