// Loads a workflow file: YAML with positions, schema validation, sub-workflow files, compilation; every problem at once.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode } from '../common/errors.js';
import { substituteEnvironment, type Environment } from '../config/loadConfig.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import { validate } from '../config/validate.js';
import { SourceProblemsError, parseYaml } from '../config/yamlErrors.js';
import type { PathSegment } from '../config/yamlErrors.js';
import { compileWorkflow, rawNestedLists } from './compileWorkflow.js';
import type { CompiledWorkflow, WorkflowProblem } from './compiledWorkflow.js';
import type { WorkflowSource } from './sourcePositions.js';
import { locateValue } from './sourcePositions.js';
import { Workflow, asStep, asWorkflow } from './workflowSchema.js';
import type { NestedStep } from './workflowSchema.js';

export interface LoadWorkflowOptions {
  /** The runtime config: its servers and tool policies join the workflow's. */
  config?: RuntimeConfig | undefined;
  /** Relative paths and the names shown in problems start here; defaults to the process's directory. */
  cwd?: string | undefined;
  /** Source of `${VAR}` values in `servers:` (as in the runtime config); defaults to `process.env`. */
  env?: Environment | undefined;
}

export interface CheckedWorkflow {
  /** Undefined when there are errors. */
  workflow?: CompiledWorkflow;
  /** Errors and warnings, in file order (sub-workflow files' problems name their own file). */
  problems: WorkflowProblem[];
}

/** Loads and checks a workflow file without throwing: what `retrace validate` reports. */
export async function checkWorkflowFile(file: string, options: LoadWorkflowOptions = {}): Promise<CheckedWorkflow> {
  const loader = new Loader(options);
  const path = resolve(options.cwd ?? process.cwd(), file);
  const workflow = await loader.load(path, []);
  const problems = sortProblems(loader.problems);
  return problems.some((problem) => problem.severity === 'error') || !workflow ? { problems } : { workflow, problems };
}

/** Loads a workflow file; throws one `RetraceError` (E_WORKFLOW) listing every error with file:line:column. */
export async function loadWorkflow(
  file: string,
  options: LoadWorkflowOptions = {},
): Promise<{ workflow: CompiledWorkflow; warnings: WorkflowProblem[] }> {
  const checked = await checkWorkflowFile(file, options);
  if (!checked.workflow) {
    throw new SourceProblemsError(
      ErrorCode.workflow,
      checked.problems.filter((problem) => problem.severity === 'error'),
    );
  }
  return { workflow: checked.workflow, warnings: checked.problems };
}

/** Parses workflow text (no sub-workflow files unless they can be read from `baseDir`). */
export async function parseWorkflowText(
  text: string,
  options: LoadWorkflowOptions & { file?: string; baseDir?: string } = {},
): Promise<CheckedWorkflow> {
  const loader = new Loader(options);
  const file = options.file ?? 'workflow.yaml';
  const workflow = await loader.compileText(text, file, options.baseDir ?? resolve(options.cwd ?? process.cwd()), []);
  const problems = sortProblems(loader.problems);
  return problems.some((problem) => problem.severity === 'error') || !workflow ? { problems } : { workflow, problems };
}

class Loader {
  readonly problems: WorkflowProblem[] = [];
  private readonly loaded = new Map<string, Promise<CompiledWorkflow | undefined>>();

  constructor(private readonly options: LoadWorkflowOptions) {}

  /** `chain`: the files including this one, to refuse a workflow that includes itself. */
  load(path: string, chain: readonly string[]): Promise<CompiledWorkflow | undefined> {
    let pending = this.loaded.get(path);
    if (!pending) {
      pending = this.read(path, chain);
      this.loaded.set(path, pending);
    }
    return pending;
  }

  private async read(path: string, chain: readonly string[]): Promise<CompiledWorkflow | undefined> {
    const file = this.displayName(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const message = missing ? 'workflow file not found' : `cannot read workflow file: ${(error as Error).message}`;
      this.problems.push({ location: { file }, message, severity: 'error' });
      return undefined;
    }
    const workflow = await this.compileText(text, file, dirname(path), [...chain, path]);
    if (workflow) workflow.path = path;
    return workflow;
  }

