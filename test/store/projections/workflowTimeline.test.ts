// The workflow timeline and workflow metrics projections over the events of real runs (example server, test clock):
// the tree of step actors with their attempts, backoffs, fallbacks, calls, state changes and computed fields;
// live = replay = folding in pieces; --until cuts by seq and by time.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import {
  foldAll,
  foldInto,
  reportWorkflowMetrics,
  workflowRunMetricsProjection,
  workflowTimelineProjection,
  type StepSpan,
  type WorkflowTimeline,
} from '../../../src/store/projections/index.js';
import { replay } from '../../../src/store/replay.js';
import { formatWorkflowTimeline } from '../../../src/store/workflowTimelineFormat.js';
import { DEMO_START, runDemoWorkflows, type DemoRun } from '../../support/workflowDemo.js';

let plain: DemoRun;
let escalated: DemoRun;
beforeAll(async () => {
  ({ plain, escalated } = await runDemoWorkflows());
}, 120_000);

const timelineOf = (run: DemoRun, events: readonly EventEnvelope[] = run.events): WorkflowTimeline => {
  const timeline = foldAll(workflowTimelineProjection, events).get(run.runId);
  if (!timeline) throw new Error(`no workflow timeline for ${run.runId}`);
  return timeline;
};

const stepOf = (timeline: WorkflowTimeline, key: string): StepSpan => {
  const step = timeline.steps.find((candidate) => candidate.key === key);
  if (!step) throw new Error(`no step ${key} in ${timeline.steps.map((candidate) => candidate.key).join(', ')}`);
  return step;
};

/** Every item of the timeline that carries times, for checks that hold of all of them. */
function timedItems(timeline: WorkflowTimeline): Array<{ startedAt: number; endedAt: number | undefined }> {
  return [
    ...timeline.computed,
    ...timeline.stateUpdates,
    ...timeline.warnings,
    ...timeline.breakers,
    ...timeline.steps.flatMap((step) => [
      step,
      ...step.attempts,
      ...step.backoffs,
      ...(step.fallback ? [step.fallback] : []),
      ...step.stateUpdates,
      ...step.computed,
      ...(step.workflow ? [step.workflow] : []),
    ]),
  ];
}

