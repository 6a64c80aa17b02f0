// Workflow metrics: a pure per-run fold (status, duration, steps, retries, fallbacks, escalations, per-step figures),
// and the report that groups the runs by workflow name (runs by status, duration percentiles, steps per second).
import type { EventEnvelope } from '../../events/envelope.js';
import { terminalStatus } from '../eventStore.js';
import { readAttemptFailed } from './eventData.js';
import {
  noAttemptsInFlight,
  startedAtOf,
  withAttempt,
  withoutAttempt,
  type InFlightAttempts,
} from './inFlightAttempts.js';
import { emptyHistogram, recordLatency, summarizeLatency, type LatencyHistogram } from './latencyHistogram.js';
import type { Projection } from './projection.js';
import { readAttempt, readStep, readWorkflowStarted, type WorkflowRunStatus } from './workflowData.js';

/** One step id's figures in a run. */
export interface StepStats {
  /** Step actors of this id that started or were skipped. */
  executions: number;
  failures: number;
  fallbacks: number;
  /** Ended executions that ran (skipped ones take no time) and their summed duration. */
  timed: number;
  durationMs: number;
}

export interface WorkflowRunMetrics {
  runId: string;
  name: string;
  status: WorkflowRunStatus;
  startedAt: number;
  endedAt: number | undefined;
  /** Step actors started or skipped, nested and sub-workflow ones included (a final's `steps` leaves out a sub-workflow's). */
  stepsExecuted: number;
  /** `workflow.step.retrying`: a step's own retries. */
  stepRetries: number;
  /** Tool-call attempts that failed and were retried, under the run's mcp_call steps. */
  toolRetries: number;
  /** Steps recovered by `on_error: fallback | continue`. */
  stepFallbacks: number;
  /** Tool calls that moved to their next fallback tool. */
  toolFallbacks: number;
  /** Tool calls that escalated. */
  escalations: number;
  /** By step id. */
  steps: Readonly<Record<string, StepStats>>;
  /** Steps under way, by actor id: when they started. */
  open: InFlightAttempts;
}

export const initialWorkflowRunMetrics: WorkflowRunMetrics = {
  runId: '',
  name: '',
  status: 'running',
  startedAt: 0,
  endedAt: undefined,
  stepsExecuted: 0,
  stepRetries: 0,
  toolRetries: 0,
  stepFallbacks: 0,
  toolFallbacks: 0,
  escalations: 0,
  steps: {},
  open: noAttemptsInFlight,
};

const noStats: StepStats = { executions: 0, failures: 0, fallbacks: 0, timed: 0, durationMs: 0 };

/** The copy of `next` with one step id's figures changed. */
function withStats(next: WorkflowRunMetrics, stepId: string, change: (stats: StepStats) => StepStats): void {
  next.steps = { ...next.steps, [stepId]: change(next.steps[stepId] ?? noStats) };
}

/** A step's end: counted under its id with its duration (from its first start), no longer open. */
function stepEnded(next: WorkflowRunMetrics, event: EventEnvelope, failed: boolean, fallback: boolean): void {
  const { stepId } = readStep(event.data);
  const startedAt = startedAtOf(next.open, event.actorId);
  next.open = withoutAttempt(next.open, event.actorId);
  withStats(next, stepId, (stats) => ({
    executions: stats.executions,
    failures: stats.failures + (failed ? 1 : 0),
    fallbacks: stats.fallbacks + (fallback ? 1 : 0),
    timed: stats.timed + (startedAt === undefined ? 0 : 1),
    durationMs: stats.durationMs + (startedAt === undefined ? 0 : Math.max(0, event.ts - startedAt)),
  }));
}

function stepOpened(next: WorkflowRunMetrics, event: EventEnvelope): void {
  next.stepsExecuted += 1;
  withStats(next, readStep(event.data).stepId, (stats) => ({ ...stats, executions: stats.executions + 1 }));
}

export function reduceWorkflowRunMetrics(state: WorkflowRunMetrics, event: EventEnvelope): WorkflowRunMetrics {
  const { type, data } = event;
  if (state.runId === '' && (type !== 'workflow.started' || event.parentId !== undefined)) return state;
  const next: WorkflowRunMetrics = { ...state };
  switch (type) {
    case 'workflow.started':
      if (state.runId !== '') return state;
      next.runId = event.runId;
      next.name = readWorkflowStarted(data).name;
      next.startedAt = event.ts;
      return next;
    case 'workflow.step.started':
      if (readAttempt(data) === 1) {
        stepOpened(next, event);
        next.open = withAttempt(next.open, { callId: event.actorId, startedAt: event.ts });
      }
      next.status = 'running';
      next.endedAt = undefined;
      return next;
    case 'workflow.step.skipped':
      stepOpened(next, event);
      return next;
    case 'workflow.step.retrying':
      next.stepRetries += 1;
      return next;
    case 'workflow.step.succeeded':
    case 'workflow.step.cancelled':
      stepEnded(next, event, false, false);
      return next;
    case 'workflow.step.failed':
      stepEnded(next, event, true, false);
      return next;
    case 'workflow.step.fallback':
      next.stepFallbacks += 1;
      stepEnded(next, event, false, true);
      return next;
    case 'toolcall.attempt.failed':
      if (readAttemptFailed(data).decision !== 'retry') return state;
      next.toolRetries += 1;
      return next;
    case 'toolcall.fallback.started':
      next.toolFallbacks += 1;
      return next;
    case 'toolcall.escalated':
      next.escalations += 1;
      return next;
    default: {
      // The run's own end; a sub-workflow's (it has a parent step) is one of its steps.
      const status = type.startsWith('workflow.') && event.parentId === undefined ? terminalStatus(type) : undefined;
      if (status === undefined || status === 'running') return state;
      next.status = status;
      next.endedAt = event.ts;
      return next;
    }
  }
}

