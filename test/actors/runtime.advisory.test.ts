// The runtime's advisories (repeated failures, error rate) are facts: recorded in the run of the call that crossed
// the threshold, durable before they are announced, counted by the same projection live and in replay.
import { describe, expect, it } from 'vitest';
import { createRuntime, type RuntimeEvent } from '../../src/actors/runtime.js';
import type { RuntimeConfigInput } from '../../src/config/runtimeConfig.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { parseEvent } from '../../src/events/parseEvent.js';
import type { Escalation } from '../../src/policy/escalation.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { replay } from '../../src/store/replay.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { createScriptedConnector, type ScriptedAnswer } from '../support/scriptedConnector.js';
import { drive } from '../support/driveClock.js';

const unavailable: ScriptedAnswer = { failure: { source: 'http', status: 503, headers: {}, message: 'HTTP 503' } };

/** More than 2 failures in a minute; the error rate needs more calls than these tests make. */
const config: RuntimeConfigInput = {
  servers: { srv: { command: 'unused' } },
  tools: { flaky: { max_retries: 0 } },
  escalation: { repeated_failures: { count: 2, window: '1m' }, error_rate: { minimum_calls: 1000 } },
};

function setup(store?: EventStore) {
  const clock = createTestClock(1_700_000_000_000);
  const runtime = createRuntime({
    config,
    connector: createScriptedConnector(clock, () => unavailable),
    clock,
    random: () => 0.5,
    ...(store ? { store } : {}),
  });
  const escalations: Escalation[] = [];
  const events: RuntimeEvent[] = [];
  runtime.on('event', (event) => events.push(event));
  const call = () => drive(runtime.callTool('srv', 'flaky'), clock);
  return { clock, runtime, escalations, events, call };
}

/** The log as a retrace without advisories wrote it: no such event, and each run's seq gap-free without it. */
function withoutAdvisories(events: readonly EventEnvelope[]): EventEnvelope[] {
  const seqs = new Map<string, number>();
  return events
    .filter((event) => event.type !== 'toolcall.advisory.raised')
    .map((event) => {
      const seq = (seqs.get(event.runId) ?? 0) + 1;
      seqs.set(event.runId, seq);
      return { ...event, seq };
    });
}

