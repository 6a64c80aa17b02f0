// `retrace resume [RUN] [--all]` and `retrace resolve RUN --action …`: continue recorded runs in this process.
import type { WorkflowFinal } from '../../actors/workflowHost.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { loadConfig } from '../../config/loadConfig.js';
import { ResolutionAction } from '../../events/workflowEvents.js';
import { parseInputPairs } from '../../workflow/inputs.js';
import { sendControlRequest } from '../../actors/runControl.js';
import type { Resolution } from '../../actors/workflowResume.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import { ExitCode, exitCodeForWorkflow } from '../exitCodes.js';
import { observeRun, waitForRunEnd } from '../../actors/runObservation.js';
import { printRunFinal } from './cancel.js';
import { chooseBackends, openStore } from './store.js';
import type { GlobalOptions } from '../main.js';
import { printFinal, showProgress } from '../workflowOutput.js';
import { openRuntime } from './shared.js';

export interface ResumeCommandOptions {
  all?: boolean;
  json?: boolean;
  quiet?: boolean;
  input: string[];
  force?: boolean;
}

export async function runResume(
  run: string | undefined,
  options: ResumeCommandOptions,
  globals: GlobalOptions,
): Promise<number> {
  if ((run === undefined) === !options.all) {
    throw new RetraceError(ErrorCode.usage, 'resume takes a run id or --all (not both)');
  }
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  const runtime = await openRuntime(globals, { config, record: true });
  // Text inputs are read by each workflow's declared types when the run is resumed.
  const inputs = parseInputPairs(options.input);
  let exitCode: number = ExitCode.ok;
  try {
    const runIds = run === undefined ? await runtime.resumable() : [run];
    if (runIds.length === 0 && !options.quiet) process.stderr.write('no unfinished runs to resume\n');
    for (const runId of runIds) {
      const handle = await runtime.resume(runId, { inputs, ...(options.force ? { force: true } : {}) });
      const interrupt = () => handle.cancel('interrupted (SIGINT)');
      process.once('SIGINT', interrupt);
      let final: WorkflowFinal;
      try {
        showProgress(handle, options);
        final = await handle.done;
      } finally {
        process.off('SIGINT', interrupt);
      }
      const code = printFinal(final, options);
      // With --all, the worst outcome is the command's: any failure over success.
      if (code !== ExitCode.ok && exitCode === ExitCode.ok) exitCode = code;
    }
  } finally {
    await runtime.close();
  }
  return exitCode;
}

export interface ResolveCommandOptions {
  action: string;
  value?: string;
  by?: string;
  note?: string;
  /** Inputs the log redacted: the run goes on here after the resolution, and needs them as a resume does. */
  input?: string[];
  json?: boolean;
}

export async function runResolve(run: string, options: ResolveCommandOptions, globals: GlobalOptions): Promise<number> {
  const action = ResolutionAction.safeParse(options.action);
  if (!action.success) {
    throw new RetraceError(
      ErrorCode.usage,
      `--action must be retry, skip, abort or value, not ${JSON.stringify(options.action)}`,
    );
  }
  let value: unknown;
  if (options.value !== undefined) {
    try {
      value = JSON.parse(options.value) as unknown;
    } catch (error) {
      throw new RetraceError(
        ErrorCode.usage,
        `--value must be JSON (${error instanceof Error ? error.message : String(error)}): ${options.value}`,
      );
    }
  }
  if (action.data === 'value' && value === undefined) {
    throw new RetraceError(ErrorCode.usage, '--action value needs --value JSON');
  }
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  const resolution = {
    action: action.data,
    ...(value === undefined ? {} : { value }),
    ...(options.by === undefined ? {} : { by: options.by }),
    ...(options.note === undefined ? {} : { note: options.note }),
  };
  const owned = await resolveThroughOwner(run, resolution, config, globals, options);
  if (owned !== undefined) return owned;
  const runtime = await openRuntime(globals, { config, record: true });
  let final: WorkflowFinal;
  try {
    final = await runtime.resolve(run, resolution, { inputs: parseInputPairs(options.input ?? []) });
  } finally {
    await runtime.close();
  }
  return printFinal(final, options);
}

/**
 * A run waiting in a live process (one that keeps its waiting runs, e.g. a long-lived runtime) is resolved there: the
 * resolution goes as a control request and this follows the log to the run's end. Undefined when no live process
 * owns the run (it is then resolved here). A run that is not waiting is left to `runtime.resolve` to refuse.
 */
async function resolveThroughOwner(
  runId: string,
  resolution: Resolution,
  config: RuntimeConfig,
  globals: GlobalOptions,
  options: ResolveCommandOptions,
): Promise<number | undefined> {
  const backends = chooseBackends(globals, config);
  const store = await openStore(backends, 'read');
  try {
    const observed = await observeRun(store, backends.dataDir, runId);
    if (observed.status !== 'escalated' || !observed.owner) return undefined;
    await sendControlRequest(backends.dataDir, { runId, action: 'resolve', resolution, requestedAt: Date.now() });
    process.stderr.write(`resolution sent to process ${observed.owner.pid}, which keeps ${runId} waiting\n`);
    const view = await waitForRunEnd(store, runId, { afterSeq: observed.view.lastSeq });
    printRunFinal(view, options.json);
    return view.status === 'running' ? ExitCode.notEndedYet : exitCodeForWorkflow(view.status);
  } finally {
    await store.close();
  }
}
