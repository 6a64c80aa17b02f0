// Workflow state sizes from the workflow-run projection: each run's state as recorded, measured when read, by workflow name.
import type { EventEnvelope } from '../../events/envelope.js';
import { foldInto } from '../../store/projections/projection.js';
import { workflowRunProjection, type WorkflowRunView } from '../../store/projections/workflowRun.js';

export interface StateSizes {
  apply(event: EventEnvelope): void;
  /** Per workflow name, the largest state (bytes of its JSON) among its runs: the final state of an ended run, the current one of a running run. */
  largestByWorkflow(): Map<string, number>;
}

/** The byte length of a state as the executor measures it against `limits.state_size_*`. */
export function stateBytesOf(view: WorkflowRunView): number {
  return Buffer.byteLength(JSON.stringify(view.state), 'utf8');
}

/** A run that ended for good: no event changes its state again, so its view is dropped once measured. */
const finished = (view: WorkflowRunView): boolean =>
  view.status === 'succeeded' || view.status === 'failed' || view.status === 'cancelled';

export function createStateSizes(): StateSizes {
  const views = new Map<string, WorkflowRunView>();
  /** Per run: its name, its size and the view it was measured on (measured again only when the view changed). */
  const measured = new Map<string, { name: string; bytes: number; view: WorkflowRunView | undefined }>();
  return {
    apply(event) {
      const known = measured.get(event.runId);
      if (known && known.view === undefined) return;
      foldInto(workflowRunProjection, views, event);
    },
    largestByWorkflow() {
      for (const [runId, view] of views) {
        if (view.name === '') continue;
        const known = measured.get(runId);
        if (known?.view === view) continue;
        const done = finished(view);
        measured.set(runId, { name: view.name, bytes: stateBytesOf(view), view: done ? undefined : view });
        if (done) views.delete(runId);
      }
      const largest = new Map<string, number>();
      for (const { name, bytes } of measured.values()) largest.set(name, Math.max(largest.get(name) ?? 0, bytes));
      return largest;
    },
  };
}
