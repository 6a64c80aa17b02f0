// --inspect: a live run's actors and a recorded run's transitions reach a WebSocket viewer of the local relay.
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { describe, expect, it, vi } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { attachInspector } from '../../src/actors/statelyInspector.js';
import { inspectRecordedRun } from '../../src/store/recordedInspection.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';

const text = `
name: counted
steps:
  - { id: first, type: state_update, path: n, operation: increment }
  - { id: second, type: state_update, path: n, operation: increment }
`;

async function viewerOf(url: string | undefined) {
  if (url === undefined) throw new Error('a local inspector has a WebSocket');
  const received: StatelyInspectionEvent[] = [];
  createWebSocketReceiver({ server: url }).subscribe((event) => received.push(event));
  return received;
}

describe('the Stately inspector on 127.0.0.1', () => {
  it('streams a live run: every actor with its machine, and the snapshots it goes through', async () => {
    const { workflow } = await parseWorkflowText(text);
    if (!workflow) throw new Error('the workflow should compile');
    const inspector = await attachInspector({ kind: 'local', port: 0 });
    expect(inspector.webSocketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const received = await viewerOf(inspector.webSocketUrl);
    const store = createMemoryStore();
    const runtime = createRuntime({ store, inspect: inspector.inspect, config: { servers: {} } });
    const final = await runtime.spawn(workflow, {}).done;
    await runtime.close();
    expect(final.status).toBe('succeeded');

    await vi.waitFor(() => {
      const actors = received.filter((event) => event.type === '@xstate.actor');
      // The machines, and the actors they invoke (each step's `execute`, the workflow's `runSteps`).
      expect(actors.map((event) => event.name).sort()).toEqual([
        '0.step.running',
        '0.step.running',
        '0.workflow.running',
        'step',
        'step',
        'workflow',
      ]);
      const done = received.filter(
        (event) => event.type === '@xstate.snapshot' && (event.snapshot as { value?: unknown }).value === 'succeeded',
      );
      expect(done).toHaveLength(3);
    });
    const workflowActor = received.find((event) => event.type === '@xstate.actor' && event.name === 'workflow');
    expect(JSON.parse((workflowActor as { definition: string }).definition)).toMatchObject({
      id: 'workflow',
      initial: 'running',
    });

    // The recorded run, fed through the same inspector, reaches the viewer as the same actors and end states.
    const before = received.length;
    const runEvents = store.events.filter((event) => event.runId === final.runId);
    expect(inspectRecordedRun(runEvents, inspector.sink)).toBe(3);
    await inspector.close();
    await vi.waitFor(() => {
      const replayed = received.slice(before);
      const actors = replayed.filter((event) => event.type === '@xstate.actor');
      // Each with its machine's config as its definition, and the steps under the workflow.
      expect(actors.map((event) => event.name).sort()).toEqual(['step', 'step', 'workflow']);
      for (const actor of actors) {
        expect((JSON.parse(actor.definition ?? '{}') as { id?: string }).id).toBe(actor.name);
      }
      const workflowSession = actors.find((event) => event.name === 'workflow')?.sessionId;
      expect(actors.filter((event) => event.name === 'step').map((event) => event.parentId)).toEqual([
        workflowSession,
        workflowSession,
      ]);
      const ends = replayed.flatMap((event) =>
        event.type === '@xstate.snapshot' && (event.snapshot as { status?: string }).status === 'done'
          ? [(event.snapshot as { value?: unknown }).value]
          : [],
      );
      expect(ends).toEqual(['succeeded', 'succeeded', 'succeeded']);
    });
  });
});
