// The crash campaign's judgement of a crashed run's end (test/support/crashJudge.ts): a different status, state or
// result is never resumable; an error that differs only in its round is excused as external drift only when the
// server's counters and the log show status checks a kill cut after they reached the server.
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/events/parseEvent.js';
import { checkAgainst, RunState, type Baseline } from '../support/crashChecks.js';
import { judgeEnd, recordedAnswers, type EndEvidence, type RecordedAnswers } from '../support/crashJudge.js';
import { readOnlyTools, type RunEnd } from '../support/crashObserve.js';

const status = 'get_task_status_tool';
const start = 'start_background_task_tool';

/** How background-failure ends uninterrupted: the task fails at the fifth status check. */
function failedAt(round: number, overrides: Partial<RunEnd> = {}): RunEnd {
  return {
    status: 'failed',
    state: { raw: { task_id: 'task-1', outcome: 'failure' } },
    result: null,
    error: `Background task task-1 failed: poll wait_for_task: fail_when held at round ${round}`,
    ...overrides,
  };
}

function evidence(
  end: RunEnd,
  answers: Record<string, RecordedAnswers>,
  serverCalls: Record<string, number>,
): EndEvidence {
  return { end, answers: new Map(Object.entries(answers)), serverCalls };
}

/** Uninterrupted: 5 successful status checks and 1 planned fault, 6 calls on the server; one task start. */
const baseline = evidence(
  failedAt(5),
  { [status]: { succeeded: 5, failed: 1 }, [start]: { succeeded: 1, failed: 1 } },
  { [status]: 6, [start]: 2 },
);

/** Crashed: one status check reached the server and was cut by the kill, so the task failed a round earlier. */
const cutOnce = { [status]: { succeeded: 4, failed: 1 }, [start]: { succeeded: 1, failed: 1 } };
const cutOnceCalls = { [status]: 6, [start]: 2 };

describe('judgeEnd', () => {
  it('knows the example tools that are read-only by their annotations', () => {
    expect(readOnlyTools.has(status)).toBe(true);
    expect(readOnlyTools.has(start)).toBe(false);
  });

  it('calls an equal end the same', () => {
    expect(judgeEnd(baseline, evidence(failedAt(5), cutOnce, cutOnceCalls), readOnlyTools)).toEqual({
      verdict: 'same',
    });
  });

  it('excuses a round that a status check cut by a kill moved on, and says by how much', () => {
    const judgement = judgeEnd(baseline, evidence(failedAt(4), cutOnce, cutOnceCalls), readOnlyTools);
    expect(judgement).toMatchObject({ verdict: 'externalDrift', drifts: [{ tool: status, unanswered: 1, lag: 1 }] });
  });

  it('does not excuse another status, even with cut status checks', () => {
    const crashed = evidence(failedAt(4, { status: 'succeeded' }), cutOnce, cutOnceCalls);
    expect(judgeEnd(baseline, crashed, readOnlyTools).verdict).toBe('different');
  });

  it('does not excuse another final state, even with cut status checks', () => {
    const state = { raw: { task_id: 'task-1', outcome: 'success' } };
    expect(judgeEnd(baseline, evidence(failedAt(4, { state }), cutOnce, cutOnceCalls), readOnlyTools).verdict).toBe(
      'different',
    );
    expect(judgeEnd(baseline, evidence(failedAt(5, { state }), cutOnce, cutOnceCalls), readOnlyTools).verdict).toBe(
      'different',
    );
  });

  it('does not excuse another result or another waiting step', () => {
    expect(judgeEnd(baseline, evidence(failedAt(4, { result: 1 }), cutOnce, cutOnceCalls), readOnlyTools).verdict).toBe(
      'different',
    );
    expect(
      judgeEnd(baseline, evidence(failedAt(4, { waitingOn: 'cancel_task' }), cutOnce, cutOnceCalls), readOnlyTools)
        .verdict,
    ).toBe('different');
  });

  it('does not excuse another error', () => {
    const error = 'poll wait_for_task failed: MCP error -32000: Connection closed';
    expect(judgeEnd(baseline, evidence(failedAt(4, { error }), cutOnce, cutOnceCalls), readOnlyTools).verdict).toBe(
      'different',
    );
  });

  it('does not excuse an earlier round when every status call the server got has its answer in the log', () => {
    const crashed = evidence(failedAt(4), cutOnce, { [status]: 5, [start]: 2 });
    expect(judgeEnd(baseline, crashed, readOnlyTools).verdict).toBe('different');
  });

  it('does not excuse a round the run fell behind by more than the cut status calls', () => {
    const crashed = evidence(
      failedAt(3),
      { ...cutOnce, [status]: { succeeded: 3, failed: 1 } },
      { [status]: 5, [start]: 2 },
    );
    expect(judgeEnd(baseline, crashed, readOnlyTools).verdict).toBe('different');
  });

  it('does not excuse a changed round when the run did not fall behind the server', () => {
    const crashed = evidence(failedAt(6), { ...cutOnce, [status]: { succeeded: 5, failed: 1 } }, { [status]: 7 });
    expect(judgeEnd(baseline, crashed, readOnlyTools).verdict).toBe('different');
  });

  it('does not count cut calls of a tool that is not read-only', () => {
    const crashed = evidence(failedAt(4), cutOnce, { [status]: 5, [start]: 3 });
    expect(judgeEnd(baseline, crashed, readOnlyTools).verdict).toBe('different');
  });

  it('takes no evidence from an uninterrupted run whose counters do not balance', () => {
    const unbalanced = evidence(failedAt(5), { [status]: { succeeded: 5, failed: 1 } }, { [status]: 7 });
    expect(judgeEnd(unbalanced, evidence(failedAt(4), cutOnce, cutOnceCalls), readOnlyTools).verdict).toBe('different');
  });
});

