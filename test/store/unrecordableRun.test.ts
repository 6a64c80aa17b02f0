// A workflow run stops at the first event it could not record (the store's append rejected): the steps in flight are
// cancelled without their cleanup, nothing more of the run is offered to the store, and its handle fails with the
// store's error. The full disk itself is in storageFaults.test.ts; here the store fails from a simulated time on.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { drive } from '../workflow/executorHarness.js';

const twoBranches = `name: two-branches
state: { cleaned: false }
steps:
  - type: parallel
    strategy: collect
    branches:
      - - id: hold
          type: wait
          duration: 1h
          cleanup:
            - { id: clean, type: state_update, path: cleaned, value: true }
      - - { id: short, type: wait, duration: 1m }
`;

describe('a run whose events cannot be recorded', () => {
  it('cancels its steps in flight, starts none (not their cleanup), offers nothing more, and fails', async () => {
    const start = 1_700_000_000_000;
    const clock = createTestClock(start);
    // From one minute on every append is refused: the short wait's end is the first event that cannot be recorded.
    const failing = () => clock.now() >= start + 60_000;
    const store = createMemoryStore({ failAppends: failing });
    const offered: string[] = [];
    const append = store.append.bind(store);
    store.append = (batch) => {
      if (failing()) offered.push(...batch.map((event) => event.type));
      return append(batch);
    };
    const runtime = createRuntime({ config: {}, clock, random: () => 0.5, store });
    const checked = await parseWorkflowText(twoBranches, { config: runtime.config });
    if (!checked.workflow) throw new Error('the test workflow does not load');
    const handle = runtime.spawn(checked.workflow);
    const error = await drive(
      handle.done.then(
        () => undefined,
        (reason: unknown) => reason,
      ),
      clock,
    );
    expect(String(error)).toMatch(/run \S+ could not be recorded: disk full/);
    expect(handle.snapshot()).toMatchObject({ status: 'failed', state: { cleaned: false } });
    // The hour-long wait was cancelled, not waited out.
    expect(clock.now()).toBeLessThan(start + 3_600_000);
    // Only what was under way when the first append failed was offered: no cancel, no cleanup, no end.
    expect(offered).toContain('workflow.step.succeeded');
    expect(
      offered.filter((type) => /cancelled|failed|succeeded$/.test(type) && type !== 'workflow.step.succeeded'),
    ).toEqual([]);
    expect(offered.length).toBeLessThanOrEqual(3);
    await runtime.close();
  });
});
