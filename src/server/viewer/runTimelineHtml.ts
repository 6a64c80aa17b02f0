// The run page's timeline (bars on one time axis, nested by step actor) and its charts (the step tree, each tool
// call's machine), drawn from the workflow timeline projection; the page script clips and highlights them by cursor.
import type { StepSpan, WorkflowTimeline } from '../../store/projections/workflowSpans.js';
import type { Timeline, TimelineSpan } from '../../store/projections/timeline.js';
import { formatDurationMs } from '../../common/duration.js';
import { escapeHtml } from './html.js';

/** The time axis: from the run's start to its last moment (never zero wide). */
export interface TimeAxis {
  startMs: number;
  endMs: number;
}

export function timeAxisOf(timeline: WorkflowTimeline, lastTs: number): TimeAxis {
  const startMs = timeline.startedAt ?? lastTs;
  const endMs = Math.max(timeline.endedAt ?? lastTs, lastTs, startMs + 1);
  return { startMs, endMs };
}

const percent = (axis: TimeAxis, ms: number): number => ((ms - axis.startMs) / (axis.endMs - axis.startMs)) * 100;

/** One bar; `data-start`/`data-end` (clock ms) let the page cut it at the cursor, `title` says what it is. */
function bar(axis: TimeAxis, kind: string, startMs: number, endMs: number | undefined, title: string): string {
  const end = endMs ?? axis.endMs;
  const left = percent(axis, startMs).toFixed(3);
  const width = Math.max(0, percent(axis, end) - percent(axis, startMs)).toFixed(3);
  return `<div class="bar ${kind}" style="left:${left}%;width:${width}%" data-start="${startMs}" data-end="${end}" title="${escapeHtml(title)}"></div>`;
}

function callSpanBar(axis: TimeAxis, span: TimelineSpan): string {
  switch (span.kind) {
    case 'attempt': {
      const failure = span.failure ? ` ${span.failure.class}/${span.failure.kind}: ${span.failure.message}` : '';
      const decision = span.decision ? ` → ${span.decision}` : '';
      return bar(
        axis,
        `attempt-${span.status}`,
        span.startedAt,
        span.endedAt,
        `attempt ${span.n} ${span.server}/${span.tool} ${span.status}${failure}${decision}`,
      );
    }
    case 'backoff':
      return bar(
        axis,
        'backoff',
        span.startedAt,
        span.until,
        `backoff ${formatDurationMs(span.delayMs)}${span.retryAfter ? ' (Retry-After)' : ''}`,
      );
    case 'fallback':
      return bar(
        axis,
        'fallback',
        span.at,
        span.at,
        `fallback to ${span.to ? `${span.to.server}/${span.to.tool}` : 'an empty result'}: ${span.reason}`,
      );
    case 'cache':
      return bar(
        axis,
        'cache',
        span.at,
        span.at,
        `cache ${span.hit ? 'hit' : 'miss'}${span.ageMs === undefined ? '' : ` (age ${formatDurationMs(span.ageMs)})`}`,
      );
    case 'escalation':
      return bar(
        axis,
        'escalation',
        span.at,
        span.at,
        `escalation ${span.escalation.level}: ${span.escalation.message}`,
      );
    case 'advisory':
      return bar(axis, 'advisory', span.at, span.at, `advisory ${span.escalation.level}: ${span.escalation.message}`);
  }
}

function row(className: string, label: string, bars: readonly string[], attributes = ''): string {
  return `<div class="row ${className}"${attributes}><div class="label" title="${escapeHtml(label)}">${escapeHtml(label)}</div><div class="track">${bars.join('')}</div></div>`;
}

function callRow(axis: TimeAxis, call: Timeline, depth: number): string {
  const tool = call.requested ? `${call.requested.server}/${call.requested.tool}` : call.callId;
  const outcome = call.outcome ? ` ${call.outcome.status}` : '';
  const indent = '\u00a0'.repeat(depth * 3 + 2);
  return row(
    'call',
    `${indent}↳ ${tool}${outcome}`,
    call.spans.map((span) => callSpanBar(axis, span)),
  );
}

