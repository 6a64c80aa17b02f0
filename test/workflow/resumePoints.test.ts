// Resuming at particular points (pending retries keep their deadlines, in-flight calls), resolving an escalated
// run with each action, and the runs a resume refuses; against the real example MCP server.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendControlRequest } from '../../src/actors/runControl.js';
import { liveOwner } from '../../src/actors/runOwnership.js';
import type { WorkflowFinal } from '../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { Resolution } from '../../src/actors/workflowResume.js';
import {
  compileText,
  createWorld,
  effectCounts,
  startSharedExample,
  type ResumeWorld,
  type SharedExample,
} from '../support/resumeHarness.js';

let shared: SharedExample;
beforeAll(() => {
  // validate_schedule_tool's first call fails (connection refused): the call backs off 5 s and retries.
  shared = startSharedExample(
    { plan: { faults: { validate_schedule_tool: { first: 1, fail: 'connection' } } } },
    { validate_schedule_tool: { max_retries: 2, base_delay: 5, jitter: 'none', retryable: ['transient'] } },
  );
});
afterAll(async () => {
  await shared.close();
});

const flow = `
name: points
state: { n: 0 }
steps:
  - id: check
    type: mcp_call
    tool: validate_schedule_tool
    arguments: { start_date: '2025-01-01', end_date: '2025-01-07' }
  - id: flaky
    type: error
    message: 'not yet'
    on_error: retry
    retry_count: 1
    retry_delay: 10s
    when: '{{ state.n > 0 }}'
  - { id: bump, type: state_update, path: n, operation: increment }
  - id: task
    type: mcp_call
    tool: start_background_task_tool
    arguments: { task_type: compliance_report }
    cleanup:
      - { id: undo, type: state_update, path: cleaned, value: true }
  - { id: after, type: state_update, path: got, value: '{{ steps.task.result }}' }
`;

async function runToEnd(text: string, inputs: Record<string, unknown> = {}) {
  const world = createWorld(shared);
  const workflow = await compileText(world.runtime, text);
  const handle = world.runtime.spawn(workflow, inputs);
  const final = await world.drive(handle.done);
  const events = world.store.events.filter((event) => event.runId === handle.runId);
  await world.close();
  return { workflow, final, events, runId: handle.runId };
}

/** A world holding the log up to and including the first event `matches` (its runs claimed in `dataDir`, if given). */
function cutAt(
  events: readonly EventEnvelope[],
  matches: (event: EventEnvelope) => boolean,
  dataDir?: string,
): ResumeWorld {
  const index = events.findIndex(matches);
  expect(index).toBeGreaterThanOrEqual(0);
  const prefix = events.slice(0, index + 1);
  return createWorld(shared, prefix, (prefix.at(-1)?.ts ?? 0) + 1, dataDir);
}

function runEvents(world: ResumeWorld, runId: string): EventEnvelope[] {
  return world.store.events.filter((event) => event.runId === runId);
}

describe('resuming at a pending retry or an in-flight call', () => {
  let original: Awaited<ReturnType<typeof runToEnd>>;
  beforeAll(async () => {
    original = await runToEnd(flow);
  }, 30_000);

  it('keeps a pending tool-level backoff to its recorded deadline, in the same call', async () => {
    expect(original.final.status).toBe('succeeded');
    const world = cutAt(original.events, (event) => event.type === 'toolcall.backoff.scheduled');
    const scheduled = runEvents(world, original.runId).at(-1) as EventEnvelope;
    const handle = await world.runtime.resume(original.runId, { workflow: original.workflow });
    const final = await world.drive(handle.done);
    await world.close();
    const next = runEvents(world, original.runId).find(
      (event) => event.type === 'toolcall.attempt.started' && event.seq > scheduled.seq,
    );
    expect(next?.actorId).toBe(scheduled.actorId);
    expect(next?.data['n']).toBe(2);
    expect(next?.ts).toBe(scheduled.data['until']);
    expect(final.status).toBe('succeeded');
    expect(final.state['n']).toBe(1);
  });

  it('attempts an idempotent call that was in flight again', async () => {
    const world = cutAt(
      original.events,
      (event) => event.type === 'toolcall.attempt.started' && event.parentId === 'check' && event.data['n'] === 2,
    );
    const handle = await world.runtime.resume(original.runId, { workflow: original.workflow });
    const final = await world.drive(handle.done);
    await world.close();
    const attempts = runEvents(world, original.runId).filter(
      (event) => event.type === 'toolcall.attempt.started' && event.parentId === 'check',
    );
    expect(attempts.map((event) => event.data['n'])).toEqual([1, 2, 3]);
    expect(final.status).toBe('succeeded');
  });

  it('keeps a pending step retry to its recorded deadline', async () => {
    const retried = await runToEnd(flow.replace('state: { n: 0 }', 'state: { n: 1 }'));
    expect(retried.final.status).toBe('failed');
    const world = cutAt(retried.events, (event) => event.type === 'workflow.step.retrying');
    const retrying = runEvents(world, retried.runId).at(-1) as EventEnvelope;
    const handle = await world.runtime.resume(retried.runId, { workflow: retried.workflow });
    const final = await world.drive(handle.done);
    await world.close();
    const next = runEvents(world, retried.runId).find(
      (event) => event.type === 'workflow.step.started' && event.seq > retrying.seq,
    );
    expect(next?.data).toMatchObject({ stepId: 'flaky', attempt: 2 });
    expect(next?.ts).toBe(retrying.data['until']);
    expect(final.error).toEqual(retried.final.error);
  });
});

