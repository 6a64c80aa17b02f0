// The workflow run projection: a pure reducer whose fold of a run's events gives what the run ended with.
import { describe, expect, it } from 'vitest';
import type { WorkflowFinal } from '../../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import { foldAll } from '../../../src/store/projections/projection.js';
import {
  initialWorkflowRun,
  reduceWorkflowRun,
  statusWithOwner,
  withValueAt,
  workflowRunFinal,
  workflowRunProjection,
  type WorkflowRunView,
} from '../../../src/store/projections/workflowRun.js';
import { createHarness, drive } from '../../workflow/executorHarness.js';

/** `retrace run --json`'s last line, as src/cli/commands/run.ts prints it. */
const runJsonLine = (final: WorkflowFinal) => ({
  runId: final.runId,
  status: final.status,
  state: final.state,
  result: final.result,
  ...(final.error === undefined ? {} : { error: final.error }),
});

const fold = (events: readonly EventEnvelope[]): WorkflowRunView =>
  events.reduce(reduceWorkflowRun, initialWorkflowRun);

const flow = `
name: projected
state: { raw: { count: 0, keep: 'me' }, gone: 1 }
computed:
  doubled: { from: [raw.count], transform: 'raw.count * 2' }
steps:
  - { id: bump, type: state_update, path: raw.count, operation: increment }
  - { id: drop, type: state_update, path: gone, operation: delete }
  - { id: child, type: workflow, inline: { name: inner, state: { x: 0 }, steps: [{ id: inner_set, type: state_update, path: x, value: 5 }] } }
  - { id: call, type: mcp_call, tool: echo }
  - { id: done, type: return, value: { count: '{{ state.raw.count }}' } }
`;

describe('workflow run projection', () => {
  it("folds a succeeded run's events into exactly the final the run returned (state, computed, result, steps)", async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(flow);
    const view = fold(events);
    expect(workflowRunFinal(view)).toEqual(runJsonLine(final));
    expect(view).toMatchObject({ name: 'projected', status: 'succeeded', currentSteps: [], steps: final.steps });
    expect(view.state).toEqual({ raw: { count: 1, keep: 'me' } });
    expect(view.computed).toEqual(final.computed);
    expect(view.endedAt).toBe(events.at(-1)?.ts);
    await harness.runtime.close();
  });

  it("folds a failed run's and a cancelled run's events into the final, error included", async () => {
    const harness = createHarness(() => ({ hang: true }));
    const failing = await harness.run(`
name: failing
state: { n: 1 }
steps:
  - { id: stop, type: error, message: 'asked to fail', cleanup: [{ id: tidy, type: state_update, path: n, value: 2 }] }
`);
    expect(workflowRunFinal(fold(failing.events))).toEqual(runJsonLine(failing.final));
    expect(fold(failing.events).error).toMatchObject({ message: 'asked to fail', step_id: 'stop' });

    const workflow = await harness.compile(`
name: cancelled
steps:
  - { id: slow, type: mcp_call, tool: slow, cleanup: [{ id: tidy, type: state_update, path: cleaned, value: true }] }
`);
    const handle = harness.runtime.spawn(workflow);
    for (let i = 0; i < 50 && harness.calls.length === 0; i += 1) await new Promise((resolve) => setImmediate(resolve));
    const during = fold(harness.store.events.filter((event) => event.runId === handle.runId));
    expect(during).toMatchObject({ status: 'running', currentSteps: ['slow'], steps: 1 });
    expect(statusWithOwner(during, false)).toBe('interrupted');
    expect(statusWithOwner(during, true)).toBe('running');
    handle.cancel('enough');
    const final = await drive(handle.done, harness.clock);
    const after = fold(harness.store.events.filter((event) => event.runId === handle.runId));
    expect(workflowRunFinal(after)).toEqual(runJsonLine(final));
    expect(after).toMatchObject({ status: 'cancelled', state: { cleaned: true }, error: { type: 'cancelled' } });
    expect(statusWithOwner(after, false)).toBe('cancelled');
    await harness.runtime.close();
  });

  it('is pure: folding never changes the states it was given, and the same events give the same view', () => {
    const events: EventEnvelope[] = [
      event(1, 'workflow.started', { name: 'w', file: 'w.yaml', hash: 'h', inputs: {}, state: { a: { b: 1 } } }),
      event(2, 'workflow.step.started', { stepId: 's', stepType: 'state_update', attempt: 1 }, 's'),
      event(3, 'workflow.state.updated', { stepId: 's', path: ['a', 'c'], op: 'set', value: 2 }),
      event(4, 'workflow.step.succeeded', { stepId: 's', stepType: 'state_update', attempt: 1 }, 's'),
      event(5, 'workflow.escalated', {
        error: { message: 'needs a person', type: 'escalated', step_id: 's' },
        steps: 1,
      }),
    ];
    const frozen = events.map((each) => Object.freeze(each));
    const first = fold(frozen);
    expect(fold(frozen)).toEqual(first);
    expect(frozen[0]?.data['state']).toEqual({ a: { b: 1 } });
    expect(first).toMatchObject({ status: 'escalated', waitingStep: 's', state: { a: { b: 1, c: 2 } }, result: null });
    expect(statusWithOwner(first, false)).toBe('escalated');
    expect(foldAll(workflowRunProjection, frozen).get('run-1')).toEqual(first);
    expect(initialWorkflowRun.state).toEqual({});
  });

  it('sets and removes values along a path without changing the object it was given', () => {
    const before = Object.freeze({ a: Object.freeze({ b: 1 }), z: 0 });
    expect(withValueAt(before, ['a', 'c'], 2)).toEqual({ a: { b: 1, c: 2 }, z: 0 });
    expect(withValueAt(before, ['a', 'b'], undefined, true)).toEqual({ a: {}, z: 0 });
    expect(withValueAt(before, ['n', 'm'], 3)).toEqual({ a: { b: 1 }, z: 0, n: { m: 3 } });
    expect(before).toEqual({ a: { b: 1 }, z: 0 });
  });
});

function event(seq: number, type: string, data: Record<string, unknown>, actorId = 'run-1'): EventEnvelope {
  return { v: 1, id: `e${seq}`, runId: 'run-1', actorId, seq, ts: 1_000 + seq, type, data } as EventEnvelope;
}
