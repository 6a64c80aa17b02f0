// `retrace cancel RUN`: asks the process that owns the run to cancel it (in-flight calls cancelled, cleanup run), then
// follows the log until the run ended and exits as `retrace run` would have.
import { sendControlRequest } from '../../actors/runControl.js';
import { systemClock, systemRandom } from '../../common/clock.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { createEventWriter } from '../../events/eventWriter.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { EventStore } from '../../store/eventStore.js';
import { reduceWorkflowRun, workflowRunFinal, type WorkflowRunView } from '../../store/projections/workflowRun.js';
import { ExitCode, exitCodeForWorkflow } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { foldWorkflowRun, hasEnded, observeRun } from './status.js';
import { chooseBackends, commandConfig, openStore, type Backends } from './store.js';

export interface CancelOptions {
  reason?: string;
  /** Seconds to wait for the run to end (default: until it ends); 0: send the request and return. */
  wait?: string;
  json?: boolean;
}

/** Follows `runId` in the log until it ends (or escalates), or `timeoutMs` passes; returns the run as last seen. */
export async function waitForRunEnd(
  store: EventStore,
  runId: string,
  timeoutMs: number | undefined,
): Promise<WorkflowRunView> {
  const controller = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
  try {
    // Tail first, then read: what lands between the two comes with the tail (seen twice at most, skipped by seq).
    const live = store.tail({ runId, signal: controller.signal });
    let view = foldWorkflowRun(await store.read(runId));
    if (view.status !== 'running') return view;
    for await (const event of live) {
      if (event.seq <= view.lastSeq) continue;
      view = reduceWorkflowRun(view, event);
      if (view.status !== 'running') break;
    }
    return view;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Cancels a run that no live process owns (interrupted, or escalated and waiting for a person): takes the log's lock
 * and appends `workflow.cancelled` through the event writer. Its cleanup steps do NOT run: cleanup of an unowned run
 * runs only when the run is resumed. Once `runtime.resume(runId)` exists, this is the one place to switch to "resume
 * it in this process, then cancel its handle (cleanup runs) and wait for its end".
 */
export async function cancelUnownedRun(
  backends: Backends,
  config: RuntimeConfig,
  runId: string,
  reason: string,
): Promise<WorkflowRunView> {
  const store = await openStore(backends, 'write');
  try {
    // Read again under the lock: nothing can have been appended since, and the run may have ended meanwhile.
    const view = foldWorkflowRun(await store.read(runId));
    if (hasEnded(view.status)) return view;
    const writer = createEventWriter({ clock: systemClock, random: systemRandom, redact: config.log.redact });
    writer.resumeRun(runId, view.lastSeq);
    const waiting = view.waitingStep ?? view.currentSteps[0];
    const cancelled = writer.toEnvelope(runId, {
      type: 'workflow.cancelled',
      at: systemClock.now(),
      actorId: runId,
      reason,
      steps: view.steps,
      error: { message: reason, type: 'cancelled', ...(waiting === undefined ? {} : { step_id: waiting }) },
    });
    await store.append([cancelled]);
    return reduceWorkflowRun(view, cancelled);
  } finally {
    await store.close();
  }
}

function parseWaitMs(wait: string | undefined): number | undefined {
  if (wait === undefined) return undefined;
  const seconds = Number(wait);
  if (wait.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new RetraceError(ErrorCode.usage, `--wait ${wait}: expected a number of seconds (0: do not wait)`);
  }
  return seconds * 1000;
}

function printFinal(view: WorkflowRunView, json: boolean | undefined): void {
  const final = workflowRunFinal(view);
  process.stdout.write(json ? `${JSON.stringify(final)}\n` : `${JSON.stringify(final, null, 2)}\n`);
}

/**
 * Exit codes: as `retrace run` once the run ended (0 succeeded, 1 failed, 2 escalated, 130 cancelled); 1 with a
 * message when it had already ended; 75 when it had not ended within --wait; 66 for an unknown run.
 */
export async function runCancel(runId: string, options: CancelOptions, globals: GlobalOptions): Promise<number> {
  const waitMs = parseWaitMs(options.wait);
  const config = await commandConfig(globals);
  const backends = chooseBackends(globals, config);
  const reason = options.reason ?? 'cancelled with retrace cancel';
  const store = await openStore(backends, 'read');
  let view: WorkflowRunView;
  try {
    const observed = await observeRun(store, backends.dataDir, runId);
    if (hasEnded(observed.status)) {
      process.stderr.write(`retrace: run ${runId} already ended (${observed.status}): nothing to cancel\n`);
      printFinal(observed.view, options.json);
      return ExitCode.failed;
    }
    if (observed.owner) {
      await sendControlRequest(backends.dataDir, { runId, action: 'cancel', reason, requestedAt: Date.now() });
      process.stderr.write(`cancel requested from process ${observed.owner.pid}, which runs ${runId}\n`);
      if (waitMs === 0) return ExitCode.ok;
      view = await waitForRunEnd(store, runId, waitMs);
      if (view.status === 'running') {
        process.stderr.write(
          `retrace: run ${runId} has not ended within ${options.wait ?? ''} s (the request stands)\n`,
        );
        return ExitCode.notEndedYet;
      }
    } else {
      await store.close();
      process.stderr.write(
        `run ${runId} is ${observed.status} and no live process owns it: recorded as cancelled here. Its cleanup ` +
          `steps do not run (cleanup of an unowned run runs only when the run is resumed).\n`,
      );
      view = await cancelUnownedRun(backends, config, runId, reason);
    }
  } finally {
    await store.close();
  }
  printFinal(view, options.json);
  return view.status === 'running' ? ExitCode.notEndedYet : exitCodeForWorkflow(view.status);
}