describe('workflow timeline projection', () => {
  it('nests every step actor under the step it ran in, sub-workflow steps under their workflow step', () => {
    const timeline = timelineOf(plain);
    expect(plain.final.status).toBe('succeeded');
    expect(timeline).toMatchObject({ runId: plain.runId, name: 'timeline-demo', status: 'succeeded' });
    expect(timeline.steps.map((step) => `${'  '.repeat(step.depth)}${step.key} ${step.type} ${step.status}`)).toEqual([
      'validate mcp_call succeeded',
      'status mcp_call succeeded',
      'status_again mcp_call succeeded',
      'by_id mcp_call succeeded',
      'per_region foreach succeeded',
      '  per_region[0].record state_update succeeded',
      '  per_region[1].record state_update succeeded',
      'notify workflow fallback',
      '  notify/say error failed',
      'tidy mcp_call skipped',
      'done return succeeded',
    ]);
    expect(stepOf(timeline, 'per_region[1].record').parentKey).toBe('per_region');
    expect(stepOf(timeline, 'notify/say')).toMatchObject({ parentKey: 'notify', workflowActorId: 'notify:workflow' });
    expect(timeline.final).toMatchObject({ status: 'succeeded', result: { deployed: 2 }, steps: 10 });
    expect(timeline.endedAt).toBe(DEMO_START + 1_500);
  });

  it('shows the tool calls under their step: retries with backoff, a cache hit, a fallback to another tool', () => {
    const timeline = timelineOf(plain);
    const validate = stepOf(timeline, 'validate');
    expect(validate).toMatchObject({ startedAt: DEMO_START, endedAt: DEMO_START + 1_000 });
    expect(validate.calls).toHaveLength(1);
    expect(validate.calls[0]?.spans.map((span) => span.kind)).toEqual(['attempt', 'backoff', 'attempt']);
    expect(validate.calls[0]?.spans[1]).toMatchObject({ kind: 'backoff', delayMs: 1_000, until: DEMO_START + 1_000 });

    const cached = stepOf(timeline, 'status_again').calls[0];
    expect(cached?.outcome?.status).toBe('cached');
    expect(cached?.spans).toContainEqual(expect.objectContaining({ kind: 'cache', hit: true }));

    const byId = stepOf(timeline, 'by_id').calls[0];
    expect(byId?.outcome).toMatchObject({ status: 'fallback', tool: { tool: 'validate_schedule_tool' } });
    expect(byId?.spans).toContainEqual(
      expect.objectContaining({ kind: 'fallback', to: { server: 'scheduler', tool: 'validate_schedule_tool' } }),
    );
  });

  it('gives each step its state changes and the computed evaluations they caused; the initial ones to the run', () => {
    const timeline = timelineOf(plain);
    expect(timeline.computed.map(({ field, trigger, output }) => ({ field, trigger, output }))).toEqual([
      { field: 'computed.deployed_count', trigger: 'initial', output: 0 },
    ]);
    const second = stepOf(timeline, 'per_region[1].record');
    expect(second.stateUpdates).toEqual([
      {
        startedAt: DEMO_START + 1_000,
        endedAt: DEMO_START + 1_000,
        path: 'raw.deployed',
        op: 'append',
        value: ['eu', 'us'],
      },
    ]);
    expect(second.computed.map(({ field, trigger, output }) => ({ field, trigger, output }))).toEqual([
      { field: 'computed.deployed_count', trigger: 'raw.deployed update', output: 2 },
    ]);
    expect(timeline.stateUpdates).toEqual([]);
  });

  it('records a step’s attempts, its backoff with the due time, the fallback value and the skip', () => {
    const timeline = timelineOf(plain);
    const say = stepOf(timeline, 'notify/say');
    expect(say.attempts.map(({ n, outcome, startedAt }) => ({ n, outcome, startedAt }))).toEqual([
      { n: 1, outcome: 'failed', startedAt: DEMO_START + 1_000 },
      { n: 2, outcome: 'failed', startedAt: DEMO_START + 1_500 },
    ]);
    expect(say.backoffs).toEqual([
      { afterAttempt: 1, startedAt: DEMO_START + 1_000, endedAt: DEMO_START + 1_500, delayMs: 500 },
    ]);
    expect(say.error).toEqual({ message: 'no channel', type: 'error' });
    const notify = stepOf(timeline, 'notify');
    expect(notify.fallback).toMatchObject({ strategy: 'fallback', value: { notified: false } });
    expect(notify.workflow).toMatchObject({ actorId: 'notify:workflow', name: 'notify', status: 'failed' });
    expect(stepOf(timeline, 'tidy')).toMatchObject({ status: 'skipped', skipReason: 'when' });
    for (const item of timedItems(timeline)) {
      expect(item.endedAt).toBeDefined();
      expect(item.endedAt ?? 0).toBeGreaterThanOrEqual(item.startedAt);
    }
  });

  it('ends an escalated run with the escalation on its call', () => {
    const timeline = timelineOf(escalated);
    expect(timeline.status).toBe('escalated');
    const tidy = stepOf(timeline, 'tidy');
    expect(tidy.status).toBe('failed');
    expect(tidy.calls[0]?.spans).toContainEqual(
      expect.objectContaining({ kind: 'escalation', escalation: expect.objectContaining({ level: 'critical' }) }),
    );
    expect(timeline.final).toMatchObject({ status: 'escalated', error: { type: 'escalated' } });
  });

  it('folds live, in one pass and in pieces to the same timeline and metrics', () => {
    for (const run of [plain, escalated]) {
      const whole = replay(run.events);
      expect(run.live.workflows.get(run.runId)).toEqual(whole.workflows.get(run.runId));
      expect(run.live.workflowMetrics.get(run.runId)).toEqual(whole.workflowMetrics.get(run.runId));
      for (const cut of [1, 7, Math.floor(run.events.length / 2), run.events.length - 1]) {
        const timelines = foldAll(workflowTimelineProjection, run.events.slice(0, cut));
        const metrics = foldAll(workflowRunMetricsProjection, run.events.slice(0, cut));
        for (const event of run.events.slice(cut)) {
          foldInto(workflowTimelineProjection, timelines, event);
          foldInto(workflowRunMetricsProjection, metrics, event);
        }
        expect(timelines.get(run.runId)).toEqual(whole.workflows.get(run.runId));
        expect(metrics.get(run.runId)).toEqual(whole.workflowMetrics.get(run.runId));
      }
    }
  });

  it('stops at --until: a seq gives the run as it was then, a time cuts a backoff short', () => {
    const seq = 8;
    expect(replay(plain.events, { untilSeq: seq }).workflows.get(plain.runId)).toEqual(
      timelineOf(plain, plain.events.slice(0, seq)),
    );
    const during = replay(plain.events, { untilTs: DEMO_START + 999 }).workflows.get(plain.runId);
    expect(during?.status).toBe('running');
    expect(during?.final).toBeUndefined();
    expect(during?.steps.map((step) => `${step.key} ${step.status}`)).toEqual(['validate running']);
    expect(during?.steps[0]?.calls[0]?.spans.at(-1)).toMatchObject({ kind: 'backoff', until: DEMO_START + 1_000 });
    expect(formatWorkflowTimeline(during as WorkflowTimeline)).toMatch(/\(no end yet\)$/);
  });

  it('prints the tree with times from the run’s start, nesting by indentation', () => {
    const lines = formatWorkflowTimeline(timelineOf(plain)).split('\n');
    expect(lines[0]).toBe(
      `workflow timeline-demo (run ${plain.runId}) from workflow.yaml at 2025-01-01T00:00:00.000Z: succeeded`,
    );
    expect(lines).toContain('+0.000s   validate [mcp_call] succeeded in 1.000s');
    expect(lines).toContain('+0.000s       backoff 1000ms until +1.000s');
    expect(lines).toContain('+1.000s       cache hit, 0ms old');
    expect(lines).toContain('+1.000s     per_region[1].record [state_update] succeeded in 0.000s');
    expect(lines).toContain('+1.000s       state raw.deployed append → ["eu","us"]');
    expect(lines).toContain('+1.000s     notify/say [error] failed in 0.500s, 2 attempts: error: no channel');
    expect(lines).toContain('+1.000s       backoff 0.500s after attempt 1, next due +1.500s');
    expect(lines).toContain('+1.500s     fallback after error: no channel: result {"notified":false}');
    expect(lines).toContain('+1.500s   tidy [mcp_call] skipped (when is false)');
    expect(lines.at(-1)).toBe('+1.500s   run succeeded after 1.500s (10 steps): result {"deployed":2}');
  });

  it('leaves tool-call-only runs out', () => {
    const callOnly = plain.events
      .filter((event) => event.type.startsWith('toolcall.') && event.parentId === 'validate')
      .map(({ parentId: _parentId, ...event }) => ({ ...event, runId: 'call-run' }));
    expect(foldAll(workflowTimelineProjection, callOnly).size).toBe(0);
    expect(foldAll(workflowRunMetricsProjection, callOnly).size).toBe(0);
  });
});

