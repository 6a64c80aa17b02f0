// `retrace cancel RUN`: asks the process that owns the run to cancel it (in-flight calls cancelled, cleanup run), then
// follows the log until the run ended and exits as `retrace run` would have.
import { sendControlRequest } from '../../actors/runControl.js';
import type { WorkflowFinal } from '../../actors/workflowHost.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { EventEnvelope } from '../../events/envelope.js';
import type { EventStore } from '../../store/eventStore.js';
import { reduceWorkflowRun, workflowRunFinal, type WorkflowRunView } from '../../store/projections/workflowRun.js';
import { ExitCode, exitCodeForWorkflow } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { printFinal as printWorkflowFinal } from '../workflowOutput.js';
import { openRuntime } from './shared.js';
import { foldWorkflowRun, hasEnded, observeRun, type ObservedRun } from './status.js';
import { chooseBackends, commandConfig, openStore } from './store.js';

export interface CancelOptions {
  reason?: string;
  /** Seconds to wait for the run to end (default: until it ends); 0: send the request and return. */
  wait?: string;
  json?: boolean;
}

/**
 * Follows `runId` in the log until it ends (or escalates), or `timeoutMs` passes; returns the run as last seen. With
 * `afterSeq`, only an end reached after a `workflow.resolved` past that seq counts (a resolve sent to the owner).
 */
export async function waitForRunEnd(
  store: EventStore,
  runId: string,
  timeoutMs: number | undefined,
  afterSeq?: number,
): Promise<WorkflowRunView> {
  const controller = new AbortController();
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(), timeoutMs);
  let resolved = afterSeq === undefined;
  const see = (view: WorkflowRunView, event: EventEnvelope) => {
    if (afterSeq !== undefined && event.seq > afterSeq && event.type === 'workflow.resolved') resolved = true;
    return reduceWorkflowRun(view, event);
  };
  const ended = (view: WorkflowRunView): boolean => resolved && view.status !== 'running';
  try {
    // Tail first, then read: what lands between the two comes with the tail (seen twice at most, skipped by seq).
    const live = store.tail({ runId, signal: controller.signal });
    let view = (await store.read(runId)).reduce(see, foldWorkflowRun([]));
    if (ended(view)) return view;
    for await (const event of live) {
      if (event.seq <= view.lastSeq) continue;
      view = see(view, event);
      if (ended(view)) break;
    }
    return view;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Cancels a run that no live process owns, in this process: an interrupted run is resumed from its log and cancelled
 * at once (the steps it had under way are cancelled and their cleanup runs); a run waiting on an escalation has
 * nothing in flight, so cancelling it aborts the waiting step (its cleanup and its parents' run; the run fails as
 * `aborted`, as `retrace resolve --action abort` would).
 */
export async function cancelUnownedRun(
  globals: GlobalOptions,
  config: RuntimeConfig,
  observed: ObservedRun,
  reason: string,
): Promise<WorkflowFinal> {
  const runtime = await openRuntime(globals, { config, record: true });
  try {
    const { runId } = observed.view;
    if (observed.status === 'escalated') return await runtime.resolve(runId, { action: 'abort', note: reason });
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
  } finally {
    await runtime.close();
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

/** Prints the run's final as the log has it (`run --json`'s last line with --json). */
export function printRunFinal(view: WorkflowRunView, json: boolean | undefined): void {
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
      printRunFinal(observed.view, options.json);
      return ExitCode.failed;
    }
    if (observed.owner) {
      await sendControlRequest(backends.dataDir, { runId, action: 'cancel', reason, requestedAt: Date.now() });
      process.stderr.write(`cancel requested from process ${observed.owner.pid}, which runs ${runId}\n`);
      if (waitMs === 0) return ExitCode.ok;
      // A waiting run's owner aborts its waiting step: its end comes after that `workflow.resolved`.
      const afterSeq = observed.status === 'escalated' ? observed.view.lastSeq : undefined;
      view = await waitForRunEnd(store, runId, waitMs, afterSeq);
      if (view.status === 'running' || (afterSeq !== undefined && view.lastSeq === afterSeq)) {
        process.stderr.write(
          `retrace: run ${runId} has not ended within ${options.wait ?? ''} s (the request stands)\n`,
        );
        return ExitCode.notEndedYet;
      }
    } else {
      await store.close();
      process.stderr.write(
        observed.status === 'escalated'
          ? `run ${runId} waits on an escalation and no live process owns it: aborting its waiting step here\n`
          : `run ${runId} is ${observed.status} and no live process owns it: resuming it here to cancel it\n`,
      );
      return printWorkflowFinal(await cancelUnownedRun(globals, config, observed, reason), options);
    }
  } finally {
    await store.close();
  }
  printRunFinal(view, options.json);
  return exitCodeForWorkflow(view.status);
}