/** Per workflow run, keyed by runId; only a workflow's events and its tool calls' (they have a parent) are read. */
export const workflowRunMetricsProjection: Projection<WorkflowRunMetrics> = {
  initial: initialWorkflowRunMetrics,
  reduce: reduceWorkflowRunMetrics,
  keyOf: (event) => (event.type.startsWith('workflow.') || event.parentId !== undefined ? event.runId : undefined),
};

export interface StepMetricsReport {
  stepId: string;
  executions: number;
  failures: number;
  fallbacks: number;
  meanDurationMs: number;
}

/** What `retrace metrics` shows of one workflow name. */
export interface WorkflowMetricsReport {
  name: string;
  runs: Record<WorkflowRunStatus, number> & { total: number };
  /** Over the ended runs. */
  durationMs: { p50: number; p95: number; max: number };
  stepsExecuted: number;
  /** Steps executed by the ended runs over their summed durations: the pace a run goes at. */
  stepsPerSecond: number;
  retries: { steps: number; toolCalls: number };
  fallbacks: { steps: number; toolCalls: number };
  escalations: number;
  /** By step id, in the order first seen. */
  steps: StepMetricsReport[];
}

function emptyReport(name: string): WorkflowMetricsReport {
  return {
    name,
    runs: { total: 0, running: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0 },
    durationMs: { p50: 0, p95: 0, max: 0 },
    stepsExecuted: 0,
    stepsPerSecond: 0,
    retries: { steps: 0, toolCalls: 0 },
    fallbacks: { steps: 0, toolCalls: 0 },
    escalations: 0,
    steps: [],
  };
}

/** One workflow name's report, with the histogram of its ended runs' durations the report's percentiles come from. */
export interface WorkflowMetricsGroup {
  report: WorkflowMetricsReport;
  durations: LatencyHistogram;
}

/** Groups the runs' figures by workflow name (sorted by name). */
export function reportWorkflowMetrics(runs: Iterable<WorkflowRunMetrics>): WorkflowMetricsReport[] {
  return groupWorkflowMetrics(runs).map((group) => group.report);
}

/** The same grouping, keeping each group's duration histogram (the metrics endpoint exposes it whole). */
export function groupWorkflowMetrics(runs: Iterable<WorkflowRunMetrics>): WorkflowMetricsGroup[] {
  const groups = new Map<
    string,
    {
      report: WorkflowMetricsReport;
      durations: LatencyHistogram;
      endedSteps: number;
      steps: Map<string, StepStats>;
    }
  >();
  for (const run of runs) {
    let group = groups.get(run.name);
    if (!group) {
      group = { report: emptyReport(run.name), durations: emptyHistogram, endedSteps: 0, steps: new Map() };
      groups.set(run.name, group);
    }
    const { report } = group;
    report.runs.total += 1;
    report.runs[run.status] += 1;
    report.stepsExecuted += run.stepsExecuted;
    report.retries.steps += run.stepRetries;
    report.retries.toolCalls += run.toolRetries;
    report.fallbacks.steps += run.stepFallbacks;
    report.fallbacks.toolCalls += run.toolFallbacks;
    report.escalations += run.escalations;
    if (run.endedAt !== undefined) {
      group.durations = recordLatency(group.durations, run.endedAt - run.startedAt);
      group.endedSteps += run.stepsExecuted;
    }
    for (const [stepId, stats] of Object.entries(run.steps)) {
      const sum = group.steps.get(stepId) ?? noStats;
      group.steps.set(stepId, {
        executions: sum.executions + stats.executions,
        failures: sum.failures + stats.failures,
        fallbacks: sum.fallbacks + stats.fallbacks,
        timed: sum.timed + stats.timed,
        durationMs: sum.durationMs + stats.durationMs,
      });
    }
  }
  return [...groups.values()]
    .map(({ report, durations, endedSteps, steps }) => {
      const summary = summarizeLatency(durations);
      report.durationMs = { p50: summary.p50Ms, p95: summary.p95Ms, max: summary.maxMs };
      report.stepsPerSecond = summary.count === 0 || durations.sumMs === 0 ? 0 : endedSteps / (durations.sumMs / 1000);
      report.steps = [...steps].map(([stepId, stats]) => ({
        stepId,
        executions: stats.executions,
        failures: stats.failures,
        fallbacks: stats.fallbacks,
        meanDurationMs: stats.timed === 0 ? 0 : stats.durationMs / stats.timed,
      }));
      return { report, durations };
    })
    .sort((a, b) => a.report.name.localeCompare(b.report.name));
}
