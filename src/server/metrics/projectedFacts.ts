// The projections behind /metrics, folded over a store's events: every stored one, then each as it is appended.
import type { EventEnvelope } from '../../events/envelope.js';
import type { EventStore } from '../../store/eventStore.js';
import { foldInto } from '../../store/projections/projection.js';
import { toolMetricsProjection, type ProjectedToolMetrics } from '../../store/projections/toolMetrics.js';
import { workflowRunMetricsProjection, type WorkflowRunMetrics } from '../../store/projections/workflowMetrics.js';
import { createStateSizes, type StateSizes } from './stateSizes.js';

export interface ProjectedFacts {
  /** Per `server/tool`: the tool-metrics projection, as `retrace metrics` folds it. */
  tools(): Iterable<ProjectedToolMetrics>;
  /** Per workflow run: the workflow-metrics projection, which `groupWorkflowMetrics` groups by name. */
  workflowRuns(): Iterable<WorkflowRunMetrics>;
  /** Per workflow name: the largest state of its runs (bytes of its JSON). */
  readonly stateSizes: StateSizes;
  /** Events folded so far. */
  eventsFolded(): number;
  /** Whether every event stored before the fold began is folded (live ones follow as they are appended). */
  caughtUp(): boolean;
  /** Why following the store stopped, if it did. */
  failure(): Error | undefined;
  /** Resolves once caught up (or failed). */
  readonly ready: Promise<void>;
  /** Stops following the store. */
  close(): Promise<void>;
}

/**
 * Follows `store`: subscribes to its live events first, then folds every stored event, then the live ones; an event
 * seen twice (appended while the stored ones were read) is folded once, by its run's `seq`.
 */
export function followStore(store: Pick<EventStore, 'readAll' | 'tail'>): ProjectedFacts {
  const tools = new Map<string, ProjectedToolMetrics>();
  const workflowRuns = new Map<string, WorkflowRunMetrics>();
  const stateSizes = createStateSizes();
  /** Per run, the last seq folded: events of a run are stored in seq order. */
  const lastSeq = new Map<string, number>();
  const stop = new AbortController();
  let folded = 0;
  let caughtUp = false;
  let failure: Error | undefined;

  function fold(event: EventEnvelope): void {
    if (event.seq <= (lastSeq.get(event.runId) ?? 0)) return;
    lastSeq.set(event.runId, event.seq);
    foldInto(toolMetricsProjection, tools, event);
    foldInto(workflowRunMetricsProjection, workflowRuns, event);
    stateSizes.apply(event);
    folded += 1;
  }

  // Asked for its first event now: a tail that subscribes lazily (JetStream's) subscribes before the stored events are read.
  const live = store.tail({ signal: stop.signal })[Symbol.asyncIterator]();
  let next = live.next();
  next.catch(() => undefined); // awaited below; a failure before then is not unhandled
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const following = (async () => {
    try {
      for await (const { event } of store.readAll()) {
        if (stop.signal.aborted) return;
        fold(event);
      }
      caughtUp = true;
      markReady();
      for (let result = await next; result.done !== true; result = await next) {
        fold(result.value);
        next = live.next();
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      markReady();
    }
  })();

  return {
    tools: () => tools.values(),
    workflowRuns: () => workflowRuns.values(),
    stateSizes,
    eventsFolded: () => folded,
    caughtUp: () => caughtUp,
    failure: () => failure,
    ready,
    async close() {
      stop.abort();
      await following;
    },
  };
}
