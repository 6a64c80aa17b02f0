// A resumed run keeps the cached answers its process had: the cached fallback of a read-only call that fails after a
// crash is the result recorded before it (found by the crash campaign: deployment-ok rolled back after a kill).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreCachedResults } from '../../src/actors/cacheFromLog.js';
import { createResultCache } from '../../src/actors/resultCache.js';
import type { WorkflowFinal } from '../../src/actors/workflowHost.js';
import { REDACTED } from '../../src/common/redact.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import { compileText, createWorld, startSharedExample, type SharedExample } from '../support/resumeHarness.js';

const twoReads = `
name: resume-cache
tools:
  validate_schedule_tool: { max_retries: 2, base_delay: 0.01, retryable: [unavailable], cache: { ttl: 5m } }
steps:
  - id: first
    type: mcp_call
    tool: validate_schedule_tool
    arguments: { schedule_id: sched-2025-02 }
  - id: second
    type: mcp_call
    tool: validate_schedule_tool
    arguments: { schedule_id: sched-2025-02 }
  - type: return
    value: { first: '{{ steps.first.result.is_valid }}', second: '{{ steps.second.result.is_valid }}' }
`;

let shared: SharedExample;
beforeAll(() => {
  shared = startSharedExample();
});
afterAll(async () => {
  await shared.close();
});

describe('resuming a run with cached results in its log', () => {
  let workflow: CompiledWorkflow;
  let original: { final: WorkflowFinal; events: EventEnvelope[] };

  beforeAll(async () => {
    const world = createWorld(shared);
    workflow = await compileText(world.runtime, twoReads);
    const handle = world.runtime.spawn(workflow);
    const final = await world.drive(handle.done);
    original = { final, events: world.store.events.filter((event) => event.runId === handle.runId) };
    await world.close();
  }, 30_000);

  /** The log up to the first read's success, resumed `afterMs` later while every validator call fails three times. */
  async function resumeAfterFirstRead(afterMs: number): Promise<{ final: WorkflowFinal; events: EventEnvelope[] }> {
    const cut = original.events.findIndex((e) => e.type === 'workflow.step.succeeded' && e.actorId === 'first') + 1;
    const prefix = original.events.slice(0, cut);
    const world = createWorld(shared, prefix, (prefix.at(-1)?.ts ?? 0) + afterMs);
    try {
      await world.runtime.callTool('example', 'example_set_plan', {
        plan: { faults: { validate_schedule_tool: { first: 3, fail: 'connection' } } },
      });
      const handle = await world.runtime.resume(original.final.runId, { workflow });
      const final = await world.drive(handle.done);
      return { final, events: world.store.events.filter((event) => event.runId === original.final.runId) };
    } finally {
      await world.close();
    }
  }

  it('answers the failing read from the result recorded before the crash', async () => {
    expect(original.final.result).toEqual({ first: true, second: true });
    const { final, events } = await resumeAfterFirstRead(1_000);
    expect(final.status, JSON.stringify(final.error)).toBe('succeeded');
    expect(final.result).toEqual(original.final.result);
    expect(events.some((e) => e.parentId === 'second' && e.type === 'toolcall.cache.hit')).toBe(true);
  }, 30_000);

  it('does not serve a recorded result older than the TTL', async () => {
    const { final, events } = await resumeAfterFirstRead(10 * 60_000);
    expect(final.status).toBe('failed');
    expect(events.some((e) => e.parentId === 'second' && e.type === 'toolcall.cache.miss')).toBe(true);
  }, 30_000);

  it('restores only what the tool answered: not a redacted result, not a call with redacted arguments', () => {
    const success = original.events.find((e) => e.type === 'toolcall.succeeded' && e.parentId === 'first');
    if (!success) throw new Error('no recorded success of the first read');
    const redactedArgs = { ...success, data: { ...success.data, args: { schedule_id: REDACTED } } };
    const result = success.data['result'] as Record<string, unknown>;
    const redactedResult = { ...success, data: { ...success.data, result: { ...result, content: REDACTED } } };
    const cache = createResultCache();
    expect(restoreCachedResults(cache, [redactedArgs, redactedResult])).toBe(0);
    expect(restoreCachedResults(cache, [success])).toBe(1);
    expect(cache.get('example', 'validate_schedule_tool', { schedule_id: 'sched-2025-02' })?.storedAt).toBe(success.ts);
  });
});
