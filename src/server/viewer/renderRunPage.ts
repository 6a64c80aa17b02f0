// The run page: one self-contained HTML document (inline style and script, the run's events embedded) that shows a
// workflow run and replays it step by step with a scrubber. Pure: events in, a string out (report and server alike).
import { formatDurationMs } from '../../common/duration.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { dataScript, escapeHtml, htmlDocument } from './html.js';
import { buildRunPageModel, type RunPageModel } from './runPageModel.js';
import { computedTable, errorsTable, escalationsTable, stateChangesTable } from './runPageTables.js';
import { runFoldScript, runPageScript } from './runPageScript.js';
import { callChartsHtml, stepChartHtml, timeAxisOf, timelineHtml } from './runTimelineHtml.js';
import { viewerStyle } from './viewerStyle.js';

export interface RunPageOptions {
  /** Where a link back to the runs list points (the server's `/runs`); none in a report file. */
  runsHref?: string | undefined;
  /** The status to show when the log alone does not tell it (`interrupted`: no live owner). */
  status?: string | undefined;
  /** When the page was made (clock ms), shown in its footer; none by default so the same events give the same page. */
  generatedAt?: number | undefined;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

function summaryItem(term: string, value: string, id?: string): string {
  return `<div><dt>${escapeHtml(term)}</dt><dd${id === undefined ? '' : ` id="${id}"`}>${value}</dd></div>`;
}

function header(model: RunPageModel, options: RunPageOptions): string {
  const { run } = model;
  const status = options.status ?? run.status;
  const back = options.runsHref === undefined ? '' : `<p><a href="${escapeHtml(options.runsHref)}">← all runs</a></p>`;
  const error = run.error
    ? `<p id="run-error"><strong>${escapeHtml(run.error.type)}</strong>: ${escapeHtml(run.error.message)}${run.waitingStep ? ` (waiting on step ${escapeHtml(run.waitingStep)}: <code>retrace resolve ${escapeHtml(model.runId)}</code>)` : ''}</p>`
    : '';
  return `<header>${back}<h1 id="workflow-name">${escapeHtml(run.name || '(no workflow)')}</h1>
<dl class="summary">
${summaryItem('run', `<code>${escapeHtml(model.runId)}</code>`, 'run-id')}
${summaryItem('status', `<span class="status ${escapeHtml(status)}">${escapeHtml(status)}</span>`, 'run-status')}
${summaryItem('started', escapeHtml(iso(run.startedAt)))}
${summaryItem('duration', escapeHtml(model.durationMs === undefined ? '-' : formatDurationMs(model.durationMs)), 'run-duration')}
${summaryItem('steps', String(run.steps))}
${summaryItem('errors', String(model.errors.length), 'run-errors')}
${summaryItem('escalations', String(model.escalations.length), 'run-escalations')}
${summaryItem('events', String(model.events.length))}
${run.file ? summaryItem('file', `<code>${escapeHtml(run.file)}</code>`) : ''}
</dl>${error}</header>`;
}

function scrubber(model: RunPageModel): string {
  const count = model.events.length;
  return `<section class="scrubber" aria-label="replay">
<button type="button" id="scrub-back" title="one event back">◀</button>
<input type="range" id="scrubber" min="0" max="${count}" value="${count}" step="1" aria-label="events replayed">
<button type="button" id="scrub-next" title="one event on">▶</button>
<output id="scrubber-label" for="scrubber"></output>
</section>`;
}

function atCursor(): string {
  return `<dl class="summary">
${summaryItem('status at the cursor', '<span class="status" id="cursor-status"></span>')}
${summaryItem('current steps', '', 'cursor-steps')}
${summaryItem('steps', '', 'cursor-count')}
${summaryItem('last change', '', 'cursor-change')}
</dl>`;
}

/** The run page of a workflow run's events (any order; folded in seq order). */
export function renderRunPage(events: readonly EventEnvelope[], options: RunPageOptions = {}): string {
  const model = buildRunPageModel(events);
  const lastTs = model.events.at(-1)?.ts ?? 0;
  const axis = timeAxisOf(model.timeline, lastTs);
  const startMs = axis.startMs;
  const footer =
    options.generatedAt === undefined
      ? ''
      : `<footer class="muted">Made ${escapeHtml(iso(options.generatedAt))} by retrace.</footer>`;
  const body = `${header(model, options)}
${scrubber(model)}
<section id="now">${atCursor()}</section>
<h2>Workflow steps</h2>
<p class="muted">The step actors the run went through, nested as they ran; at the cursor the current steps are outlined.</p>
${stepChartHtml(model.timeline)}
<h2>Timeline</h2>
${timelineHtml(model.timeline, axis)}
<div class="columns">
<section><h2>State at the cursor</h2><pre id="state-json"></pre></section>
<section><h2>Computed fields at the cursor</h2><pre id="computed-json"></pre></section>
</div>
<h2>State changes</h2>
${stateChangesTable(model.events, startMs)}
<h2>Computed-field traces</h2>
${computedTable(model.events, startMs)}
<h2>Errors</h2>
${errorsTable(model.errors, startMs)}
<h2>Escalations</h2>
${escalationsTable(model.escalations, startMs)}
<h2>Tool calls</h2>
<p class="muted">Each call's tool-call machine; at the cursor its state is outlined, the states it went through are green.</p>
${callChartsHtml(model.timeline)}
${footer}
${dataScript('retrace-run', { runId: model.runId, events: model.events })}`;
  return htmlDocument({
    title: `${model.run.name || 'run'} ${model.runId}: ${options.status ?? model.run.status}`,
    style: viewerStyle,
    body,
    scripts: [runFoldScript, runPageScript],
  });
}
