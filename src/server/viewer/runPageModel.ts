// What a run page shows, computed on the server from a run's events with the projections: the run, its timeline,
// its errors with their classification and its escalations with their recommended actions.
import type { EventEnvelope } from '../../events/envelope.js';
import { isRecord, numberOr, stringOr, type Data } from '../../store/projections/eventData.js';
import { foldAll } from '../../store/projections/projection.js';
import {
  initialWorkflowRun,
  workflowRunProjection,
  type WorkflowRunView,
} from '../../store/projections/workflowRun.js';
import { initialWorkflowTimeline, type WorkflowTimeline } from '../../store/projections/workflowSpans.js';
import { workflowTimelineProjection } from '../../store/projections/workflowTimeline.js';

/** One failure of the run: an attempt's classified failure, a step's error, or the run's own. */
export interface RunErrorItem {
  seq: number;
  at: number;
  /** `attempt` (a tool call's attempt), `call` (a tool call's outcome), `step`, `run`. */
  source: 'attempt' | 'call' | 'step' | 'run';
  /** The step actor it happened in (`deploy`, `per_region[1].record`), empty when none. */
  step: string;
  /** `server/tool` for a tool call's failure. */
  tool: string;
  /** transient | permanent | degraded for a classified tool failure; empty for a step's error (its kind says it). */
  class: string;
  kind: string;
  message: string;
  /** What the tool-call machine or the step did about it: retry, fallback, escalate, fail… (or the event's name). */
  decision: string;
}

export interface RunEscalationItem {
  seq: number;
  at: number;
  step: string;
  level: string;
  trigger: string;
  tool: string;
  message: string;
  recommendedAction: string;
  suggestions: readonly string[];
  /** `toolcall.advisory.raised`: a cross-call trigger, not the call's outcome. */
  advisory: boolean;
}

export interface RunPageModel {
  runId: string;
  run: WorkflowRunView;
  timeline: WorkflowTimeline;
  /** Undefined while the run has not started or not ended. */
  durationMs: number | undefined;
  errors: readonly RunErrorItem[];
  escalations: readonly RunEscalationItem[];
  /** The run's events in seq order: the page folds them up to its scrubber. */
  events: readonly EventEnvelope[];
}

/** The step a fact belongs to: a step event's actor, a tool call's parent (the mcp_call step). */
function stepOf(event: EventEnvelope): string {
  if (event.type.startsWith('workflow.step.')) return event.actorId;
  if (event.type.startsWith('toolcall.')) return event.parentId ?? '';
  return '';
}

function errorItem(
  event: EventEnvelope,
  source: RunErrorItem['source'],
  failure: Data,
  decision: string,
): RunErrorItem {
  const { data } = event;
  const server = stringOr(data['server'], '');
  const tool = stringOr(data['tool'], '');
  return {
    seq: event.seq,
    at: event.ts,
    source,
    step: stepOf(event),
    tool: server === '' && tool === '' ? '' : `${server}/${tool}`,
    class: stringOr(failure['class'], ''),
    kind: stringOr(failure['kind'], stringOr(failure['type'], '')),
    message: stringOr(failure['message'], ''),
    decision,
  };
}

const stepDecisions: Readonly<Record<string, string>> = {
  'workflow.step.retrying': 'retry',
  'workflow.step.fallback': 'fallback',
  'workflow.step.failed': 'fail',
};

const runDecisions: Readonly<Record<string, string>> = {
  'workflow.failed': 'failed',
  'workflow.escalated': 'escalated',
  'workflow.cancelled': 'cancelled',
};

/** The failure an event records, if any. */
export function readErrorItem(event: EventEnvelope): RunErrorItem | undefined {
  const { type, data } = event;
  if (type === 'toolcall.attempt.failed' && isRecord(data['failure'])) {
    return errorItem(event, 'attempt', data['failure'], stringOr(data['decision'], ''));
  }
  if (type === 'toolcall.failed' && isRecord(data['error'])) return errorItem(event, 'call', data['error'], 'failed');
  const stepDecision = stepDecisions[type];
  if (stepDecision !== undefined && isRecord(data['error'])) {
    return errorItem(event, 'step', data['error'], stepDecision);
  }
  const runDecision = event.actorId === event.runId ? runDecisions[type] : undefined;
  if (runDecision !== undefined && isRecord(data['error'])) return errorItem(event, 'run', data['error'], runDecision);
  return undefined;
}

/** The escalation (or advisory) an event records, if any. */
export function readEscalationItem(event: EventEnvelope): RunEscalationItem | undefined {
  const advisory = event.type === 'toolcall.advisory.raised';
  if (event.type !== 'toolcall.escalated' && !advisory) return undefined;
  const escalation = event.data['escalation'];
  if (!isRecord(escalation)) return undefined;
  const suggestions = Array.isArray(escalation['suggestions']) ? escalation['suggestions'].map(String) : [];
  return {
    seq: event.seq,
    at: numberOr(escalation['at'], event.ts),
    step: stepOf(event),
    level: stringOr(escalation['level'], ''),
    trigger: stringOr(escalation['trigger'], ''),
    tool: `${stringOr(escalation['server'], '')}/${stringOr(escalation['tool'], '')}`,
    message: stringOr(escalation['message'], ''),
    recommendedAction: stringOr(escalation['recommendedAction'], ''),
    suggestions,
    advisory,
  };
}

/** The page's model of a workflow run's events (in seq order); the same projections as `retrace replay`. */
export function buildRunPageModel(events: readonly EventEnvelope[]): RunPageModel {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const runId = ordered[0]?.runId ?? '';
  const run = foldAll(workflowRunProjection, ordered).get(runId) ?? initialWorkflowRun;
  const timeline = foldAll(workflowTimelineProjection, ordered).get(runId) ?? initialWorkflowTimeline;
  const errors: RunErrorItem[] = [];
  const escalations: RunEscalationItem[] = [];
  for (const event of ordered) {
    const error = readErrorItem(event);
    if (error) errors.push(error);
    const escalation = readEscalationItem(event);
    if (escalation) escalations.push(escalation);
  }
  const { startedAt, endedAt } = run;
  return {
    runId,
    run,
    timeline,
    durationMs: startedAt === undefined || endedAt === undefined ? undefined : endedAt - startedAt,
    errors,
    escalations,
    events: ordered,
  };
}
