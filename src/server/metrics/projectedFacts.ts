// The projections behind /metrics, folded over a store's events: every stored one at start, then what was appended since, at each scrape.
import type { EventStore, StorePosition } from '../../store/eventStore.js';
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
  /** Folds what the store holds after the last event folded; resolves once it has (one pass at a time). */
  catchUp(): Promise<void>;
  /** Events folded so far. */
  eventsFolded(): number;
  /** Whether the events stored when following began are folded. */
  caughtUp(): boolean;
  /** Why the last pass over the store failed, if it did (the next pass tries again from where it stopped). */
  failure(): Error | undefined;
  /** Stops following the store (a pass under way ends at its next event). */
  close(): Promise<void>;
}

/**
 * Follows `store` by position: a pass reads every event after the last one folded (`readAll(position)`), so each
 * event is folded once, in store order, whatever store it is — no live subscription that could start late.
 */
export function followStore(store: Pick<EventStore, 'readAll'>): ProjectedFacts {
  const tools = new Map<string, ProjectedToolMetrics>();
  const workflowRuns = new Map<string, WorkflowRunMetrics>();
  const stateSizes = createStateSizes();
  let position: StorePosition | undefined;
  let folded = 0;
  let caughtUp = false;
  let failure: Error | undefined;
  let closed = false;
  let pass: Promise<void> | undefined;
  let again = false;

  async function readOnce(): Promise<void> {
    try {
      for await (const stored of store.readAll(position)) {
        if (closed) return;
        const { event } = stored;
        foldInto(toolMetricsProjection, tools, event);
        foldInto(workflowRunMetricsProjection, workflowRuns, event);
        stateSizes.apply(event);
        position = stored.position;
        folded += 1;
      }
      failure = undefined;
      caughtUp = true;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** One pass at a time; a call during a pass gets one more pass after it, which sees what the first may have missed. */
  function catchUp(): Promise<void> {
    if (closed) return Promise.resolve();
    if (pass) {
      again = true;
      return pass;
    }
    pass = (async () => {
      do {
        again = false;
        await readOnce();
      } while (again && !closed);
      pass = undefined;
    })();
    return pass;
  }

  void catchUp();
  return {
    tools: () => tools.values(),
    workflowRuns: () => workflowRuns.values(),
    stateSizes,
    catchUp,
    eventsFolded: () => folded,
    caughtUp: () => caughtUp,
    failure: () => failure,
    async close() {
      closed = true;
      await pass;
    },
  };
}