describe('checkAgainst', () => {
  const uninterrupted: Baseline = {
    ...baseline,
    eventCount: 0,
    starts: new Map(),
    server: { effects: [], calls: baseline.serverCalls, deployments: [] },
  };
  const server = { effects: [], calls: cutOnceCalls, deployments: [] };

  it('makes another final state a notResumable violation', () => {
    const run = new RunState('background-failure#1');
    const state = { raw: { task_id: 'task-1', outcome: 'success' } };
    expect(checkAgainst(run, uninterrupted, failedAt(5, { state }), [], server)).toBeUndefined();
    expect(run.violations.map((violation) => violation.kind)).toEqual(['notResumable']);
  });

  it('reports an explained drift apart, as no violation', () => {
    const run = new RunState('background-failure#2');
    // No events: the log recorded no answer, so all 6 status calls the server got are unanswered, lag 5.
    expect(checkAgainst(run, uninterrupted, failedAt(4), [], server)).toMatch(/get_task_status_tool: 6 call/);
    expect(run.violations).toEqual([]);
  });
});

describe('recordedAnswers', () => {
  const envelope = (seq: number, type: string, data: Record<string, unknown>) =>
    parseEvent({
      v: 1,
      id: `01JD00000000000000000000${seq}`,
      runId: 'run-1',
      actorId: 'call-1',
      seq,
      ts: 1,
      type,
      data,
    });
  const failure = {
    class: 'transient',
    kind: 'unavailable',
    retryable: true,
    maybeExecuted: true,
    message: 'connection lost',
    rule: 'default:connection',
    cause: { source: 'rpc', code: -32000, message: 'MCP error -32000: Connection closed' },
  };
  const succeeded = {
    server: 'scheduler',
    tool: status,
    status: 'succeeded',
    cacheable: false,
    args: {},
    warnings: [],
  };

  it('counts failed attempts and the successes an attempt gave, not an answer from the cache', () => {
    const events = [
      envelope(10, 'toolcall.attempt.started', { server: 'scheduler', tool: status, n: 1, route: 'primary' }),
      envelope(11, 'toolcall.attempt.failed', {
        server: 'scheduler',
        tool: status,
        n: 1,
        durationMs: 3,
        failure,
        decision: 'retry',
        reason: 'transient',
        probeToken: 'p1',
      }),
      envelope(12, 'toolcall.attempt.started', { server: 'scheduler', tool: status, n: 2, route: 'primary' }),
      envelope(13, 'toolcall.succeeded', { ...succeeded, n: 2, probeToken: 'p2' }),
      envelope(14, 'toolcall.succeeded', succeeded),
      // Started, then cut by a kill: no answer.
      envelope(15, 'toolcall.attempt.started', { server: 'scheduler', tool: status, n: 1, route: 'primary' }),
    ];
    expect(recordedAnswers(events)).toEqual(new Map([[status, { succeeded: 1, failed: 1 }]]));
  });
});
