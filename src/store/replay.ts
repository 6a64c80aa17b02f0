// Replay: folds recorded events through the projections (the same reducers as live): runs, tool metrics, call and
// workflow timelines, workflow run metrics.
import type { EventEnvelope } from '../events/envelope.js';
import { decodeTrustedEvent } from '../events/parseEvent.js';
import type { EventStore } from './eventStore.js';
import { foldInto } from './projections/projection.js';
import { runStateProjection, type RunState } from './projections/runState.js';
import { timelineProjection, type Timeline } from './projections/timeline.js';
import { toolMetricsProjection, type ProjectedToolMetrics } from './projections/toolMetrics.js';
import { workflowRunMetricsProjection, type WorkflowRunMetrics } from './projections/workflowMetrics.js';
import type { WorkflowTimeline } from './projections/workflowSpans.js';
import { workflowTimelineProjection } from './projections/workflowTimeline.js';

export { formatTimeline, type TimelineFormat } from './timelineFormat.js';

export interface ReplayOptions {
  /** Stop each run at this seq (inclusive): the state as it was then. */
  untilSeq?: number;
  /** Stop at this clock time (inclusive): events stamped later are left out. */
  untilTs?: number;
}

export interface ReplayResult {
  /** By runId. */
  runs: ReadonlyMap<string, RunState>;
  /** By `server/tool`. */
  metrics: ReadonlyMap<string, ProjectedToolMetrics>;
  /** By `runId/callId`. */
  timelines: ReadonlyMap<string, Timeline>;
  /** By runId, workflow runs only. */
  workflows: ReadonlyMap<string, WorkflowTimeline>;
  /** By runId, workflow runs only: what `reportWorkflowMetrics` groups by workflow name. */
  workflowMetrics: ReadonlyMap<string, WorkflowRunMetrics>;
}

export interface Replayer {
  /** Folds one event (events of a run in seq order). */
  apply(event: EventEnvelope): void;
  /** The projections so far; later events do not change a result already returned. */
  result(): ReplayResult;
}

/** The projections behind one fold, for replay and for a live subscriber alike. */
export function createReplayer(options: ReplayOptions = {}): Replayer {
  const runs = new Map<string, RunState>();
  const metrics = new Map<string, ProjectedToolMetrics>();
  const timelines = new Map<string, Timeline>();
  const workflows = new Map<string, WorkflowTimeline>();
  const workflowMetrics = new Map<string, WorkflowRunMetrics>();
  const { untilSeq, untilTs } = options;
  return {
    apply(event) {
      if (untilSeq !== undefined && event.seq > untilSeq) return;
      if (untilTs !== undefined && event.ts > untilTs) return;
      foldInto(runStateProjection, runs, event);
      foldInto(toolMetricsProjection, metrics, event);
      foldInto(timelineProjection, timelines, event);
      foldInto(workflowTimelineProjection, workflows, event);
      foldInto(workflowRunMetricsProjection, workflowMetrics, event);
    },
    result: () => ({
      runs: new Map(runs),
      metrics: new Map(metrics),
      timelines: new Map(timelines),
      workflows: new Map(workflows),
      workflowMetrics: new Map(workflowMetrics),
    }),
  };
}

export function replay(events: Iterable<EventEnvelope>, options: ReplayOptions = {}): ReplayResult {
  const replayer = createReplayer(options);
  for (const event of events) replayer.apply(event);
  return replayer.result();
}

export async function replayAsync(
  events: AsyncIterable<EventEnvelope>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(options);
  for await (const event of events) replayer.apply(event);
  return replayer.result();
}

/**
 * Folds every event of a store (`readAll`) through the projections, as `retrace metrics` does. The store vouches
 * for its records (validated on write, checksummed), so each is decoded on the trusted path: structural checks
 * and the upgrade chain, no schema; an error names the record's position.
 */
export async function replayStore(
  store: Pick<EventStore, 'readAll' | 'readAllBatches'>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(options);
  if (store.readAllBatches) {
    // In batches where the store offers them: one await per batch, not per event.
    for await (const batch of store.readAllBatches()) {
      for (const stored of batch) replayer.apply(decodeTrustedEvent(stored.event, stored.position));
    }
  } else {
    for await (const stored of store.readAll()) replayer.apply(decodeTrustedEvent(stored.event, stored.position));
  }
  return replayer.result();
}
