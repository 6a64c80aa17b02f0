// Cancelling a run that no live process owns, in the given runtime: an interrupted run is resumed and cancelled, an
// escalated one has its waiting step aborted.
import type { ObservedRun } from './runObservation.js';
import type { Runtime } from './runtime.js';
import type { WorkflowFinal } from './workflowHost.js';

/**
 * An interrupted run is resumed from its log and cancelled at once (the steps it had under way are cancelled and their
 * cleanup runs); a run waiting on an escalation has nothing in flight, so cancelling it aborts the waiting step (its
 * cleanup and its parents' run; the run fails as `aborted`, as `retrace resolve --action abort` would).
 */
export async function cancelUnownedRun(
  runtime: Pick<Runtime, 'resolve' | 'resume'>,
  observed: ObservedRun,
  reason: string,
): Promise<WorkflowFinal> {
  const { runId } = observed.view;
  if (observed.status === 'escalated') return runtime.resolve(runId, { action: 'abort', note: reason });
  const handle = await runtime.resume(runId);
  // Cancelled once the replay has re-entered the step that was under way (its first live event), so that step is
  // cancelled and its cleanup runs; cancelling before the replay would end the run without re-entering it.
  const stop = handle.subscribe((event) => {
    if (event.type === 'workflow.step.started') handle.cancel(reason);
  });
  try {
    return await handle.done;
  } finally {
    stop();
  }
}
