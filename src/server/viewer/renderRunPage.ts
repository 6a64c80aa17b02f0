// The run page: one self-contained HTML document (inline style and script, the run's events embedded) that shows a
// workflow run and replays it step by step with a scrubber. Pure: events in, a string out (report and server alike);
// on a server the page also asks for new events and redraws the parts they change (runPageUpdate).
import { formatDurationMs } from '../../common/duration.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { toolCallPaths } from '../../machines/toolCallPath.js';
import { dataScript, escapeHtml, htmlDocument } from './html.js';
import { buildRunPageModel, type RunPageModel } from './runPageModel.js';
import { computedTable, errorsTable, escalationsTable, stateChangesTable } from './runPageTables.js';
import { runLiveScript } from './runLiveScript.js';
import { runFoldScript, runPageScript } from './runPageScript.js';
import { stepChartHtml, timeAxisOf, timelineHtml } from './runTimelineHtml.js';
import type { RunWorkflowChart } from './runWorkflowChart.js';
import { callChartsHtml } from './toolCallChartHtml.js';
import { workflowChartHtml } from './workflowChartHtml.js';
import { viewerStyle } from './viewerStyle.js';

export interface RunPageOptions {
  /** Where a link back to the runs list points (the server's `/runs`); none in a report file. */
  runsHref?: string | undefined;
  /** The status to show when the log alone does not tell it (`interrupted`: no live owner). */
  status?: string | undefined;
  /** When the page was made (clock ms), shown in its footer; none by default so the same events give the same page. */
  generatedAt?: number | undefined;
  /** The run's workflow file compiled (loadRunWorkflowChart): every step drawn; without it only the reached ones. */
  workflowChart?: RunWorkflowChart | undefined;
  /** On a server: the page asks `api` (`/api/run?id=RUN`) for new events every `intervalMs`. Never in a report. */
  live?: { api: string; intervalMs: number } | undefined;
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

function scrubber(model: RunPageModel, live: string): string {
  const count = model.events.length;
  return `<section class="scrubber" aria-label="replay">
<button type="button" id="scrub-back" title="one event back">◀</button>
<input type="range" id="scrubber" min="0" max="${count}" value="${count}" step="1" aria-label="events replayed">
<button type="button" id="scrub-next" title="one event on">▶</button>
<output id="scrubber-label" for="scrubber"></output>${live}
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

/** The parts of the page a live update replaces, by the id of the element that holds each. */
export function runPageSections(model: RunPageModel, options: RunPageOptions = {}): Record<string, string> {
  const axis = timeAxisOf(model.timeline, model.events.at(-1)?.ts ?? 0);
  const startMs = axis.startMs;
  return {
    'sec-header': header(model, options),
    'sec-steps': stepChartHtml(model.timeline),
    'sec-timeline': timelineHtml(model.timeline, axis),
    'sec-state-changes': stateChangesTable(model.events, startMs),
    'sec-computed': computedTable(model.events, startMs),
    'sec-errors': errorsTable(model.errors, startMs),
    'sec-escalations': escalationsTable(model.escalations, startMs),
    'sec-calls': callChartsHtml(model.timeline),
  };
}

/** The page's title: workflow, run, status. */
const pageTitle = (model: RunPageModel, options: RunPageOptions): string =>
  `${model.run.name || 'run'} ${model.runId}: ${options.status ?? model.run.status}`;

/** Each tool-call fact's states (by seq) for the page's fold, from src/machines/toolCallPath.ts. */
function callPathsOf(events: readonly EventEnvelope[], afterSeq = 0): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const [seq, states] of toolCallPaths(events)) if (seq > afterSeq) paths[String(seq)] = states;
  return paths;
}

/** What the live page asks for: the events after `afterSeq`, and, when there are some, the page's parts redrawn. */
export interface RunPageUpdate {
  runId: string;
  lastSeq: number;
  events: readonly EventEnvelope[];
  callPaths: Record<string, string[]>;
  /** Empty when no event is new. */
  sections: Record<string, string>;
  title: string;
}

export function runPageUpdate(
  events: readonly EventEnvelope[],
  afterSeq: number,
  options: RunPageOptions = {},
): RunPageUpdate {
  const model = buildRunPageModel(events);
  const fresh = model.events.filter((event) => event.seq > afterSeq);
  return {
    runId: model.runId,
    lastSeq: model.events.at(-1)?.seq ?? afterSeq,
    events: fresh,
    callPaths: fresh.length === 0 ? {} : callPathsOf(model.events, afterSeq),
    sections: fresh.length === 0 ? {} : runPageSections(model, options),
    title: pageTitle(model, options),
  };
}

/** The run page of a workflow run's events (any order; folded in seq order). */
export function renderRunPage(events: readonly EventEnvelope[], options: RunPageOptions = {}): string {
  const model = buildRunPageModel(events);
  const sections = runPageSections(model, options);
  const section = (id: string): string => `<div id="${id}">${sections[id] ?? ''}</div>`;
  const footer =
    options.generatedAt === undefined
      ? ''
      : `<footer class="muted">Made ${escapeHtml(iso(options.generatedAt))} by retrace.</footer>`;
  const live = options.live ? '<span id="live-status" class="live">live: connecting…</span>' : '';
  const body = `${section('sec-header')}
${scrubber(model, live)}
<section id="now">${atCursor()}</section>
<h2>Workflow statechart</h2>
${workflowChartHtml(options.workflowChart)}
<h2>Step actors</h2>
<p class="muted">The step actors the run went through (foreach items, sub-workflow steps), nested as they ran; at the cursor the current steps are outlined.</p>
${section('sec-steps')}
<h2>Timeline</h2>
${section('sec-timeline')}
<div class="columns">
<section><h2>State at the cursor</h2><pre id="state-json"></pre></section>
<section><h2>Computed fields at the cursor</h2><pre id="computed-json"></pre></section>
</div>
<h2>State changes</h2>
${section('sec-state-changes')}
<h2>Computed-field traces</h2>
${section('sec-computed')}
<h2>Errors</h2>
${section('sec-errors')}
<h2>Escalations</h2>
${section('sec-escalations')}
<h2>Tool calls</h2>
<p class="muted">Each call's tool-call machine (src/machines/toolCall.ts): at the cursor its state is outlined, the states it went through are green, and its way so far is written under it.</p>
${section('sec-calls')}
${footer}
${dataScript('retrace-run', { runId: model.runId, events: model.events, callPaths: callPathsOf(model.events), live: options.live ?? null })}`;
  return htmlDocument({
    title: pageTitle(model, options),
    style: viewerStyle,
    body,
    scripts: options.live ? [runFoldScript, runPageScript, runLiveScript] : [runFoldScript, runPageScript],
  });
}