function stepRow(axis: TimeAxis, step: StepSpan): string {
  const bars = [
    ...step.attempts.map((attempt) =>
      bar(
        axis,
        `attempt-${attempt.outcome}`,
        attempt.startedAt,
        attempt.endedAt,
        `attempt ${attempt.n} ${attempt.outcome}${attempt.error ? ` ${attempt.error.type}: ${attempt.error.message}` : ''}`,
      ),
    ),
    ...step.backoffs.map((backoff) =>
      bar(axis, 'backoff', backoff.startedAt, backoff.endedAt, `retry after ${formatDurationMs(backoff.delayMs)}`),
    ),
    ...(step.fallback
      ? [
          bar(
            axis,
            'fallback',
            step.fallback.startedAt,
            step.fallback.endedAt,
            `${step.fallback.strategy}: ${JSON.stringify(step.fallback.value ?? null)}`,
          ),
        ]
      : []),
    ...step.stateUpdates.map((change) =>
      bar(
        axis,
        'state',
        change.startedAt,
        change.endedAt,
        `${change.op} ${change.path} = ${JSON.stringify(change.value ?? null)}`,
      ),
    ),
    ...step.computed.map((span) =>
      bar(
        axis,
        'computed',
        span.startedAt,
        span.endedAt,
        `computed ${span.field} = ${JSON.stringify(span.output ?? null)}`,
      ),
    ),
  ];
  if (step.attempts.length === 0 && step.status === 'skipped')
    bars.push(bar(axis, 'attempt-cancelled', step.startedAt, step.endedAt, 'skipped'));
  const indent = '\u00a0'.repeat(step.depth * 3);
  const label = `${indent}${step.actorId} (${step.type}) ${step.status}`;
  return [
    row('step', label, bars, ` data-actor="${escapeHtml(step.actorId)}"`),
    ...step.calls.map((call) => callRow(axis, call, step.depth)),
  ].join('\n');
}

function ticks(axis: TimeAxis): string {
  const span = axis.endMs - axis.startMs;
  const labels = [0, 0.25, 0.5, 0.75, 1].map(
    (at) => `<span style="left:${at * 100}%">+${formatDurationMs(Math.round(span * at))}</span>`,
  );
  return `<div class="axis"><div></div><div class="ticks">${labels.join('')}</div></div>`;
}

const legend = [
  ['attempt-succeeded', 'attempt ok'],
  ['attempt-failed', 'attempt failed'],
  ['backoff', 'backoff'],
  ['fallback', 'fallback'],
  ['cache', 'cache'],
  ['escalation', 'escalation'],
  ['state', 'state change'],
  ['computed', 'computed field'],
]
  .map(([kind, text]) => `<span><span class="bar ${kind}"></span>${text}</span>`)
  .join('');

/** Every step actor a row (nested by depth), each tool call of a step a row under it, then the run's own items. */
export function timelineHtml(timeline: WorkflowTimeline, axis: TimeAxis): string {
  const runBars = [
    ...timeline.warnings.map((warning) =>
      bar(axis, 'advisory', warning.startedAt, warning.endedAt, `warning: ${warning.message}`),
    ),
    ...timeline.breakers.map((breaker) =>
      bar(axis, 'escalation', breaker.startedAt, breaker.endedAt, `breaker ${breaker.key} ${breaker.change}`),
    ),
    ...timeline.stateUpdates.map((change) =>
      bar(axis, 'state', change.startedAt, change.endedAt, `${change.op} ${change.path}`),
    ),
    ...timeline.computed.map((span) =>
      bar(axis, 'computed', span.startedAt, span.endedAt, `computed ${span.field} (${span.trigger})`),
    ),
  ];
  const rows = [
    row('run', `run ${timeline.name}`, runBars),
    ...timeline.steps.map((step) => stepRow(axis, step)),
    ...timeline.calls.map((call) => callRow(axis, call, 0)),
  ];
  return `<div class="legend">${legend}</div>${ticks(axis)}<div class="timeline" id="timeline-rows" data-start="${axis.startMs}" data-end="${axis.endMs}">${rows.join('\n')}<div class="cursor" id="timeline-cursor"></div></div>`;
}

interface ChartNode {
  actorId: string;
  stepId: string;
  type: string;
  children: ChartNode[];
}

/** The step tree the run went through: one node per step actor, nested as they ran (foreach items, branches, sub-workflows). */
function stepTree(timeline: WorkflowTimeline): ChartNode[] {
  const roots: ChartNode[] = [];
  const byActor = new Map<string, ChartNode>();
  const actorOfKey = new Map<string, string>();
  for (const step of timeline.steps) {
    actorOfKey.set(step.key, step.actorId);
    if (byActor.has(step.actorId)) continue;
    const node: ChartNode = { actorId: step.actorId, stepId: step.stepId, type: step.type, children: [] };
    byActor.set(step.actorId, node);
    const parentActor = step.parentKey === undefined ? undefined : actorOfKey.get(step.parentKey);
    const parent = parentActor === undefined ? undefined : byActor.get(parentActor);
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

function nodeHtml(node: ChartNode): string {
  const children = node.children.length === 0 ? '' : `<ul>${node.children.map(nodeHtml).join('')}</ul>`;
  return `<li><span class="node st-pending" data-actor="${escapeHtml(node.actorId)}" title="${escapeHtml(node.actorId)}">${escapeHtml(node.actorId)}<small>${escapeHtml(node.type)}</small></span>${children}</li>`;
}

/** The workflow's step tree as a chart; the page marks each node's status and the current steps at the cursor. */
export function stepChartHtml(timeline: WorkflowTimeline): string {
  const roots = stepTree(timeline);
  if (roots.length === 0) return '<p class="muted">No step ran.</p>';
  return `<div class="chart" id="step-chart"><ul>${roots.map(nodeHtml).join('')}</ul></div>`;
}
