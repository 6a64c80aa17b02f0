// A long-lived runtime holds its running and waiting runs, not every run it ever ran: `list()` keeps the last
// `keepEndedRuns` that ended, and a forgotten run's handle goes on answering.
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { createScriptedConnector } from '../support/scriptedConnector.js';
import { drive } from './executorHarness.js';

describe('ended runs a runtime keeps', () => {
  it('lists the waiting run and the last ended ones; a forgotten run’s handle still answers, the waiting one is resolved', async () => {
    const clock = createTestClock(1_700_000_000_000);
    const connector = createScriptedConnector(clock, (request) =>
      request.tool === 'guarded'
        ? { failure: { source: 'http', status: 401, headers: {}, message: 'HTTP 401 unauthorized' } }
        : { text: '{"ok":true}' },
    );
    const store = createMemoryStore();
    const runtime = createRuntime({
      config: { servers: { api: { command: 'unused' } }, defaults: { max_retries: 0 } },
      connector,
      clock,
      random: () => 0.5,
      store,
      keepEndedRuns: 3,
    });
    const compile = async (text: string) => {
      const checked = await parseWorkflowText(text, { config: runtime.config });
      if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
      return checked.workflow;
    };
    const quick = await compile('name: quick\nsteps:\n  - { id: call, type: mcp_call, tool: ok }\n');
    const waits = await compile('name: waits\nsteps:\n  - { id: call, type: mcp_call, tool: guarded }\n');

    const waiting = runtime.spawn(waits);
    expect((await drive(waiting.done, clock)).status).toBe('escalated');
    const handles = [];
    for (let i = 0; i < 6; i += 1) {
      const handle = runtime.spawn(quick);
      expect((await drive(handle.done, clock)).status).toBe('succeeded');
      handles.push(handle);
    }
    await new Promise((resolve) => setImmediate(resolve));

    const listed = runtime.list().map((summary) => [summary.runId, summary.status]);
    expect(listed).toEqual([
      [waiting.runId, 'escalated'],
      ...handles.slice(-3).map((handle) => [handle.runId, 'succeeded']),
    ]);
    const forgotten = handles[0];
    if (!forgotten) throw new Error('six runs were spawned');
    expect(forgotten.snapshot()).toMatchObject({ runId: forgotten.runId, status: 'succeeded', steps: 1 });
    expect(await store.read(forgotten.runId)).not.toEqual([]);

    // The waiting run was kept: a resolution continues it here from what the runtime held.
    const resolved = await drive(runtime.resolve(waiting.runId, { action: 'skip' }), clock);
    expect(resolved.status).toBe('succeeded');
    await new Promise((resolve) => setImmediate(resolve));
    // It ended last: the oldest of the others made room for it (the list stays in spawn order).
    expect(runtime.list().map((summary) => summary.runId)).toEqual([
      waiting.runId,
      ...handles.slice(-2).map((handle) => handle.runId),
    ]);
    await runtime.close();
  });
});
