// Test helper: a small workflow run twice through runtime.spawn on the test clock against the example MCP server
// (stdio), its recorded events kept: retries with backoff, a cache hit, a tool fallback, foreach state updates
// with a computed field, a sub-workflow whose step retries and then falls back, a skipped step, and (second run) an
// escalation.
import { createRuntime } from '../../src/actors/runtime.js';
import type { WorkflowFinal } from '../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createReplayer, type ReplayResult } from '../../src/store/replay.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import type { ExamplePlanInput } from '../../src/examples/examplePlan.js';
import { exampleStdioConfig } from './exampleServer.js';
import { createMemoryStore } from './memoryStore.js';

export const DEMO_START = 1_735_689_600_000;

export const demoWorkflow = `
name: timeline-demo
inputs:
  regions: { type: array, default: [eu, us] }
  escalate: { type: boolean, default: false }
state:
  raw: { deployed: [] }
computed:
  deployed_count:
    from: raw.deployed
    transform: $count($input)
tools:
  validate_schedule_tool: { max_retries: 2, base_delay: 1, jitter: none, retryable: [unavailable] }
  validate_schedule_by_id_tool: { fallbacks: [validate_schedule_tool] }
  schedule_status_resource: { cache: { ttl: 5m } }
  cleanup_resources: { max_retries: 0 }
steps:
  - id: validate
    type: mcp_call
    tool: validate_schedule_tool
    arguments: { start_date: '2025-01-01', end_date: '2025-01-31' }
  - { id: status, type: mcp_call, tool: schedule_status_resource }
  - { id: status_again, type: mcp_call, tool: schedule_status_resource }
  - id: by_id
    type: mcp_call
    tool: validate_schedule_by_id_tool
    arguments: { schedule_id: sched-2025-01 }
  - id: per_region
    type: foreach
    items: '{{ inputs.regions }}'
    as: region
    steps:
      - { id: record, type: state_update, path: raw.deployed, operation: append, value: '{{ region }}' }
  - id: notify
    type: workflow
    on_error: fallback
    fallback_value: { notified: false }
    inline:
      name: notify
      steps:
        - { id: say, type: error, message: no channel, on_error: retry, retry_count: 1, retry_delay: 500 }
  - id: tidy
    type: mcp_call
    tool: cleanup_resources
    when: '{{ inputs.escalate }}'
    arguments: { reason: done }
  - { id: done, type: return, value: { deployed: '{{ computed.deployed_count }}' } }
`;

export interface DemoRun {
  runId: string;
  final: WorkflowFinal;
  events: EventEnvelope[];
  /** The projections folded live, from the run's subscription, as the events happened. */
  live: ReplayResult;
}

/**
 * Runs the demo workflow twice on one runtime: without, then with the escalating step. Time moves only when a
 * backoff (a tool call's or a step's) is scheduled, by exactly its delay, so every timestamp is deterministic.
 */
/** The example server's faults the demo expects: one transient failure, an unimplemented tool, a down backend, bad auth. */
export const demoPlan = {
  faults: {
    validate_schedule_tool: ['connection'],
    validate_schedule_by_id_tool: ['unimplemented'],
    schedule_status_resource: ['ok', 'backend_down'],
    cleanup_resources: ['auth'],
  },
} satisfies ExamplePlanInput;

export async function runDemoWorkflows(): Promise<{ plain: DemoRun; escalated: DemoRun }> {
  const clock = createTestClock(DEMO_START);
  const store = createMemoryStore();
  const runtime = createRuntime({
    config: {
      servers: {
        scheduler: exampleStdioConfig({ plan: demoPlan }),
      },
    },
    clock,
    random: () => 0.5,
    store,
  });
  try {
    const run = async (inputs: Record<string, unknown>): Promise<DemoRun> => {
      const checked = await parseWorkflowText(demoWorkflow, { config: runtime.config });
      if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
      const handle = runtime.spawn(checked.workflow, inputs);
      const live = createReplayer();
      handle.subscribe((event) => {
        live.apply(event);
        const delayMs =
          event.type === 'toolcall.backoff.scheduled' || event.type === 'workflow.step.retrying'
            ? event.data['delayMs']
            : undefined;
        if (typeof delayMs === 'number') setImmediate(() => clock.advance(delayMs));
      });
      const final = await handle.done;
      const events = store.events.filter((event) => event.runId === handle.runId);
      return { runId: handle.runId, final, events, live: live.result() };
    };
    const plain = await run({});
    const escalated = await run({ escalate: true });
    return { plain, escalated };
  } finally {
    await runtime.close();
  }
}
