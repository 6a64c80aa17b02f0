// `retrace cancel RUN`: asks the process that owns the run to cancel it (in-flight calls cancelled, cleanup run), then
// follows the log until the run ended and exits as `retrace run` would have.
import { cancelUnownedRun } from '../../actors/cancelUnownedRun.js';
import { sendControlRequest } from '../../actors/runControl.js';
import { hasEnded, observeRun, waitForRunEnd, type ObservedRun } from '../../actors/runObservation.js';
import type { WorkflowFinal } from '../../actors/workflowHost.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import { workflowRunFinal, type WorkflowRunView } from '../../store/projections/workflowRun.js';
import { ExitCode, exitCodeForWorkflow } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { printFinal as printWorkflowFinal, printSummary } from '../workflowOutput.js';
import { openRuntime } from './shared.js';
import { chooseBackends, commandConfig, openStore } from './store.js';

export interface CancelOptions {
  reason?: string;
  /** Seconds to wait for the run to end (default: until it ends); 0: send the request and return. */
  wait?: string;
  json?: boolean;
}

/** Cancels a run no live process owns in a runtime of this process (see `cancelUnownedRun`). */
async function cancelHere(
  globals: GlobalOptions,
  config: RuntimeConfig,
  observed: ObservedRun,
  reason: string,
): Promise<WorkflowFinal> {
  const runtime = await openRuntime(globals, { config, record: true });
  try {
    return await cancelUnownedRun(runtime, observed, reason);
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
  printSummary(workflowRunFinal(view), { json });
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
      view = await waitForRunEnd(store, runId, { timeoutMs: waitMs, afterSeq });
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
      return printWorkflowFinal(await cancelHere(globals, config, observed, reason), options);
    }
  } finally {
    await store.close();
  }
  printRunFinal(view, options.json);
  return exitCodeForWorkflow(view.status);
}
