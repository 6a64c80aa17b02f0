// `retrace validate FILE`: every problem of a workflow file with its line and column; exit 0 when valid, 65 when not.
import { describeServer } from '../../actors/serverConfig.js';
import { formatLocation } from '../../common/errors.js';
import { loadConfig } from '../../config/loadConfig.js';
import { checkWorkflowFile } from '../../workflow/loadWorkflow.js';
import type { WorkflowProblem } from '../../workflow/compiledWorkflow.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';

export async function runValidate(file: string, options: { json?: boolean }, globals: GlobalOptions): Promise<number> {
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  const checked = await checkWorkflowFile(file, { config });
  const errors = checked.problems.filter((problem) => problem.severity === 'error').length;
  const warnings = checked.problems.length - errors;
  if (options.json) {
    const report = {
      file,
      valid: errors === 0,
      errors,
      warnings,
      servers: Object.keys(checked.workflow?.declaredServers ?? {}),
      problems: checked.problems.map((problem) => ({
        severity: problem.severity,
        ...problem.location,
        message: problem.message,
      })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const problem of checked.problems) process.stdout.write(`${describe(problem)}\n`);
    const counts = [plural(errors, 'error'), plural(warnings, 'warning')].filter(Boolean).join(', ');
    const verdict = errors === 0 ? `valid${warnings > 0 ? ` (${counts})` : ''}` : `invalid: ${counts}`;
    const name = checked.workflow ? ` workflow "${checked.workflow.name}"` : '';
    process.stdout.write(`${file}:${name} ${verdict}\n`);
    for (const [server, definition] of Object.entries(checked.workflow?.declaredServers ?? {})) {
      process.stdout.write(`  server ${server} (its own, connected while it runs): ${describeServer(definition)}\n`);
    }
  }
  return errors === 0 ? ExitCode.ok : ExitCode.invalid;
}

/** `file:line:col path: warning: message` (errors without the word, as the config's problems read). */
function describe(problem: WorkflowProblem): string {
  const where = formatLocation(problem.location);
  const message = problem.severity === 'warning' ? `warning: ${problem.message}` : problem.message;
  return where ? `${where}: ${message}` : message;
}

function plural(count: number, word: string): string {
  return count === 0 ? '' : `${count} ${word}${count === 1 ? '' : 's'}`;
}
