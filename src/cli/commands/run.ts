// `retrace run FILE`: runs a workflow as a recorded run; progress on stderr, JSON lines with --json, an exit code per outcome.
import type { WorkflowFinal } from '../../actors/workflowHost.js';
import { loadConfig } from '../../config/loadConfig.js';
import { parseInputPairs, resolveInputs } from '../../workflow/inputs.js';
import { loadWorkflow } from '../../workflow/loadWorkflow.js';
import type { GlobalOptions } from '../main.js';
import { printFinal, showProgress } from '../workflowOutput.js';
import { openRuntime } from './shared.js';

export interface RunCommandOptions {
  input: string[];
  runId?: string;
  json?: boolean;
  quiet?: boolean;
}

export async function runWorkflowFile(
  file: string,
  options: RunCommandOptions,
  globals: GlobalOptions,
): Promise<number> {
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  // A bad file or bad inputs are reported before the log is opened.
  const { workflow, warnings } = await loadWorkflow(file, { config });
  const inputs = resolveInputs(workflow, parseInputPairs(options.input), { fromText: true });
  if (!options.quiet) {
    for (const warning of warnings) {
      const where =
        warning.location.line === undefined ? '' : `:${warning.location.line}:${warning.location.column ?? 1}`;
      process.stderr.write(`${warning.location.file ?? file}${where}: warning: ${warning.message}\n`);
    }
  }
  const runtime = await openRuntime(globals, { config, record: true });
  let final: WorkflowFinal;
  const interrupt = () => handle.cancel('interrupted (SIGINT)');
  const handle = runtime.spawn(workflow, inputs, options.runId === undefined ? {} : { runId: options.runId });
  try {
    showProgress(handle, options);
    process.once('SIGINT', interrupt);
    final = await handle.done;
  } finally {
    process.off('SIGINT', interrupt);
    await runtime.close();
  }
  return printFinal(final, options);
}
