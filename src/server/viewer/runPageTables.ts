// The run page's tables: errors with their classification, escalations with their recommended actions, the state
// changes per step and the computed-field traces. Each row carries its event's seq: the page marks what is past.
import type { EventEnvelope } from '../../events/envelope.js';
import { numberOr, stringOr } from '../../store/projections/eventData.js';
import { escapeHtml } from './html.js';
import type { RunErrorItem, RunEscalationItem } from './runPageModel.js';

const cell = (text: string, className = ''): string =>
  `<td${className === '' ? '' : ` class="${className}"`}>${escapeHtml(text)}</td>`;

/** A JSON value in a cell, as a block (long values scroll). */
const jsonCell = (value: unknown): string =>
  `<td><pre>${escapeHtml(JSON.stringify(value ?? null, null, 2))}</pre></td>`;

/** `+1.25s` from the run's start. */
function offset(startMs: number, at: number): string {
  const ms = at - startMs;
  return ms < 1000 ? `+${ms}ms` : `+${(ms / 1000).toFixed(2)}s`;
}

function table(id: string, headings: readonly string[], rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p class="muted" id="${id}">${escapeHtml(empty)}</p>`;
  const head = headings.map((heading) => `<th>${escapeHtml(heading)}</th>`).join('');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

const seqRow = (seq: number, cells: readonly string[]): string => `<tr data-seq="${seq}">${cells.join('')}</tr>`;

export function errorsTable(errors: readonly RunErrorItem[], startMs: number): string {
  const rows = errors.map((error) =>
    seqRow(error.seq, [
      cell(offset(startMs, error.at), 'mono'),
      cell(error.source),
      cell(error.step, 'mono'),
      cell(error.tool, 'mono'),
      cell(error.class),
      cell(error.kind),
      cell(error.message),
      cell(error.decision),
    ]),
  );
  return table(
    'errors-table',
    ['at', 'where', 'step', 'tool', 'class', 'kind', 'message', 'decision'],
    rows,
    'No error.',
  );
}

export function escalationsTable(escalations: readonly RunEscalationItem[], startMs: number): string {
  const rows = escalations.map((escalation) => {
    const action = [escalation.recommendedAction, ...escalation.suggestions.map((text) => `suggestion: ${text}`)]
      .filter((text) => text !== '')
      .join('\n');
    return seqRow(escalation.seq, [
      cell(offset(startMs, escalation.at), 'mono'),
      cell(`${escalation.level}${escalation.advisory ? ' (advisory)' : ''}`),
      cell(escalation.trigger),
      cell(escalation.step, 'mono'),
      cell(escalation.tool, 'mono'),
      cell(escalation.message),
      `<td><pre>${escapeHtml(action)}</pre></td>`,
    ]);
  });
  return table(
    'escalations-table',
    ['at', 'level', 'trigger', 'step', 'tool', 'message', 'recommended action'],
    rows,
    'No escalation.',
  );
}

/** Every `workflow.state.updated` of the run: which step changed what, how, and the value afterwards. */
export function stateChangesTable(events: readonly EventEnvelope[], startMs: number): string {
  const rows = events
    .filter((event) => event.type === 'workflow.state.updated')
    .map((event) => {
      const { data } = event;
      const path = Array.isArray(data['path']) ? data['path'].map(String).join('.') : '';
      const step = stringOr(data['stepActorId'], stringOr(data['stepId'], ''));
      const workflow = event.actorId === event.runId ? '' : ` (in ${event.actorId})`;
      return seqRow(event.seq, [
        cell(offset(startMs, event.ts), 'mono'),
        cell(`${step}${workflow}`, 'mono'),
        cell(stringOr(data['op'], '')),
        cell(path, 'mono'),
        jsonCell(data['value']),
      ]);
    });
  return table('state-changes', ['at', 'step', 'op', 'path', 'value after'], rows, 'No state change.');
}

/** Every `workflow.computed.evaluated`: seed 004's trace (field, trigger, input, output, duration). */
export function computedTable(events: readonly EventEnvelope[], startMs: number): string {
  const rows = events
    .filter((event) => event.type === 'workflow.computed.evaluated')
    .map((event) => {
      const { data } = event;
      const error = stringOr(data['error'], undefined);
      return seqRow(event.seq, [
        cell(offset(startMs, event.ts), 'mono'),
        cell(stringOr(data['field'], ''), 'mono'),
        cell(stringOr(data['trigger'], '')),
        jsonCell(data['input']),
        error === undefined ? jsonCell(data['output']) : cell(`error: ${error}`),
        cell(`${numberOr(data['duration_ms'], 0)} ms`, 'mono'),
      ]);
    });
  return table(
    'computed-traces',
    ['at', 'field', 'trigger', 'input', 'output', 'duration'],
    rows,
    'No computed field was evaluated.',
  );
}
