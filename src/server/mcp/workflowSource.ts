// A workflow as an MCP client gives it: a file path (relative to the server's directory) or the YAML text itself.
import { resolve } from 'node:path';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { describeProblem, SourceProblemsError } from '../../config/yamlErrors.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { CompiledWorkflow } from '../../workflow/compiledWorkflow.js';
import { loadWorkflow, parseWorkflowText } from '../../workflow/loadWorkflow.js';

/** The name an inline workflow's problems are reported under. */
export const INLINE_WORKFLOW = 'inline workflow';

/** YAML text has a line break; a path never does. */
export const isInlineWorkflow = (workflow: string): boolean => /[\r\n]/.test(workflow);

export interface LoadedSource {
  workflow: CompiledWorkflow;
  /** `file:line:column path: message` of each warning. */
  warnings: string[];
}

/** Loads and checks the workflow; every error at once, with its line and column, as one E_WORKFLOW error. */
export async function loadWorkflowSource(
  source: string,
  options: { config: RuntimeConfig; cwd: string },
): Promise<LoadedSource> {
  if (source.trim() === '') {
    throw new RetraceError(ErrorCode.badArguments, 'workflow: expected a file path or the workflow YAML, got nothing');
  }
  if (!isInlineWorkflow(source)) {
    const { workflow, warnings } = await loadWorkflow(resolve(options.cwd, source), options);
    return { workflow, warnings: warnings.map(describeProblem) };
  }
  const checked = await parseWorkflowText(source, { ...options, file: INLINE_WORKFLOW, baseDir: options.cwd });
  const errors = checked.problems.filter((problem) => problem.severity === 'error');
  if (!checked.workflow || errors.length > 0) throw new SourceProblemsError(ErrorCode.workflow, errors);
  const warnings = checked.problems.map(describeProblem);
  // No file: the run records none, so a resume after a restart says the workflow must be given again.
  return { workflow: { ...checked.workflow, file: '' }, warnings };
}

/** Seed 004 takes inputs as a mapping or as its JSON text. */
export function parseInputsArgument(
  inputs: Record<string, unknown> | string | undefined,
  name = 'inputs',
): Record<string, unknown> {
  if (inputs === undefined) return {};
  if (typeof inputs !== 'string') return inputs;
  let parsed: unknown;
  try {
    parsed = JSON.parse(inputs);
  } catch (error) {
    throw new RetraceError(
      ErrorCode.badArguments,
      `${name}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RetraceError(
      ErrorCode.badArguments,
      `${name}: expected a JSON object of name: value, got ${Array.isArray(parsed) ? 'a list' : typeof parsed}`,
    );
  }
  return parsed as Record<string, unknown>;
}