describe('an escalation that waits for a person', () => {
  let original: Awaited<ReturnType<typeof runToEnd>>;
  beforeAll(async () => {
    original = await runToEnd(flow);
  }, 30_000);

  /** The run cut while its non-idempotent task call was in flight, resumed: it escalates and waits. */
  async function waiting(): Promise<{
    world: ResumeWorld;
    handle: Awaited<ReturnType<ResumeWorld['runtime']['resume']>>;
    final: WorkflowFinal;
  }> {
    const world = cutAt(
      original.events,
      (event) => event.type === 'toolcall.attempt.started' && event.parentId === 'task',
    );
    const handle = await world.runtime.resume(original.runId, { workflow: original.workflow });
    const final = await world.drive(handle.done);
    return { world, handle, final };
  }

  it('waits on the step whose non-idempotent call was in flight, without running its cleanup', async () => {
    const { world, handle, final } = await waiting();
    const escalated = runEvents(world, original.runId).at(-1);
    expect(final.status).toBe('escalated');
    expect(handle.snapshot().status).toBe('escalated');
    expect(escalated?.type).toBe('workflow.escalated');
    expect(escalated?.data['stepActorId']).toBe('task');
    expect(final.state).toEqual({ n: 1 });
    await expect(world.runtime.resume(original.runId, { workflow: original.workflow })).rejects.toThrow(
      /waiting on an escalation \(step task\)/,
    );
    await world.close();
  });

  const cases: Array<[Resolution, (final: WorkflowFinal) => void, number]> = [
    [
      { action: 'retry', by: 'ops' },
      (final) => expect(final.state['got']).toMatchObject({ task_type: 'compliance_report' }),
      1,
    ],
    [{ action: 'skip' }, (final) => expect(final.state).toEqual({ n: 1, got: null }), 0],
    [
      { action: 'value', value: { task_id: 'by-hand' } },
      (final) => expect(final.state).toEqual({ n: 1, got: { task_id: 'by-hand' } }),
      0,
    ],
  ];
  for (const [resolution, check, starts] of cases) {
    it(`continues the run after resolve ${resolution.action}`, async () => {
      const { world, handle } = await waiting();
      const before = await effectCounts(world.runtime);
      const seen: string[] = [];
      handle.subscribe((event) => seen.push(event.type));
      const final = await world.drive(handle.resolve(resolution));
      const after = await effectCounts(world.runtime);
      await expect(handle.resolve(resolution)).rejects.toThrow(/not waiting on an escalation \(it is succeeded\)/);
      await world.close();
      expect(final.status).toBe('succeeded');
      check(final);
      expect((after['start_background_task_tool'] ?? 0) - (before['start_background_task_tool'] ?? 0)).toBe(starts);
      expect(seen.slice(0, 2)).toEqual(['workflow.resolved', 'workflow.resumed']);
      expect(handle.snapshot().final).toEqual(final);
    });
  }

  it('fails the run and runs the waiting step’s cleanup after resolve abort', async () => {
    const { world, handle } = await waiting();
    const final = await world.drive(handle.resolve({ action: 'abort', by: 'ops' }));
    await world.close();
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ type: 'aborted', actor_id: 'task' });
    expect(final.state).toEqual({ n: 1, cleaned: true });
  });

  it('keeps a waiting run in its process, which acts on resolve and cancel requests from another process', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'retrace-owner-'));
    try {
      for (const [request, status] of [
        [{ action: 'resolve', resolution: { action: 'value', value: 3, by: 'ops' } }, 'succeeded'],
        [{ action: 'cancel', reason: 'not today' }, 'failed'],
      ] as const) {
        const world = cutAt(
          original.events,
          (event) => event.type === 'toolcall.attempt.started' && event.parentId === 'task',
          dataDir,
        );
        const handle = await world.runtime.resume(original.runId, { workflow: original.workflow });
        expect((await world.drive(handle.done)).status).toBe('escalated');
        // Waiting, the run stays claimed by this process: another process sends it its answer.
        expect((await liveOwner(dataDir, original.runId))?.pid).toBe(process.pid);
        const ended = new Promise<string>((resolve) =>
          handle.subscribe((event) => {
            if (event.type === 'workflow.succeeded' || event.type === 'workflow.failed') resolve(event.type);
          }),
        );
        await sendControlRequest(dataDir, { runId: original.runId, requestedAt: 1, ...request });
        expect(await world.drive(ended)).toBe(`workflow.${status}`);
        const final = handle.snapshot().final;
        expect(final?.status).toBe(status);
        if (status === 'succeeded') expect(final?.state).toEqual({ n: 1, got: 3 });
        // A cancel of a waiting run aborts its waiting step: its cleanup ran.
        else expect(final).toMatchObject({ error: { type: 'aborted' }, state: { n: 1, cleaned: true } });
        const resolved = runEvents(world, original.runId).find((event) => event.type === 'workflow.resolved');
        expect(resolved?.data).toMatchObject(
          request.action === 'resolve'
            ? { action: 'value', value: 3, by: 'ops' }
            : { action: 'abort', note: 'not today' },
        );
        await world.close();
        // Ended, the run is given up: no owner file, no request left.
        expect(await liveOwner(dataDir, original.runId), request.action).toBeUndefined();
        expect(await readdir(join(dataDir, 'control'))).toEqual([]);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('resolves from the store alone in another runtime', async () => {
    const { world } = await waiting();
    const events = runEvents(world, original.runId);
    await world.close();
    const other = createWorld(shared, events, (events.at(-1)?.ts ?? 0) + 1);
    const final = await other.drive(
      other.runtime.resolve(original.runId, { action: 'value', value: 7 }, { workflow: original.workflow }),
    );
    await other.close();
    expect(final.state).toEqual({ n: 1, got: 7 });
  });
});

