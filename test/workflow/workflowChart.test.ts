// A workflow's step tree as a statechart: steps in order, branches, regions, loops and the on_error edges.
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { chartOf, chartStates, type MachineChart } from '../../src/machines/export/index.js';
import { loadWorkflow, parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { workflowChartConfig } from '../../src/workflow/workflowChart.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';

function chartFor(workflow: CompiledWorkflow): MachineChart {
  return chartOf(createMachine(workflowChartConfig(workflow)));
}

/** `source -> target: trigger [guard] {actions}` with state ids, for readable expectations. */
function edges(chart: MachineChart): string[] {
  return chart.transitions.map(
    (t) =>
      `${t.source} -> ${t.targets.join(',')}: ${t.trigger}${t.guard ? ` [${t.guard}]` : ''}` +
      (t.actions.length ? ` {${t.actions.join(',')}}` : ''),
  );
}

describe('the chart of examples/seed-000/deployment.yaml', async () => {
  const { workflow } = await loadWorkflow('examples/seed-000/deployment.yaml');
  const chart = chartFor(workflow);
  const root = 'seed-000-deployment';

  it('has every step as a state, in order, and the run ends', () => {
    expect(chart.id).toBe(root);
    expect(chart.root.children.map((state) => state.key)).toEqual([
      'preflight',
      'step2',
      'promote',
      'step4',
      'monitor',
      'rollback_on_failure',
      'settled',
      'step8',
      'run-succeeded',
      'run-failed',
    ]);
    expect(chart.root.initial).toBe('preflight');
    const ids = chartStates(chart).map((state) => state.id);
    expect(ids).toEqual(expect.arrayContaining(['status', 'rollback', `${root}.monitor.judge`]));
  });

  it('draws its on_error edges: fallback, fail, continue with error_state_update, the poll loop', () => {
    expect(edges(chart)).toEqual(
      expect.arrayContaining([
        // preflight: on_error fallback goes on with fallback_value.
        'preflight -> step2: error: mcp_call {useFallbackValue}',
        'preflight -> step2: done: mcp_call',
        // promote: on_error fail ends the run failed.
        `promote -> ${root}.run-failed: error: mcp_call {stepFailed}`,
        // monitor: poll status, judge until/fail_when/polls left, wait 30 s, then poll again.
        `status -> ${root}.monitor.judge: done: mcp_call`,
        `${root}.monitor.judge -> rollback_on_failure: always [until(result.deployment.status = "success")]`,
        `${root}.monitor.judge -> ${root}.monitor.on-error: always [failWhen(result.deployment.status = "failure" or result.deployment.status = "degraded")]`,
        `${root}.monitor.judge -> ${root}.monitor.wait: always [pollsLeft(10)]`,
        `${root}.monitor.judge -> rollback_on_failure: always {pollTimedOut}`,
        `${root}.monitor.wait -> status: after 30000 ms`,
        // monitor: on_error continue, writing raw.outcome first.
        `${root}.monitor.on-error -> rollback_on_failure: always {writeErrorState,continueWithError}`,
        // The conditional's branches; a failed rollback fails the conditional, which fails the run.
        `${root}.rollback_on_failure.choose -> ${root}.rollback_on_failure.then: always [condition($exists(steps.monitor.error))]`,
        `${root}.rollback_on_failure.choose -> settled: always`,
        `rollback -> ${root}.rollback_on_failure.on-error: error: mcp_call {stepFailed}`,
        `${root}.rollback_on_failure.on-error -> ${root}.run-failed: always {stepFailed}`,
        // A return step ends the run.
        `rollback_on_failure_then3 -> ${root}.run-succeeded: done: return`,
        `step8 -> ${root}.run-succeeded: done: return`,
      ]),
    );
  });
});

describe('the chart of a workflow with parallel, foreach, retry and when', () => {
  it('draws parallel regions, the foreach loop, retry loops and skips', async () => {
    const { workflow } = await parseWorkflowText(`
name: shapes
steps:
  - id: fan
    type: parallel
    branches:
      - [{ id: left, type: state_update, path: a, value: 1 }]
      - [{ id: right, type: shell_command, command: "true", on_error: retry, retry_count: 2 }]
  - id: each
    type: foreach
    items: '{{ [1, 2] }}'
    steps:
      - { id: item_step, type: state_update, path: b, value: 2, when: '{{ item > 1 }}' }
`);
    if (!workflow) throw new Error('the workflow should compile');
    const chart = chartFor(workflow);
    const fan = chartStates(chart).find((state) => state.id === 'fan');
    const branches = fan?.children.find((state) => state.key === 'branches');
    expect(branches?.type).toBe('parallel');
    expect(branches?.children.map((state) => state.key)).toEqual(['branch-1', 'branch-2']);
    const each = chartStates(chart).find((state) => state.id === 'each');
    expect(each?.type).toBe('compound');
    expect(edges(chart)).toEqual(
      expect.arrayContaining([
        'left -> shapes-workflow.fan.branches.branch-1.branch-done: done: state_update',
        'right -> right: error: shell_command [retriesLeft(2)] {scheduleRetry}',
        'right -> shapes-workflow.fan.on-error: error: shell_command {stepFailed}',
        'shapes-workflow.fan.branches -> each: done',
        'shapes-workflow.each.next-item -> item_step: always [moreItems([1, 2])]',
        'shapes-workflow.each.next-item -> shapes-workflow.run-succeeded: always',
        'item_step -> shapes-workflow.each.next-item: always [whenFalse(item > 1)]',
        'item_step -> shapes-workflow.each.next-item: done: state_update',
      ]),
    );
    const retry = chart.transitions.find((t) => t.source === 'right' && t.targets[0] === 'right');
    expect(retry?.reenter).toBe(true);
  });
});