describe('advisory escalations', () => {
  it('are recorded in the run of the call whose failure crossed the threshold, with their window figures', async () => {
    const store = createMemoryStore();
    const { runtime, call, clock } = setup(store);
    const first = await call();
    clock.advance(10_000);
    await call();
    clock.advance(10_000);
    const third = await call();
    await runtime.close();

    const advisories = store.events.filter((event) => event.type === 'toolcall.advisory.raised');
    expect(advisories).toHaveLength(1);
    const advisory = advisories[0] as EventEnvelope;
    expect(advisory).toMatchObject({
      runId: third.runId,
      actorId: third.runId,
      ts: 1_700_000_020_000,
      data: {
        server: 'srv',
        tool: 'flaky',
        windowMs: 60_000,
        failures: 3,
        calls: 3,
        threshold: 2,
        escalation: {
          level: 'warning',
          trigger: 'repeated_failures',
          server: 'srv',
          tool: 'flaky',
          message: 'srv/flaky failed 3 times in 1 minute',
          recommendedAction: expect.stringContaining('Check the server logs and health') as unknown,
          callId: third.runId,
          at: 1_700_000_020_000,
        },
      },
    });
    // Right after the failed attempt that caused it, in seq order; it reads back as written.
    const run = store.events.filter((event) => event.runId === third.runId);
    expect(run.map((event) => event.type)).toEqual([
      'toolcall.requested',
      'toolcall.attempt.started',
      'toolcall.attempt.failed',
      'toolcall.advisory.raised',
      'toolcall.failed',
    ]);
    expect(run.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(parseEvent(JSON.parse(JSON.stringify(advisory)))).toEqual(advisory);
    expect(store.events.some((event) => event.runId === first.runId && event.type.includes('advisory'))).toBe(false);

    // It is not the call's outcome: the run failed, as it did.
    const runs = await store.runs();
    expect(runs.find((summary) => summary.runId === third.runId)?.status).toBe('failed');
    const replayed = replay(store.events);
    expect(replayed.runs.get(third.runId)).toMatchObject({ status: 'failed', outcome: { status: 'failed' } });
    expect(replayed.metrics.get('srv/flaky')?.escalations).toEqual({ info: 0, warning: 1, critical: 0, emergency: 0 });
  });

  it('are announced to the escalation listeners only once they are durable', async () => {
    const store = createMemoryStore();
    // Durable a turn of the event loop later, as a write and its fsync are.
    const { runtime, call } = setup({
      ...store,
      append: (batch) => new Promise((resolve) => setImmediate(() => resolve(store.append(batch)))),
    });
    const inTheLog: boolean[] = [];
    runtime.on('escalation', (escalation) => {
      inTheLog.push(
        store.events.some(
          (event) =>
            event.type === 'toolcall.advisory.raised' &&
            event.actorId === escalation.callId &&
            (event.data['escalation'] as Escalation).trigger === escalation.trigger,
        ),
      );
    });
    for (let i = 0; i < 3; i += 1) await call();
    expect(inTheLog).toEqual([true]);
    await runtime.close();
  });

  it('are not announced when they could not be recorded, and the call says why', async () => {
    let failing = false;
    const store = createMemoryStore({ failAppends: () => failing });
    const { runtime, call } = setup(store);
    const announced: Escalation[] = [];
    runtime.on('escalation', (escalation) => announced.push(escalation));
    await call();
    await call();
    failing = true;
    await expect(call()).rejects.toThrow(/could not be recorded: disk full/);
    expect(announced).toEqual([]);
    await runtime.close();
  });

  it('are folded into the live metrics and told to the listeners without a store too', async () => {
    const { runtime, call, events } = setup();
    const announced: Escalation[] = [];
    runtime.on('escalation', (escalation) => announced.push(escalation));
    for (let i = 0; i < 3; i += 1) await call();
    expect(announced.map((escalation) => escalation.trigger)).toEqual(['repeated_failures']);
    const advisory = events.find((event) => event.type === 'toolcall.advisory.raised');
    expect(advisory).toMatchObject({ failures: 3, calls: 3, threshold: 2, escalation: announced[0] });
    expect(runtime.metrics()).toEqual([
      expect.objectContaining({
        tool: 'flaky',
        totalCalls: 3,
        escalations: { info: 0, warning: 1, critical: 0, emergency: 0 },
      }),
    ]);
    await runtime.close();
  });

  it('hand out copies of the live metrics that callers cannot change', async () => {
    const { runtime, call } = setup();
    await call();
    const [copy] = runtime.metrics();
    if (!copy) throw new Error('expected metrics for srv/flaky');
    copy.totalCalls = 99;
    copy.escalations.warning = 99;
    expect(runtime.metrics()[0]).toMatchObject({ totalCalls: 1, escalations: { warning: 0 } });
    await runtime.close();
  });

  it('are absent from an older log, which still replays to the same runs and timelines', async () => {
    const store = createMemoryStore();
    const { runtime, call } = setup(store);
    for (let i = 0; i < 4; i += 1) await call();
    await runtime.close();
    const current = replay(store.events);
    const older = replay(withoutAdvisories(store.events));
    expect([...older.runs.values()].map((run) => [run.runId, run.status, run.outcome?.status])).toEqual(
      [...current.runs.values()].map((run) => [run.runId, run.status, run.outcome?.status]),
    );
    for (const [key, timeline] of older.timelines) {
      const spans = current.timelines.get(key)?.spans.filter((span) => span.kind !== 'advisory');
      expect(timeline.spans).toEqual(spans);
    }
    const { escalations, ...counts } = older.metrics.get('srv/flaky') ?? {};
    const { escalations: currentEscalations, ...currentCounts } = current.metrics.get('srv/flaky') ?? {};
    expect(counts).toEqual(currentCounts);
    expect(escalations?.warning).toBe(0);
    expect(currentEscalations?.warning).toBe(1);
  });
});
