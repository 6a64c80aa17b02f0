// Resuming a run from every cut of its log, against the real example MCP server: the final is the uninterrupted
// run's, and no step that had completed runs again (the server counts its side effects).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowFinal } from '../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import {
  compileText,
  createWorld,
  effectCounts,
  startSharedExample,
  type SharedExample,
} from '../support/resumeHarness.js';

const sweep = `
name: resume-sweep
inputs:
  items: { type: array, default: [a, b] }
state:
  count: 0
  seen: []
computed:
  doubled:
    from: count
    transform: $input * 2
steps:
  - id: check
    type: mcp_call
    tool: validate_schedule_tool
    arguments: { start_date: '2025-01-01', end_date: '2025-01-07' }
  - { id: bump, type: state_update, path: count, operation: increment }
  - id: branch
    type: conditional
    condition: '{{ state.count = 1 }}'
    then:
      - { id: bump_again, type: state_update, path: count, operation: increment }
      - id: inner
        type: conditional
        condition: '{{ state.count = 2 }}'
        then: [{ id: mark, type: state_update, path: marked, value: 'then' }]
        else: [{ id: wrong_inner, type: state_update, path: marked, value: 'inner else' }]
    else:
      - { id: wrong_outer, type: state_update, path: marked, value: 'outer else' }
  - id: task
    type: mcp_call
    tool: start_background_task_tool
    arguments: { task_type: compliance_report }
  - id: wait_task
    type: poll
    step:
      id: status
      type: mcp_call
      tool: get_task_status_tool
      arguments: { task_id: '{{ steps.task.result.task_id }}' }
    until: result.status = "success"
    interval: 1s
    timeout: 1m
  - { id: record_status, type: state_update, path: task_status, value: '{{ steps.wait_task.result.status }}' }
  - id: each
    type: foreach
    items: '{{ inputs.items }}'
    steps:
      - { id: add, type: state_update, path: seen, operation: append, value: '{{ item }}' }
  - id: both
    type: parallel
    branches:
      - [{ id: left, type: state_update, path: left, value: '{{ state.count }}' }]
      - [{ id: right, type: mcp_call, tool: cleanup_resources, arguments: { resource_ids: [] } }]
  - id: done
    type: return
    value: { count: '{{ state.count }}', seen: '{{ state.seen }}', doubled: '{{ computed.doubled }}' }
`;

let shared: SharedExample;
beforeAll(() => {
  shared = startSharedExample();
});
afterAll(async () => {
  await shared.close();
});

function comparable(final: WorkflowFinal) {
  return { status: final.status, state: final.state, computed: final.computed, result: final.result };
}

/** Whether the tool call made by step actor `parentId` recorded an event of `type` in `events`. */
function callHas(events: readonly EventEnvelope[], parentId: string, type: string): boolean {
  return events.some((event) => event.parentId === parentId && event.type === type);
}

describe('resuming a run from its log', () => {
  let workflow: CompiledWorkflow;
  let original: { final: WorkflowFinal; events: EventEnvelope[] };

  beforeAll(async () => {
    const world = createWorld(shared);
    workflow = await compileText(world.runtime, sweep);
    const handle = world.runtime.spawn(workflow);
    const final = await world.drive(handle.done);
    original = { final, events: world.store.events.filter((event) => event.runId === handle.runId) };
    await world.close();
  }, 30_000);

  it('runs the sweep workflow to its end uninterrupted', () => {
    expect(original.final.error, JSON.stringify(original.final.error)).toBeUndefined();
    expect(original.final.status).toBe('succeeded');
    expect(original.final.state).toMatchObject({
      count: 2,
      marked: 'then',
      seen: ['a', 'b'],
      task_status: 'success',
      left: 2,
    });
    expect(original.final.computed).toEqual({ doubled: 4 });
    expect(original.final.result).toEqual({ count: 2, seen: ['a', 'b'], doubled: 4 });
  });

  it('gives the uninterrupted final from every cut of the log, and never repeats a completed step', async () => {
    const total = original.events.length;
    let escalations = 0;
    for (let cut = 1; cut < total; cut += 1) {
      const prefix = original.events.slice(0, cut);
      // Resumed right after the crash: deadlines recorded in the log (retries, polls) still lie ahead.
      const world = createWorld(shared, prefix, (prefix.at(-1)?.ts ?? 0) + 1);
      const before = await effectCounts(world.runtime);
      const handle = await world.runtime.resume(original.final.runId, { workflow });
      const final = await world.drive(handle.done);
      const after = await effectCounts(world.runtime);
      const events = world.store.events.filter((event) => event.runId === original.final.runId);
      await world.close();
      const started = (tool: string) => (after[tool] ?? 0) - (before[tool] ?? 0);
      const where = `cut after event ${cut} (${prefix.at(-1)?.type} ${prefix.at(-1)?.actorId}): ${final.status} ${JSON.stringify(final.error)}`;

      // The non-idempotent task: started at most once over the run and its resume.
      const taskInFlight =
        callHas(prefix, 'task', 'toolcall.attempt.started') && !callHas(prefix, 'task', 'toolcall.succeeded');
      expect(started('start_background_task_tool'), where).toBe(
        callHas(prefix, 'task', 'toolcall.attempt.started') ? 0 : 1,
      );
      if (taskInFlight) {
        escalations += 1;
        expect(final.status, where).toBe('escalated');
        expect(final.error?.message, where).toMatch(/may have taken effect/);
        expect(events.at(-1)?.data['stepActorId'], where).toBe('task');
        continue;
      }
      expect(comparable(final), where).toEqual(comparable(original.final));
      // The idempotent cleanup: again only when it had not answered.
      expect(started('cleanup_resources'), where).toBe(callHas(prefix, 'right', 'toolcall.succeeded') ? 0 : 1);
      // No step that ended in the cut log starts again.
      const ended = new Set(
        prefix
          .filter((event) => /^workflow\.step\.(succeeded|skipped|fallback|failed)$/.test(event.type))
          .map((event) => event.actorId),
      );
      const again = events
        .slice(cut)
        .filter((event) => event.type === 'workflow.step.started' && ended.has(event.actorId));
      expect(
        again.map((event) => event.actorId),
        where,
      ).toEqual([]);
      const resumed = events[cut];
      expect(resumed?.type, where).toBe('workflow.resumed');
      expect(resumed?.seq, where).toBe(cut + 1);
    }
    expect(escalations).toBeGreaterThan(0);
  }, 120_000);
});
