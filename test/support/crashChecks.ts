// The crash campaign's checks of a run that has ended: the calls the server saw against the attempts the log recorded,
// and the run against its uninterrupted one (its end, through crashJudge.ts; steps rerun; non-idempotent repeats).
import type { EventEnvelope } from '../../src/events/envelope.js';
import { judgeEnd, recordedAnswers, type EndEvidence } from './crashJudge.js';
import {
  attemptsPerTool,
  countBy,
  nonIdempotentTools,
  readOnlyTools,
  startsAfterSuccess,
  type RunEnd,
  type ServerSeen,
} from './crashObserve.js';

export const violationKinds = [
  /** A step whose `workflow.step.succeeded` was durable after a kill is no longer succeeded in the log. */
  'completedStepLost',
  /** A step started again (or its command ran again) after its success was durable. */
  'completedStepRerun',
  /** A non-idempotent call or command took effect (or was sent) more often than the uninterrupted run, a person's retries aside. */
  'nonIdempotentRepeat',
  /**
   * The run did not end as the uninterrupted run does (status, state, result, waiting step; the error too, unless cut
   * reads explain it: see `externalDrift`), or a process failed.
   */
  'notResumable',
  /** The server received more calls of a non-idempotent tool than the log recorded attempts of it. */
  'unrecordedCall',
] as const;
export type ViolationKind = (typeof violationKinds)[number];

export interface Violation {
  kind: ViolationKind;
  run: string;
  message: string;
}

/** An uninterrupted run of a scenario: what every crashed run of it must end with (its end, answers and server calls). */
export interface Baseline extends EndEvidence {
  eventCount: number;
  starts: Map<string, number>;
  server: ServerSeen;
}

export class RunState {
  readonly violations: Violation[] = [];
  private readonly reported = new Set<string>();
  /** Per tool or command step: the person's retries. */
  readonly retries = new Map<string, number>();

  constructor(private readonly run: string) {}

  violate(kind: ViolationKind, subject: string, message: string): void {
    if (this.reported.has(`${kind}:${subject}`)) return;
    this.reported.add(`${kind}:${subject}`);
    this.violations.push({ kind, run: this.run, message });
  }
}

/** The server saw no call of a non-idempotent tool the log did not record an attempt of (durable before it is sent). */
export function checkCalls(run: RunState, events: readonly EventEnvelope[], server: ServerSeen): void {
  const attempts = attemptsPerTool(events);
  for (const [tool, calls] of Object.entries(server.calls)) {
    if (!nonIdempotentTools.has(tool)) continue;
    const recorded = attempts.get(tool) ?? 0;
    if (calls > recorded)
      run.violate(
        'unrecordedCall',
        tool,
        `${tool}: the server got ${calls} calls, the log recorded ${recorded} attempts`,
      );
  }
}

/** Checks the run against the uninterrupted one; answers the evidence of an external drift when its end shows one. */
export function checkAgainst(
  run: RunState,
  baseline: Baseline,
  end: RunEnd,
  events: readonly EventEnvelope[],
  server: ServerSeen,
): string | undefined {
  const judgement = judgeEnd(
    baseline,
    { end, answers: recordedAnswers(events), serverCalls: server.calls },
    readOnlyTools,
  );
  if (judgement.verdict === 'different') run.violate('notResumable', 'end', judgement.message);
  for (const [actor, starts] of startsAfterSuccess(events)) {
    const designed = baseline.starts.get(actor) ?? 0;
    if (starts > designed)
      run.violate('completedStepRerun', actor, `${actor} started ${starts - designed} more time(s) after it succeeded`);
  }
  const effects = countBy(server.effects, (effect) => effect.tool);
  const baselineEffects = countBy(baseline.server.effects, (effect) => effect.tool);
  for (const tool of nonIdempotentTools) {
    const made = effects.get(tool) ?? 0;
    if (made > (baselineEffects.get(tool) ?? 0))
      run.violate(
        'nonIdempotentRepeat',
        `${tool}:effects`,
        `${tool} took effect ${made} times, ${baselineEffects.get(tool) ?? 0} uninterrupted`,
      );
    const calls = server.calls[tool] ?? 0;
    const allowed = (baseline.server.calls[tool] ?? 0) + (run.retries.get(tool) ?? 0);
    if (calls > allowed)
      run.violate(
        'nonIdempotentRepeat',
        `${tool}:calls`,
        `${tool} was called ${calls} times, ${allowed} allowed (uninterrupted, plus a person's retries)`,
      );
  }
  return judgement.verdict === 'externalDrift' ? judgement.message : undefined;
}
