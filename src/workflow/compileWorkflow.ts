// Compiles a validated workflow: declared names, step ids, computed-field graph (cycles rejected), servers and tools checked.
import { resolve } from 'node:path';
import { sameServer, serverClashMessage, withAbsolutePaths, type ServerConfig } from '../actors/serverConfig.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import type { PathSegment } from '../config/yamlErrors.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import { compileStepList } from './compileSteps.js';
import { assignIds } from './stepIds.js';
import type { StepCompiler } from './compileSteps.js';
import { compileExpressionAt, declareStatePath, report } from './compileValues.js';
import type { CompileContext, KnownNames } from './compileValues.js';
import { forEachStep } from './compiledWorkflow.js';
import type { CompiledInput, CompiledStep, CompiledWorkflow, WorkflowProblem } from './compiledWorkflow.js';
import { canonicalPath, orderComputed } from './computedGraph.js';
import type { ComputedFieldNode } from './computedGraph.js';
import { defaultExpressionLimits } from './expression.js';
import { RAW_TIER, isScopeRoot } from './scope.js';
import { locateValue } from './sourcePositions.js';
import type { WorkflowSource } from './sourcePositions.js';
import { asStep, asWorkflow } from './workflowSchema.js';
import type { NestedStep, StateSchema, Step, Workflow } from './workflowSchema.js';

export interface CompileOptions {
  source: WorkflowSource;
  /** Where relative paths in the file start. */
  baseDir: string;
  /** The runtime config: its servers count as declared. Without it, servers are checked only when run. */
  config?: RuntimeConfig | undefined;
  /** Sub-workflow files, already loaded (absolute path → compiled, or undefined when it has errors). */
  subFiles: ReadonlyMap<string, CompiledWorkflow | undefined>;
  problems: WorkflowProblem[];
}

/** Compiles `data` (at `prefix` in the file: [] for the file itself, [..., 'inline'] for an inline sub-workflow). */
export function compileWorkflow(data: Workflow, prefix: PathSegment[], options: CompileOptions): CompiledWorkflow {
  const { source, problems } = options;
  const known = declaredNames(data);
  const context: CompileContext = {
    source,
    problems,
    known,
    maxNesting: data.limits.max_nesting,
    limits: {
      ...defaultExpressionLimits,
      maxSteps: data.limits.expression_steps,
      timeoutMs: data.limits.expression_timeout,
    },
  };
  const ids = new Map<NestedStep, string>();
  assignIds(context, { steps: data.steps, path: [...prefix, 'steps'], idPrefix: 'step' }, ids, new Map());
  context.known = { ...known, steps: new Set(ids.values()) };

  const declaredServers = compileServers(context, data, prefix, options);
  const servers: Record<string, ServerConfig> = { ...options.config?.servers, ...declaredServers };
  checkToolKeys(context, data, prefix, Object.keys(servers), options.config !== undefined);
  const compiler: StepCompiler = {
    context,
    ids,
    servers: Object.keys(servers),
    serversComplete: options.config !== undefined,
    subWorkflow: (step, path) => {
      if (step.inline !== undefined) {
        return compileWorkflow(asWorkflow(step.inline), [...path, 'inline'], options);
      }
      if (step.file === undefined) return undefined;
      return options.subFiles.get(resolve(options.baseDir, step.file));
    },
  };
  const steps = compileStepList(
    compiler,
    data.steps,
    [...prefix, 'steps'],
    0,
    { done: new Set(), locals: new Set() },
    new Set(),
  );
  const stepsById = new Map<string, CompiledStep>();
  forEachStep(steps, (step) => stepsById.set(step.id, step));

  const workflow: CompiledWorkflow = {
    name: data.name,
    file: source.file,
    baseDir: options.baseDir,
    inputs: compileInputs(context, data, prefix),
    initialState: data.state ?? {},
    computed: compileComputed(context, data, prefix),
    servers,
    declaredServers,
    tools: { ...options.config?.tools, ...data.tools },
    env: data.env ?? [],
    limits: data.limits,
    steps,
    stepsById,
  };
  if (data.description !== undefined) workflow.description = data.description;
  if (data.state_schema !== undefined) workflow.stateSchema = data.state_schema;
  if (data.timeout !== undefined) workflow.timeoutMs = data.timeout;
  return workflow;
}