  async compileText(
    text: string,
    file: string,
    baseDir: string,
    chain: readonly string[],
  ): Promise<CompiledWorkflow | undefined> {
    const parsed = parseYaml(text, file);
    for (const problem of parsed.problems) this.problems.push({ ...problem, severity: 'error' });
    if (!parsed.usable) return undefined;
    // Only `servers:` takes `${VAR}`, as the config does: elsewhere `$` belongs to expressions.
    for (const problem of substituteEnvironment(parsed.source, this.options.env ?? process.env, 'servers')) {
      this.problems.push({ ...problem, severity: 'error' });
    }
    const source: WorkflowSource = { file, yaml: parsed.source, text };
    const value: unknown = parsed.source.document.toJS();
    const result = validate(Workflow, value ?? {}, { file, source: parsed.source });
    for (const problem of result.problems) this.problems.push({ ...problem, severity: 'error' });
    // Invalid steps are set aside so the rest is still compiled and checked: every problem in one report.
    const data = result.data ?? validate(Workflow, withoutInvalidSteps(value, Workflow), {}).data;
    if (!data) return undefined;
    const subFiles = await this.loadSubFiles(data, baseDir, chain, source);
    const problems: WorkflowProblem[] = [];
    const workflow = compileWorkflow(data, [], {
      source,
      baseDir,
      config: this.options.config,
      subFiles,
      problems,
    });
    this.problems.push(...problems);
    return workflow;
  }

  /** Loads every sub-workflow file the workflow names (inline ones included), refusing cycles. */
  private async loadSubFiles(
    data: Workflow,
    baseDir: string,
    chain: readonly string[],
    source: WorkflowSource,
  ): Promise<Map<string, CompiledWorkflow | undefined>> {
    const references: Array<{ path: string; at: PathSegment[] }> = [];
    const visit = (steps: readonly NestedStep[], at: PathSegment[]) => {
      steps.forEach((nested, index) => {
        const step = asStep(nested);
        const here = [...at, index];
        if (step.type === 'workflow' && step.file !== undefined) {
          references.push({ path: resolve(baseDir, step.file), at: [...here, 'file'] });
        }
        if (step.type === 'workflow' && step.inline !== undefined)
          visit(asWorkflow(step.inline).steps, [...here, 'inline', 'steps']);
        // Paths inside nested lists only matter for the location of a problem: the step's own is close enough.
        for (const list of rawNestedLists(step)) visit(list, here);
      });
    };
    visit(data.steps, ['steps']);
    const files = new Map<string, CompiledWorkflow | undefined>();
    for (const reference of references) {
      if (chain.includes(reference.path)) {
        const cycle = [...chain.slice(chain.indexOf(reference.path)), reference.path].map((path) =>
          this.displayName(path),
        );
        this.problems.push({
          location: locateValue(source, reference.at),
          message: `the workflow includes itself: ${cycle.join(' → ')}`,
          severity: 'error',
        });
        files.set(reference.path, undefined);
        continue;
      }
      const before = this.problems.length;
      const loaded = await this.load(reference.path, chain);
      if (!loaded && this.problems.length === before) continue;
      const missing = this.problems.slice(before).find((problem) => problem.message === 'workflow file not found');
      if (missing) {
        missing.location = locateValue(source, reference.at);
        missing.message = `workflow file not found: ${this.displayName(reference.path)}`;
      }
      files.set(reference.path, loaded);
    }
    return files;
  }

  /** Paths under the working directory are shown relative to it. */
  private displayName(path: string): string {
    const cwd = resolve(this.options.cwd ?? process.cwd());
    const shown = relative(cwd, path);
    return shown && !shown.startsWith(`..${sep}`) && shown !== '..' && !isAbsolute(shown) ? shown : path;
  }
}

/**
 * The workflow with each invalid step replaced by an empty `return` keeping its id (so references to it still
 * resolve); its problems are already reported. Other sections are left as they are.
 */
function withoutInvalidSteps(value: unknown, schema: typeof Workflow): unknown {
  const result = schema.safeParse(value);
  if (result.success || typeof value !== 'object' || value === null) return value;
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const issue of result.error.issues) {
    const path = issue.path;
    // The deepest step (a number after `steps`, `then`, `branches[i]`, …) the issue is inside.
    let stepEnd = -1;
    for (let index = 0; index < path.length; index += 1) {
      if (typeof path[index] === 'number' && index > 0) stepEnd = index;
    }
    if (stepEnd < 0) continue;
    let parent: unknown = copy;
    for (const segment of path.slice(0, stepEnd))
      parent = (parent as Record<PropertyKey, unknown>)?.[segment as PropertyKey];
    if (!Array.isArray(parent)) continue;
    const index = path[stepEnd] as number;
    const step = parent[index] as { id?: unknown } | undefined;
    const id = typeof step?.id === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(step.id) ? step.id : undefined;
    parent[index] = id === undefined ? { type: 'return' } : { type: 'return', id };
  }
  return copy;
}

function sortProblems(problems: WorkflowProblem[]): WorkflowProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.location.file ?? '').localeCompare(b.location.file ?? '') ||
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      (a.location.column ?? 0) - (b.location.column ?? 0),
  );
}
