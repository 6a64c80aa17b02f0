// Workflow runs as the log and their owner files say: one run, the runs of a store, and following a run to its end.
import { ErrorCode, isRetraceError, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { EventStore } from '../store/eventStore.js';
import {
  initialWorkflowRun,
  reduceWorkflowRun,
  statusWithOwner,
  workflowRunFinal,
  type ObservedRunStatus,
  type WorkflowRunView,
} from '../store/projections/workflowRun.js';
import { liveOwner, type RunOwner } from './runOwnership.js';

/** A workflow run as `status` shows it: the projection's view, its owner if live, and the status both give. */
export interface ObservedRun {
  view: WorkflowRunView;
  owner: RunOwner | undefined;
  status: ObservedRunStatus;
}

export const foldWorkflowRun = (events: readonly EventEnvelope[]): WorkflowRunView =>
  events.reduce(reduceWorkflowRun, initialWorkflowRun);

/** Ended for good (escalated is not: a person decides, and the run goes on). */
export const hasEnded = (status: ObservedRunStatus): boolean =>
  status === 'succeeded' || status === 'failed' || status === 'cancelled';

/** The workflow run `runId` as the log and its owner file say; E_UNKNOWN_RUN when the log has no such workflow run. */
export async function observeRun(store: EventStore, dataDir: string, runId: string): Promise<ObservedRun> {
  const events = await store.read(runId);
  const view = foldWorkflowRun(events);
  if (view.startedAt === undefined) {
    const what = events.length === 0 ? 'no run' : 'no workflow run';
    throw new RetraceError(ErrorCode.unknownRun, `${what} "${runId}" in the log (see retrace status --all)`);
  }
  // A run waiting on an escalation may be kept by a live process too (a resolve is then sent to it).
  const owner = view.status === 'running' || view.status === 'escalated' ? await liveOwner(dataDir, runId) : undefined;
  return { view, owner, status: statusWithOwner(view, owner !== undefined) };
}

/** The store's workflow runs, oldest first: those running, interrupted or escalated, or with `all` every one. */
export async function observeRuns(store: EventStore, dataDir: string, all: boolean): Promise<ObservedRun[]> {
  const observed: ObservedRun[] = [];
  const summaries = (await store.runs()).sort((a, b) => a.firstTs - b.firstTs);
  for (const summary of summaries) {
    // The summary knows an ended run without reading it: only the runs to show are read.
    if (!all && hasEnded(summary.status)) continue;
    try {
      observed.push(await observeRun(store, dataDir, summary.runId));
    } catch (error) {
      if (!isRetraceError(error) || error.code !== ErrorCode.unknownRun) throw error;
    }
  }
  return observed.filter((run) => all || !hasEnded(run.status));
}

/** `{ runId, status, state, result, error? }` (for an ended run exactly `run --json`'s last line), more while it runs. */
export function statusJson(observed: ObservedRun): Record<string, unknown> {
  const { view, owner, status } = observed;
  const final = workflowRunFinal(view, status);
  if (status !== 'running' && status !== 'interrupted') return { ...final };
  return { ...final, currentSteps: view.currentSteps, steps: view.steps, ...(owner ? { owner } : {}) };
}

export interface FollowRunOptions {
  /** Give up after this long (the run as last seen is returned). */
  timeoutMs?: number | undefined;
  /** Only an end reached after a `workflow.resolved` past this seq counts (a resolution being acted on). */
  afterSeq?: number | undefined;
  /** Each event of the run as it is seen (progress). */
  onEvent?: ((event: EventEnvelope, view: WorkflowRunView) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Follows `runId` in the log until it ends (or escalates), the timeout passes or the signal aborts; returns the run as last seen. */
export async function waitForRunEnd(
  store: EventStore,
  runId: string,
  options: FollowRunOptions = {},
): Promise<WorkflowRunView> {
  const { timeoutMs, afterSeq, onEvent, signal } = options;
  const controller = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
  const stop = () => controller.abort();
  signal?.addEventListener('abort', stop, { once: true });
  let resolved = afterSeq === undefined;
  const see = (view: WorkflowRunView, event: EventEnvelope) => {
    if (afterSeq !== undefined && event.seq > afterSeq && event.type === 'workflow.resolved') resolved = true;
    const next = reduceWorkflowRun(view, event);
    onEvent?.(event, next);
    return next;
  };
  const ended = (view: WorkflowRunView): boolean => resolved && view.status !== 'running';
  try {
    // Tail first, then read: what lands between the two comes with the tail (seen twice at most, skipped by seq).
    const live = store.tail({ runId, signal: controller.signal });
    let view = (await store.read(runId)).reduce(see, foldWorkflowRun([]));
    if (ended(view) || controller.signal.aborted) return view;
    for await (const event of live) {
      if (event.seq <= view.lastSeq) continue;
      view = see(view, event);
      if (ended(view)) break;
    }
    return view;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
    controller.abort();
  }
}
