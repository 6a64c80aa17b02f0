// The runs list page: each workflow run with its status, duration, errors and escalations, linked to its run page.
import { formatDurationMs } from '../../common/duration.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { initialWorkflowRun, reduceWorkflowRun } from '../../store/projections/workflowRun.js';
import { escapeHtml, htmlDocument } from './html.js';
import { readErrorItem, readEscalationItem } from './runPageModel.js';
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
  /** The link of a run's page (the server's `/runs/RUN`); by default the file `retrace report` writes, `run-RUN.html`. */
  runHref?: ((runId: string) => string) | undefined;
  /** Reload every so many seconds (a live list from the server); never by default. */
  refreshSeconds?: number | undefined;
  title?: string | undefined;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** The runs list, newest first. */
export function renderRunsPage(rows: readonly RunsPageRow[], options: RunsPageOptions = {}): string {
  const href = options.runHref ?? ((runId: string) => `run-${encodeURIComponent(runId)}.html`);
  const sorted = [...rows].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  const body = sorted
    .map(
      (row) => `<tr data-run="${escapeHtml(row.runId)}">
<td><a class="mono" href="${escapeHtml(href(row.runId))}">${escapeHtml(row.runId)}</a></td>
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
  const table =
    sorted.length === 0
      ? '<p class="muted" id="runs">No workflow run in the log.</p>'
      : `<table id="runs"><thead><tr>${headings}</tr></thead><tbody>${body}</tbody></table>`;
  const title = options.title ?? 'retrace runs';
  return htmlDocument({
    title,
    style: viewerStyle,
    body: `<h1>${escapeHtml(title)}</h1>\n${table}`,
    refreshSeconds: options.refreshSeconds,
  });
}
