// What `retrace run`, `resume` and `resolve` print of a workflow run: its events as they are recorded, then its final.
import type { WorkflowFinal, WorkflowHandle } from '../actors/workflowHost.js';
import { exitCodeForWorkflow } from './exitCodes.js';
import { workflowLine } from './workflowLines.js';

export interface OutputOptions {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

/** JSON lines of the run's events on stdout with --json; a progress line per step fact on stderr unless quiet. */
export function showProgress(handle: WorkflowHandle, options: OutputOptions): () => void {
  return handle.subscribe((event) => {
    if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
    if (options.quiet) return;
    const line = workflowLine(event);
    if (line !== undefined) process.stderr.write(`${line}\n`);
  });
}

/** Prints `{ runId, status, state, result, error? }` (one line with --json) and answers the run's exit code. */
export function printFinal(final: WorkflowFinal, options: OutputOptions): number {
  printSummary(
    {
      runId: final.runId,
      status: final.status,
      state: final.state,
      result: final.result,
      ...(final.error === undefined ? {} : { error: final.error }),
    },
    options,
  );
  return exitCodeForWorkflow(final.status);
}

/** A run's final line on stdout: one JSON line with --json, indented otherwise. */
export function printSummary(summary: object, options: OutputOptions): void {
  process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${JSON.stringify(summary, null, 2)}\n`);
}