describe('what a resume refuses', () => {
  it('refuses an unknown run, an ended run and a changed workflow (unless forced)', async () => {
    const done = await runToEnd(flow);
    const world = createWorld(shared, done.events);
    await expect(world.runtime.resume('nope')).rejects.toMatchObject({ code: 'E_UNKNOWN_RUN' });
    await expect(world.runtime.resume(done.runId, { workflow: done.workflow })).rejects.toThrow(
      /already ended \(succeeded\)/,
    );
    await world.close();

    const cut = createWorld(shared, done.events.slice(0, 3));
    const changed = await compileText(cut.runtime, flow.replace('value: true', "value: 'yes'"));
    await expect(cut.runtime.resume(done.runId, { workflow: changed })).rejects.toMatchObject({
      code: 'E_WORKFLOW_CHANGED',
    });
    // Without the workflow, the file recorded in the run is loaded (this one was parsed from text: there is none).
    await expect(cut.runtime.resume(done.runId)).rejects.toThrow(/workflow\.yaml: workflow file not found/);
    const handle = await cut.runtime.resume(done.runId, { workflow: changed, force: true });
    await expect(cut.runtime.resume(done.runId, { workflow: changed, force: true })).rejects.toThrow(
      /already running in this runtime/,
    );
    const final = await cut.drive(handle.done);
    await cut.close();
    expect(final.status).toBe('succeeded');
  }, 30_000);
});
