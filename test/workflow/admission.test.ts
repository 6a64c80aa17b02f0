// A runtime executes at most `maxRunningWorkflows` runs at once: the others wait their turn in spawn order.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { drive } from './executorHarness.js';

const pause = `name: pause
steps:
  - { id: hold, type: wait, duration: 1m }
  - { id: done, type: return, value: '{{ inputs.n }}' }
inputs:
  n: { type: number, required: true }
`;

async function setUp(maxRunningWorkflows: number) {
  const clock = createTestClock(1_700_000_000_000);
  const store = createMemoryStore();
  const runtime = createRuntime({ config: {}, clock, random: () => 0.5, store, maxRunningWorkflows });
  const checked = await parseWorkflowText(pause, { config: runtime.config });
  if (!checked.workflow) throw new Error('the test workflow does not load');
  return { clock, store, runtime, workflow: checked.workflow };
}

describe('workflow admission', () => {
  it('runs at most N at once, the rest in spawn order once a slot frees', async () => {
    const { clock, store, runtime, workflow } = await setUp(2);
    const handles = [1, 2, 3, 4, 5].map((n) => runtime.spawn(workflow, { n }));
    const finals = await drive(Promise.all(handles.map((handle) => handle.done)), clock);
    expect(finals.map((final) => [final.status, final.result])).toEqual([1, 2, 3, 4, 5].map((n) => ['succeeded', n]));
    // Each run's workflow.started is in the log at the time its turn came: two at a time, one minute apart.
    const startedAt = handles.map(
      (handle) => store.events.find((event) => event.runId === handle.runId && event.type === 'workflow.started')?.ts,
    );
    const t0 = startedAt[0] ?? 0;
    expect(startedAt.map((ts) => (ts ?? 0) - t0)).toEqual([0, 0, 60_000, 60_000, 120_000]);
    await runtime.close();
  });

  it('lets a waiting run be cancelled before its turn, and gives its slot on', async () => {
    const { clock, runtime, workflow } = await setUp(1);
    const first = runtime.spawn(workflow, { n: 1 });
    const second = runtime.spawn(workflow, { n: 2 });
    const third = runtime.spawn(workflow, { n: 3 });
    second.cancel('not needed');
    const finals = await drive(Promise.all([first.done, second.done, third.done]), clock);
    expect(finals.map((final) => final.status)).toEqual(['succeeded', 'cancelled', 'succeeded']);
    expect(second.snapshot().final?.state).toEqual({});
    await runtime.close();
  });

  it('has no bound with 0', async () => {
    const { clock, store, runtime, workflow } = await setUp(0);
    const handles = [1, 2, 3].map((n) => runtime.spawn(workflow, { n }));
    await drive(Promise.all(handles.map((handle) => handle.done)), clock);
    const starts = store.events.filter((event) => event.type === 'workflow.started').map((event) => event.ts);
    expect(new Set(starts).size).toBe(1);
    await runtime.close();
  });
});
