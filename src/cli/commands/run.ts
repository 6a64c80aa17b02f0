// `retrace run FILE`: runs a workflow as a recorded run; progress on stderr, JSON lines with --json, an exit code per outcome.
import type { WorkflowFinal } from '../../actors/workflowHost.js';
import { loadConfig } from '../../config/loadConfig.js';
import { parseInputPairs, resolveInputs } from '../../workflow/inputs.js';
import { loadWorkflow } from '../../workflow/loadWorkflow.js';
import type { GlobalOptions } from '../main.js';
import { printFinal, showProgress } from '../workflowOutput.js';
import { openRuntime } from './shared.js';
import { openInspector } from './inspectOption.js';

export interface RunCommandOptions {
  input: string[];
  runId?: string;
  json?: boolean;
  quiet?: boolean;
  /** `--inspect [port|sky]`: the Stately inspector watches the run. */
  inspect?: string | true;
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
  const inspector = options.inspect === undefined ? undefined : await openInspector(options.inspect);
  let final: WorkflowFinal;
  const runtime = await openRuntime(globals, {
    config,
    record: true,
    ...(inspector ? { inspect: inspector.inspect } : {}),
  }).catch(async (error: unknown) => {
    await inspector?.close();
    throw error;
  });
  const interrupt = () => handle.cancel('interrupted (SIGINT)');
  const handle = runtime.spawn(workflow, inputs, options.runId === undefined ? {} : { runId: options.runId });
  try {
    showProgress(handle, options);
    process.once('SIGINT', interrupt);
    final = await handle.done;
  } finally {
    process.off('SIGINT', interrupt);
    await runtime.close();
    await inspector?.close();
  }
  return printFinal(final, options);
}
