// The statechart of the workflow a run ran: `workflow.started` records the file's absolute path and the definition's
// hash; the file is compiled again (as `retrace machines --workflow` does) so the page can draw every step, reached
// or not. When the file is gone, does not compile, or was never a file, the page says so and draws what the run reached.
import { access } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { createMachine } from 'xstate';
import { workflowHash } from '../../actors/workflowExecution.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import { describeProblem } from '../../config/yamlErrors.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { chartOf, chartStates, type MachineChart } from '../../machines/export/index.js';
import { stringOr } from '../../store/projections/eventData.js';
import { checkWorkflowFile } from '../../workflow/loadWorkflow.js';
import { workflowChartConfig } from '../../workflow/workflowChart.js';

export interface RunWorkflowChart {
  /** The file `workflow.started` names ('' when the run records none). */
  file: string;
  /** The compiled file's chart; undefined when there is none to draw (then `note` says why). */
  chart?: MachineChart;
  /** What the reader should know: why there is no chart, or that the file changed since the run. */
  note?: string;
}

export interface RunWorkflowChartOptions {
  /** The runtime config the run had (its tool policies join the workflow's, and so its hash). */
  config?: RuntimeConfig | undefined;
}

/** The chart of the run's workflow file as it is now, or why there is none. */
export async function loadRunWorkflowChart(
  events: readonly EventEnvelope[],
  options: RunWorkflowChartOptions = {},
): Promise<RunWorkflowChart> {
  const started = events.find((event) => event.type === 'workflow.started' && event.actorId === event.runId);
  const file = stringOr(started?.data['file'], '');
  if (!started) return { file, note: 'The run has not recorded its start yet.' };
  if (!isAbsolute(file)) {
    return { file, note: `The run's workflow was compiled from text (${file || 'no file'}), not loaded from a file.` };
  }
  try {
    await access(file);
  } catch {
    return { file, note: `The run's workflow file ${file} is gone.` };
  }
  const checked = await checkWorkflowFile(file, { config: options.config });
  if (!checked.workflow) {
    const first = checked.problems.find((problem) => problem.severity === 'error');
    return {
      file,
      note: `The run's workflow file ${file} does not compile now: ${first ? describeProblem(first) : 'unknown error'}.`,
    };
  }
  const chart = chartOf(createMachine(workflowChartConfig(checked.workflow)));
  const recorded = stringOr(started.data['hash'], '');
  if (recorded === '' || recorded === workflowHash(checked.workflow)) return { file, chart };
  const drawn = new Set(chartStates(chart).map((state) => state.id));
  const missing = [...reachedStepIds(events)].filter((id) => !drawn.has(id));
  const note =
    `The workflow file ${file} differs from the definition the run recorded (its hash covers the steps, the tool ` +
    `policies and the servers with the environment they were read in): the chart shows the file as it is now.` +
    (missing.length === 0 ? '' : ` Steps the run reached that the file no longer has: ${missing.join(', ')}.`);
  return { file, chart, note };
}

/** The step ids of the run's own workflow that it reached (a sub-workflow's step actors have a '/' in their id). */
function reachedStepIds(events: readonly EventEnvelope[]): Set<string> {
  const ids = new Set<string>();
  for (const event of events) {
    const stepId = event.data['stepId'];
    if (event.type === 'workflow.step.started' && typeof stepId === 'string' && !event.actorId.includes('/')) {
      ids.add(stepId);
    }
  }
  return ids;
}