/** Inputs, computed fields, state fields (declared or written by a step), allowed env variables. */
function declaredNames(data: Workflow): KnownNames {
  const state = new Set<string>();
  const raw = new Set<string>();
  const declareSchema = (schema: StateSchema | Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(schema ?? {})) {
      state.add(key);
      if (key === RAW_TIER && typeof value === 'object' && value !== null) {
        for (const name of Object.keys(value)) raw.add(name);
      }
    }
  };
  declareSchema(data.state_schema);
  declareSchema(data.state);
  const visit = (steps: readonly NestedStep[]) => {
    for (const nested of steps) {
      const step = asStep(nested);
      if (step.type === 'state_update') declareStatePath(step.path, state, raw);
      if (step.error_state_update) declareStatePath(step.error_state_update.path, state, raw);
      for (const list of rawNestedLists(step)) visit(list);
    }
  };
  visit(data.steps);
  return {
    inputs: new Set(Object.keys(data.inputs ?? {})),
    computed: new Set(Object.keys(data.computed ?? {})),
    state,
    raw,
    env: new Set(data.env ?? []),
    steps: new Set(),
  };
}

/** Nested step lists of a parsed step, for walks that need no ids. */
export function rawNestedLists(step: Step): Array<readonly NestedStep[]> {
  const lists: Array<readonly NestedStep[] | undefined> = [step.cleanup];
  if (step.type === 'conditional') lists.push(step.then, step.else);
  if (step.type === 'poll') lists.push([step.step], Array.isArray(step.on_timeout) ? step.on_timeout : [], step.cancel);
  if (step.type === 'parallel') lists.push(...step.branches);
  if (step.type === 'foreach') lists.push(step.steps);
  return lists.filter((list): list is readonly NestedStep[] => list !== undefined);
}

function compileInputs(context: CompileContext, data: Workflow, prefix: PathSegment[]): Record<string, CompiledInput> {
  const inputs: Record<string, CompiledInput> = {};
  for (const [name, spec] of Object.entries(data.inputs ?? {})) {
    if (typeof spec === 'string') {
      inputs[name] = { type: spec, required: true };
      continue;
    }
    const input: CompiledInput = { type: spec.type, required: spec.required ?? spec.default === undefined };
    if (spec.description !== undefined) input.description = spec.description;
    if (spec.default !== undefined) {
      input.default = spec.default;
      if (!matchesType(spec.default, spec.type)) {
        report(context, [...prefix, 'inputs', name, 'default'], `the default is not of type ${spec.type}`);
      }
    }
    inputs[name] = input;
  }
  return inputs;
}

export function matchesType(value: unknown, type: CompiledInput['type']): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function compileComputed(context: CompileContext, data: Workflow, prefix: PathSegment[]): CompiledWorkflow['computed'] {
  const fields = new Map<string, ComputedFieldNode>();
  for (const [name, field] of Object.entries(data.computed ?? {})) {
    const path = [...prefix, 'computed', name];
    const from = typeof field.from === 'string' ? [field.from] : field.from;
    const dependencies = from.map(canonicalPath);
    dependencies.forEach((dependency, index) => {
      const problem = dependencyProblem(context.known, dependency);
      const at = typeof field.from === 'string' ? [...path, 'from'] : [...path, 'from', index];
      if (problem) report(context, at, problem.message, problem.severity);
    });
    const transform = compileExpressionAt(context, [...path, 'transform'], field.transform, 0, {
      done: new Set(),
      locals: new Set(),
    });
    if (!transform) continue;
    for (const reference of transform.references) {
      const [root, second] = reference.names;
      const read = root === 'computed' || root === 'state' || root === 'inputs' ? `${root}.${second ?? ''}` : undefined;
      if (
        read &&
        second !== undefined &&
        !dependencies.some((dependency) => read.startsWith(dependency) || dependency.startsWith(read))
      ) {
        report(
          context,
          [...path, 'transform'],
          `the transform reads ${read} but from does not list it, so a change to it does not recompute ${name}`,
          'warning',
        );
      }
    }
    const node: ComputedFieldNode = {
      name,
      dependencies,
      from,
      transform,
      hasFallback: field.fallback !== undefined,
      location: locateValue(context.source, path, 'key'),
    };
    if (field.fallback !== undefined) node.fallback = field.fallback;
    fields.set(name, node);
  }
  const { order, cycles } = orderComputed(fields);
  for (const cycle of cycles) {
    const described = cycle.map((name) => `${name} (line ${fields.get(name)?.location.line ?? '?'})`).join(' → ');
    const [first] = cycle;
    if (first !== undefined)
      report(
        context,
        [...prefix, 'computed', first, 'from'],
        `computed fields depend on each other in a cycle: ${described}`,
      );
  }
  return { fields, order: cycles.length > 0 ? [] : order };
}

