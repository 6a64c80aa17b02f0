// Each tool call of a run drawn as the tool-call machine (src/machines/toolCall.ts, walked by chartOf): every state of
// the machine a box; the page script outlines the call's state at the scrubber and marks the states it went through
// (src/machines/toolCallPath.ts says which, from the recorded facts).
import { chartOf, type MachineChart } from '../../machines/export/index.js';
import { toolCallMachine } from '../../machines/toolCall.js';
import type { WorkflowTimeline } from '../../store/projections/workflowSpans.js';
import { escapeHtml } from './html.js';
import { statechartHtml } from './statechartHtml.js';

let toolCallChart: MachineChart | undefined;

/** The tool-call machine's chart, walked once. */
export function toolCallMachineChart(): MachineChart {
  toolCallChart ??= chartOf(toolCallMachine);
  return toolCallChart;
}

let machineBoxes: string | undefined;

/** The machine's boxes, the same for every call (`data-state` is the state's key). */
function toolCallBoxes(): string {
  machineBoxes ??= statechartHtml(toolCallMachineChart(), {
    boxClass: 'node',
    attributes: (state) => ` data-state="${escapeHtml(state.key)}"`,
    caption: (state) => (state.type === 'final' ? 'final' : ''),
  });
  return machineBoxes;
}

/** Each tool call of the run (a step's, then the run's own) with its machine and the way it went so far. */
export function callChartsHtml(timeline: WorkflowTimeline): string {
  const calls = [
    ...timeline.steps.flatMap((step) => step.calls.map((call) => ({ step: step.actorId, call }))),
    ...timeline.calls.map((call) => ({ step: '', call })),
  ];
  if (calls.length === 0) return '<p class="muted">No tool call.</p>';
  const boxes = toolCallBoxes();
  return calls
    .map(({ step, call }) => {
      const tool = call.requested ? `${call.requested.server}/${call.requested.tool}` : '';
      const id = escapeHtml(call.callId);
      return `<div class="call-chart"><span class="mono">${escapeHtml(step)} ${escapeHtml(tool)}</span> <span class="muted mono">${id}</span>
<div class="machine statechart" data-call="${id}">${boxes}</div>
<div class="muted mono call-path" data-call-path="${id}"></div></div>`;
    })
    .join('\n');
}
