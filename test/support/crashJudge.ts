// How the crash campaign judges a crashed run's end against the uninterrupted run's: the same end, the same end whose
// error text drifted with the external world (a read the kill cut short had already moved the server on), or a
// different end (not resumable).
import { isDeepStrictEqual } from 'node:util';
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { RunEnd } from './crashObserve.js';

/** Answers the log recorded per tool: attempts that themselves succeeded, and attempts that failed. */
export interface RecordedAnswers {
  succeeded: number;
  failed: number;
}

/** What a run's end is judged by: the end the log gives, the answers it recorded, the calls the server counted. */
export interface EndEvidence {
  end: RunEnd;
  answers: ReadonlyMap<string, RecordedAnswers>;
  /** Calls the server received per tool (its own counter, in its state file; planned faults included). */
  serverCalls: Readonly<Record<string, number>>;
}

/** A read-only tool whose calls the kills cut after they reached the server, and how far the run's view fell behind. */
export interface ReadDrift {
  tool: string;
  /** Calls the server received whose answer no process recorded (cut by a kill after they were sent). */
  unanswered: number;
  /** Successful answers the uninterrupted run needed beyond this run's: rounds the server moved on unseen. */
  lag: number;
}

export type EndJudgement =
  | { verdict: 'same' }
  /** Status, state, result and waiting step as uninterrupted; only the error's numbers differ, and cut reads explain it. */
  | { verdict: 'externalDrift'; drifts: ReadDrift[]; message: string }
  | { verdict: 'different'; message: string };

/** Per tool, the attempts whose answer is in the log: `toolcall.attempt.failed`, and `toolcall.succeeded` an attempt gave. */
export function recordedAnswers(events: readonly EventEnvelope[]): Map<string, RecordedAnswers> {
  const answers = new Map<string, RecordedAnswers>();
  const of = (tool: string): RecordedAnswers => {
    const known = answers.get(tool) ?? { succeeded: 0, failed: 0 };
    answers.set(tool, known);
    return known;
  };
  for (const event of events) {
    if (event.type === 'toolcall.attempt.failed') of(String(event.data['tool'])).failed += 1;
    // A success without `n` came from the cache or a fallback value: no call answered it.
    if (event.type === 'toolcall.succeeded' && event.data['n'] !== undefined)
      of(String(event.data['tool'])).succeeded += 1;
  }
  return answers;
}

/** The text with every run of digits replaced: two errors of one kind that differ only in a count or round. */
function shapeOf(text: string): string {
  return text.replace(/\d+/g, '#');
}

function unansweredCalls(evidence: EndEvidence, tool: string): number {
  const answers = evidence.answers.get(tool) ?? { succeeded: 0, failed: 0 };
  return (evidence.serverCalls[tool] ?? 0) - answers.succeeded - answers.failed;
}

function driftOf(baseline: EndEvidence, crashed: EndEvidence, tool: string): ReadDrift | undefined {
  // The uninterrupted run's counters must balance, or they explain nothing.
  if (unansweredCalls(baseline, tool) !== 0) return undefined;
  const unanswered = unansweredCalls(crashed, tool);
  const lag = (baseline.answers.get(tool)?.succeeded ?? 0) - (crashed.answers.get(tool)?.succeeded ?? 0);
  // Each cut call moved the server on at most one answer: the run can have fallen behind by no more than that.
  return unanswered > 0 && lag > 0 && lag <= unanswered ? { tool, unanswered, lag } : undefined;
}

/**
 * Judges `crashed` against the uninterrupted `baseline`. Status, state, result, the step waited on and the trigger must
 * be equal. The error text may differ only in its numbers, and only when a read-only tool shows it: the server counted
 * calls of it whose answers the log never recorded (sent, then cut by a kill), and the run needed fewer successful
 * answers of it than the uninterrupted run, by no more than those cut calls. Anything else is a different end.
 */
export function judgeEnd(
  baseline: EndEvidence,
  crashed: EndEvidence,
  readOnlyTools: ReadonlySet<string>,
): EndJudgement {
  const text = (value: RunEnd) => JSON.stringify(value).slice(0, 600);
  const different = `ended ${text(crashed.end)}; the uninterrupted run ended ${text(baseline.end)}`;
  if (isDeepStrictEqual(crashed.end, baseline.end)) return { verdict: 'same' };
  const { error: crashedError, ...crashedRest } = crashed.end;
  const { error: baselineError, ...baselineRest } = baseline.end;
  if (!isDeepStrictEqual(crashedRest, baselineRest)) return { verdict: 'different', message: different };
  if (crashedError === undefined || baselineError === undefined || shapeOf(crashedError) !== shapeOf(baselineError))
    return { verdict: 'different', message: `${different} (another error)` };
  const drifts = [...readOnlyTools].sort().flatMap((tool) => driftOf(baseline, crashed, tool) ?? []);
  if (drifts.length === 0)
    return { verdict: 'different', message: `${different} (no read cut by a kill explains the error's numbers)` };
  const why = drifts.map((d) => `${d.tool}: ${d.unanswered} call(s) unanswered in the log, ${d.lag} answer(s) fewer`);
  return {
    verdict: 'externalDrift',
    drifts,
    message: `error ${JSON.stringify(crashedError)}, uninterrupted ${JSON.stringify(baselineError)}; ${why.join('; ')}`,
  };
}