describe('workflow metrics', () => {
  it('groups runs by workflow name: statuses, durations, steps, retries, fallbacks, escalations, per step', () => {
    const runs = replay([...plain.events, ...escalated.events]).workflowMetrics.values();
    const [report, ...others] = reportWorkflowMetrics(runs);
    expect(others).toEqual([]);
    expect(report).toMatchObject({
      name: 'timeline-demo',
      runs: { total: 2, succeeded: 1, escalated: 1, failed: 0, cancelled: 0, running: 0 },
      durationMs: { p50: 500, p95: 1_500, max: 1_500 },
      // 11 step actors in the first run (sub-workflow's included), 10 in the second (it stops at tidy).
      stepsExecuted: 21,
      stepsPerSecond: 21 / 2,
      retries: { steps: 2, toolCalls: 1 },
      fallbacks: { steps: 2, toolCalls: 1 },
      escalations: 1,
    });
    const byId = new Map(report?.steps.map((step) => [step.stepId, step]));
    expect(byId.get('validate')).toEqual({
      stepId: 'validate',
      executions: 2,
      failures: 0,
      fallbacks: 0,
      meanDurationMs: 500,
    });
    expect(byId.get('say')).toMatchObject({ executions: 2, failures: 2, meanDurationMs: 500 });
    expect(byId.get('notify')).toMatchObject({ executions: 2, failures: 0, fallbacks: 2, meanDurationMs: 500 });
    expect(byId.get('record')).toMatchObject({ executions: 4, failures: 0 });
    expect(byId.get('tidy')).toMatchObject({ executions: 2, failures: 1 });
    expect(byId.has('done')).toBe(true);
  });
});
