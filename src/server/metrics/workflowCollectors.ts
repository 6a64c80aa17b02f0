// The per-workflow series of /metrics: the workflow-metrics projection grouped by name (as `retrace metrics` groups it), and state sizes.
import type { Registry } from 'prom-client';
import { groupWorkflowMetrics, type WorkflowMetricsGroup } from '../../store/projections/workflowMetrics.js';
import type { WorkflowRunStatus } from '../../store/projections/workflowData.js';
import { ProjectedHistogram, projectedCounter, projectedGauge, type Sample } from './projectedMetric.js';
import type { ProjectedFacts } from './projectedFacts.js';

const RUN_STATUSES: readonly WorkflowRunStatus[] = ['running', 'succeeded', 'failed', 'escalated', 'cancelled'];

export function registerWorkflowMetrics(
  registry: Registry,
  facts: Pick<ProjectedFacts, 'workflowRuns' | 'eventsFolded' | 'stateSizes'>,
): void {
  // One grouping while no event is folded, shared by every series of a scrape.
  let cached: { folded: number; groups: WorkflowMetricsGroup[] } | undefined;
  const groups = (): WorkflowMetricsGroup[] => {
    const folded = facts.eventsFolded();
    if (cached?.folded !== folded) cached = { folded, groups: groupWorkflowMetrics(facts.workflowRuns()) };
    return cached.groups;
  };
  const per = function* <L extends string>(
    sample: (group: WorkflowMetricsGroup) => Iterable<Sample<L | 'workflow'>>,
  ): Iterable<Sample<L | 'workflow'>> {
    for (const group of groups()) yield* sample(group);
  };
  projectedGauge({
    name: 'retrace_workflow_runs',
    help: 'Workflow runs in the log by status (a running run moves to another status)',
    labelNames: ['workflow', 'status'],
    registry,
    read: () =>
      per(({ report }) =>
        RUN_STATUSES.map((status) => ({ labels: { workflow: report.name, status }, value: report.runs[status] })),
      ),
  });
  new ProjectedHistogram({
    name: 'retrace_workflow_duration_seconds',
    help: 'Duration of the ended runs, start to end',
    labelNames: ['workflow'],
    registry,
    read: function* () {
      for (const { report, durations } of groups()) yield { labels: { workflow: report.name }, histogram: durations };
    },
  });
  projectedCounter({
    name: 'retrace_workflow_steps_total',
    help: 'Step actors started or skipped, nested and sub-workflow ones included',
    labelNames: ['workflow'],
    registry,
    read: () => per(({ report }) => [{ labels: { workflow: report.name }, value: report.stepsExecuted }]),
  });
  projectedGauge({
    name: 'retrace_workflow_steps_per_second',
    help: 'Steps of the ended runs over their summed durations: the pace a run goes at',
    labelNames: ['workflow'],
    registry,
    read: () => per(({ report }) => [{ labels: { workflow: report.name }, value: report.stepsPerSecond }]),
  });
  for (const [what, help] of [
    ['retries', 'Retries by what retried: a step (its own retry) or a tool call under an mcp_call step'],
    ['fallbacks', 'Fallbacks by what fell back: a step (on_error) or a tool call (its next tool)'],
  ] as const) {
    projectedCounter({
      name: `retrace_workflow_${what}_total`,
      help,
      labelNames: ['workflow', 'of'],
      registry,
      read: () =>
        per(({ report }) => [
          { labels: { workflow: report.name, of: 'step' }, value: report[what].steps },
          { labels: { workflow: report.name, of: 'tool_call' }, value: report[what].toolCalls },
        ]),
    });
  }
  projectedCounter({
    name: 'retrace_workflow_escalations_total',
    help: "Tool calls of the workflow's runs that escalated",
    labelNames: ['workflow'],
    registry,
    read: () => per(({ report }) => [{ labels: { workflow: report.name }, value: report.escalations }]),
  });
  projectedGauge({
    name: 'retrace_workflow_state_bytes_max',
    help: 'The largest state among the runs (bytes of its JSON as recorded): final for ended runs, current for running ones',
    labelNames: ['workflow'],
    registry,
    read: function* () {
      for (const [workflow, value] of facts.stateSizes.largestByWorkflow()) yield { labels: { workflow }, value };
    },
  });
}
