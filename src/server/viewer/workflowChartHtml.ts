// The run page's workflow statechart: every step of the compiled workflow file (src/workflow/workflowChart.ts) as a
// box, reached or not; the page script marks the ones the run reached, the current, failed and waiting ones at the
// scrubber. Without a chart it says why and leaves the reached steps' tree (stepChartHtml) to show the run.
import { ChartKey } from '../../workflow/workflowChart.js';
import type { ChartState } from '../../machines/export/index.js';
import { escapeHtml } from './html.js';
import type { RunWorkflowChart } from './runWorkflowChart.js';
import { statechartHtml } from './statechartHtml.js';

const finals: Readonly<Record<string, string>> = { [ChartKey.succeeded]: 'succeeded', [ChartKey.failed]: 'failed' };

/** A step's state has the step's id as its own id (the chart's other states have a path id, `deploy.on-error`). */
const isStep = (state: ChartState, rootId: string): boolean => state.id === state.key && state.id !== rootId;

/** The section's HTML; `workflowChart` undefined when the caller did not read the run's file. */
export function workflowChartHtml(workflowChart: RunWorkflowChart | undefined): string {
  const fallback = (why: string) =>
    `<p class="muted" id="workflow-chart-note">${escapeHtml(why)} Only the steps the run reached are drawn below.</p>`;
  if (!workflowChart) return fallback("The workflow's file was not read for this page.");
  const { chart, note } = workflowChart;
  if (!chart) return fallback(note ?? 'There is no chart of the workflow.');
  const boxes = statechartHtml(chart, {
    attributes: (state) => {
      if (isStep(state, chart.id)) return ` data-step="${escapeHtml(state.id)}"`;
      const final = state.id === `${chart.id}.${state.key}` ? finals[state.key] : undefined;
      return final === undefined ? '' : ` data-final="${final}"`;
    },
    caption: (state) => (isStep(state, chart.id) ? (state.description?.split(' ')[0] ?? '') : ''),
  });
  const noteHtml = note === undefined ? '' : `<p class="muted" id="workflow-chart-note">${escapeHtml(note)}</p>`;
  return `<p class="muted">Every step of <code>${escapeHtml(workflowChart.file)}</code> as a statechart: the steps the run reached are solid, the current ones outlined, unreached ones dashed. <label><input type="checkbox" id="chart-edges"> show transitions</label></p>
${noteHtml}<div class="statechart" id="workflow-chart" data-chart="${escapeHtml(chart.id)}">${boxes}</div>`;
}
