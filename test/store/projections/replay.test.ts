import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import {
  initialResumeState,
  initialRunState,
  initialTimeline,
  initialToolMetrics,
  reduceResumeState,
} from '../../../src/store/projections/index.js';
import { createReplayer, replay, replayAsync } from '../../../src/store/replay.js';
import { toEnvelopes } from './envelopes.js';
import { authEscalation, cacheAfterRetriesExhausted, retriesThenFallback, START } from './scenarios.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Three runs, their events interleaved as a log holding them all would store them. */
async function threeRuns(): Promise<EventEnvelope[]> {
  const runs = [
    toEnvelopes((await retriesThenFallback()).run.events, () => 'run-a'),
    toEnvelopes((await cacheAfterRetriesExhausted()).run.events, () => 'run-b'),
    toEnvelopes((await authEscalation()).run.events, () => 'run-c'),
  ];
  const interleaved: EventEnvelope[] = [];
  for (let i = 0; runs.some((run) => i < run.length); i += 1) {
    for (const run of runs) {
      const event = run[i];
      if (event) interleaved.push(event);
    }
  }
  return interleaved;
}

describe('replay', () => {
  it('is pure: the same events folded twice give equal states, and neither events nor initial states change', async () => {
    const events = deepFreeze(await threeRuns());
    for (const initial of [initialRunState, initialToolMetrics, initialTimeline, initialResumeState])
      deepFreeze(initial);
    const first = replay(events);
    const second = replay(events);
    expect(second).toEqual(first);
    expect([...first.runs.values()].map((run) => [run.runId, run.status])).toEqual([
      ['run-a', 'succeeded'],
      ['run-b', 'succeeded'],
      ['run-c', 'escalated'],
    ]);
    let resume = initialResumeState;
    for (const event of events.filter((event) => event.runId === 'run-b')) resume = reduceResumeState(resume, event);
    expect(resume.finished).toEqual({ status: 'cached', at: START + 2020 });
  });

  it('gives the same result whether the events arrive one by one (live) or all at once, sync or async', async () => {
    const events = await threeRuns();
    const live = createReplayer();
    const seen = [];
    for (const event of events) {
      live.apply(event);
      seen.push(live.result());
    }
    async function* stream() {
      for (const event of events) yield await Promise.resolve(event);
    }
    expect(live.result()).toEqual(replay(events));
    expect(await replayAsync(stream())).toEqual(replay(events));
    // A result already handed out does not move when later events arrive.
    expect(seen[0]?.runs.size).toBe(1);
  });

  it('cuts every run at untilSeq: the state, metrics and timeline as they were then', async () => {
    const events = await threeRuns();
    const cut = replay(events, { untilSeq: 4 });
    expect(cut.runs.get('run-a')).toMatchObject({
      status: 'running',
      lastSeq: 4,
      pendingBackoff: { n: 1, delayMs: 2000, until: START + 2012 },
    });
    expect(cut.runs.get('run-c')?.status).toBe('escalated');
    expect(cut.timelines.get('run-a/call-1')?.spans.map((span) => span.kind)).toEqual(['attempt', 'backoff']);
    expect(cut.timelines.get('run-a/call-1')?.outcome).toBeUndefined();
    expect(cut.metrics.get('srv/primary')).toMatchObject({ totalCalls: 3, retries: 2, escalations: { critical: 1 } });
    expect(replay(events, { untilSeq: 1_000 })).toEqual(replay(events));
    expect(replay(events, { untilSeq: 0 }).runs.size).toBe(0);
  });

  it('ignores event types it does not know', async () => {
    const events = await threeRuns();
    const stranger: EventEnvelope = {
      ...events[0]!,
      id: 'x',
      seq: 99,
      type: 'workflow.noticed',
      data: { anything: 1 },
    };
    const withStranger = replay([...events, stranger]);
    expect(withStranger.metrics).toEqual(replay(events).metrics);
    expect(withStranger.timelines).toEqual(replay(events).timelines);
    expect(withStranger.runs.get('run-a')?.lastSeq).toBe(99);
  });
});