function dependencyProblem(
  known: KnownNames,
  dependency: string,
): { message: string; severity: 'error' | 'warning' } | undefined {
  const [root, name] = dependency.split('.');
  if (root === undefined || !isScopeRoot(root) || ['steps', 'error', 'env'].includes(root)) {
    return {
      message: `${dependency}: a computed field depends on inputs, state or computed fields`,
      severity: 'error',
    };
  }
  if (name === undefined) return undefined;
  if (root === 'inputs' && !known.inputs.has(name))
    return { message: `${dependency}: no such input`, severity: 'error' };
  if (root === 'computed' && !known.computed.has(name)) {
    return { message: `${dependency}: no such computed field`, severity: 'error' };
  }
  if (root === 'state' && !known.state.has(name)) {
    return { message: `${dependency}: not in state or state_schema, and no step writes it`, severity: 'warning' };
  }
  return undefined;
}

/**
 * The file's own `servers:`, paths made absolute against its directory; one the runtime config also defines
 * differently is an error here (and, for a workflow loaded without the config, when it is spawned).
 */
function compileServers(
  context: CompileContext,
  data: Workflow,
  prefix: PathSegment[],
  options: CompileOptions,
): Record<string, ServerConfig> {
  const declared: Record<string, ServerConfig> = {};
  for (const [name, server] of Object.entries(data.servers ?? {})) {
    const resolved = withAbsolutePaths(server, options.baseDir);
    const configured = options.config?.servers[name];
    if (configured !== undefined && !sameServer(configured, resolved)) {
      report(context, [...prefix, 'servers', name], serverClashMessage(name, 'the runtime config'), 'error', 'key');
    }
    declared[name] = resolved;
  }
  return declared;
}

/** `tools:` keys name a tool or `server/tool` of a declared server; policies were validated by their schema. */
function checkToolKeys(
  context: CompileContext,
  data: Workflow,
  prefix: PathSegment[],
  servers: readonly string[],
  complete: boolean,
): void {
  const check = (reference: string | null, path: PathSegment[], target: 'key' | 'value') => {
    if (reference === null) return;
    const parts = reference.split('/');
    if (parts.length > 2 || parts.some((part) => !/^[A-Za-z0-9_.-]{1,128}$/.test(part))) {
      report(
        context,
        path,
        `${JSON.stringify(reference)} is not a tool name: expected "tool" or "server/tool"`,
        'error',
        target,
      );
    } else if (parts.length === 2 && complete && parts[0] !== undefined && !servers.includes(parts[0])) {
      report(
        context,
        path,
        `${JSON.stringify(reference)} names server "${parts[0]}", which is not declared`,
        'error',
        target,
      );
    }
  };
  for (const [name, policy] of Object.entries(data.tools ?? {})) {
    check(name, [...prefix, 'tools', name], 'key');
    (policy as ParsedToolPolicyConfig).fallbacks?.forEach((fallback, index) =>
      check(fallback, [...prefix, 'tools', name, 'fallbacks', index], 'value'),
    );
  }
}
