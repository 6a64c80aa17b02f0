// The runs list page: each workflow run with its status, duration, errors and escalations, linked to its run page.
import { formatDurationMs } from '../../common/duration.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { initialWorkflowRun, reduceWorkflowRun } from '../../store/projections/workflowRun.js';
import { dataScript, escapeHtml, htmlDocument } from './html.js';
import { readErrorItem, readEscalationItem } from './runPageModel.js';
import { runsLiveScript } from './runLiveScript.js';
import { viewerStyle } from './viewerStyle.js';

export interface RunsPageRow {
  runId: string;
  name: string;
  /** A workflow status, or `interrupted` when the caller knows no live process owns a running run. */
  status: string;
  startedAt: number | undefined;
  /** Undefined while the run has not ended. */
  durationMs: number | undefined;
  steps: number;
  errors: number;
  escalations: number;
}

/** A run's row from its events; undefined when they are not a workflow run's (a lone tool call's). */
export function runsPageRow(events: readonly EventEnvelope[]): RunsPageRow | undefined {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const view = ordered.reduce(reduceWorkflowRun, initialWorkflowRun);
  if (view.startedAt === undefined) return undefined;
  let errors = 0;
  let escalations = 0;
  for (const event of ordered) {
    if (readErrorItem(event)) errors += 1;
    if (readEscalationItem(event)) escalations += 1;
  }
  return {
    runId: view.runId,
    name: view.name,
    status: view.status,
    startedAt: view.startedAt,
    durationMs: view.endedAt === undefined ? undefined : view.endedAt - view.startedAt,
    steps: view.steps,
    errors,
    escalations,
  };
}

export interface RunsPageOptions {
  /** The link of a run's page (the server's `/run?id=RUN`); by default the file `retrace report` writes, `run-RUN.html`. */
  runHref?: ((runId: string) => string) | undefined;
  /** On a server: the page asks `api` (`/api/runs`) for the list every `intervalMs` and redraws it. Never in a file. */
  live?: { api: string; intervalMs: number } | undefined;
  title?: string | undefined;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

const reportHref = (runId: string): string => `run-${encodeURIComponent(runId)}.html`;

/** The runs table, newest first (what a live list swaps in). */
export function runsTableHtml(rows: readonly RunsPageRow[], runHref: (runId: string) => string = reportHref): string {
  const sorted = [...rows].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  const body = sorted
    .map(
      (row) => `<tr data-run="${escapeHtml(row.runId)}">
<td><a class="mono" href="${escapeHtml(runHref(row.runId))}">${escapeHtml(row.runId)}</a></td>
<td>${escapeHtml(row.name)}</td>
<td><span class="status ${escapeHtml(row.status)}">${escapeHtml(row.status)}</span></td>
<td class="mono">${escapeHtml(iso(row.startedAt))}</td>
<td class="mono">${escapeHtml(row.durationMs === undefined ? '-' : formatDurationMs(row.durationMs))}</td>
<td>${row.steps}</td><td>${row.errors}</td><td>${row.escalations}</td></tr>`,
    )
    .join('\n');
  const headings = ['run', 'workflow', 'status', 'started', 'duration', 'steps', 'errors', 'escalations']
    .map((heading) => `<th>${heading}</th>`)
    .join('');
  return sorted.length === 0
    ? '<p class="muted" id="runs">No workflow run in the log.</p>'
    : `<table id="runs"><thead><tr>${headings}</tr></thead><tbody>${body}</tbody></table>`;
}

/** The runs list, newest first; live on a server. */
export function renderRunsPage(rows: readonly RunsPageRow[], options: RunsPageOptions = {}): string {
  const title = options.title ?? 'retrace runs';
  const live = options.live ? ` <span id="live-status" class="live">live: connecting…</span>` : '';
  return htmlDocument({
    title,
    style: viewerStyle,
    body: `<h1>${escapeHtml(title)}${live}</h1>
<div id="runs-list">${runsTableHtml(rows, options.runHref)}</div>
${options.live ? dataScript('retrace-runs', { live: options.live }) : ''}`,
    scripts: options.live ? [runsLiveScript] : [],
  });
}
