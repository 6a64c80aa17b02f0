// Compiling steps: ids (given or made from the step's place), nested steps, templates, and what each expression may read.
import type { PathSegment } from '../config/yamlErrors.js';
import type { BackoffSettings, ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import { splitCommand } from './commandWords.js';
import { compileCondition, compileValue, report } from './compileValues.js';
import type { CompileContext, Visibility } from './compileValues.js';
import type { CompiledErrorHandling, CompiledStep, CompiledWorkflow, ValueTemplate } from './compiledWorkflow.js';
import { locateValue } from './sourcePositions.js';
import { asStep } from './workflowSchema.js';
import type { InlineWorkflow, NestedStep, Step } from './workflowSchema.js';

/** Seed 004's ErrorHandler defaults: 3 retries, 1 s apart (doubling here, capped at 30 s). */
export const DEFAULT_RETRY_COUNT = 3;
export const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 30_000;
/** How often `wait … until` and `poll` check, unless told. */
export const DEFAULT_INTERVAL_MS = 1000;

/** A list of steps in the file: where it is, and the prefix of the ids made for its steps. */
interface StepList {
  steps: readonly NestedStep[];
  path: PathSegment[];
  idPrefix: string;
}

/** The lists of steps directly inside a step, with the ids their steps get when they have none. */
function nestedLists(step: Step, id: string, path: PathSegment[]): StepList[] {
  const lists: StepList[] = [];
  const add = (steps: readonly NestedStep[] | undefined, key: PathSegment[], prefix: string) => {
    if (steps) lists.push({ steps, path: [...path, ...key], idPrefix: `${id}_${prefix}` });
  };
  switch (step.type) {
    case 'conditional':
      add(step.then, ['then'], 'then');
      add(step.else, ['else'], 'else');
      break;
    case 'poll':
      add(Array.isArray(step.on_timeout) ? step.on_timeout : undefined, ['on_timeout'], 'timeout');
      add(step.cancel, ['cancel'], 'cancel');
      break;
    case 'parallel':
      step.branches.forEach((branch, index) => add(branch, ['branches', index], `branch${index + 1}_`));
      break;
    case 'foreach':
      add(step.steps, ['steps'], 'each');
      break;
    default:
      break;
  }
  add(step.cleanup, ['cleanup'], 'cleanup');
  return lists;
}

/** Pass one: every step's id, so references to steps that come later are told apart from typos. */
export function assignIds(
  context: CompileContext,
  list: StepList,
  ids: Map<NestedStep, string>,
  seen: Map<string, PathSegment[]>,
): void {
  list.steps.forEach((raw, index) => {
    const step = asStep(raw);
    const path = [...list.path, index];
    const id = step.id ?? `${list.idPrefix}${index + 1}`;
    const earlier = seen.get(id);
    if (earlier) {
      const where = locateValue(context.source, earlier);
      report(context, [...path, 'id'], `step id "${id}" is already used by the step at line ${where.line ?? '?'}`);
    } else {
      seen.set(id, step.id === undefined ? path : [...path, 'id']);
    }
    ids.set(raw, id);
    if (step.type === 'poll') {
      assignIds(context, { steps: [step.step], path: [...path, 'step'], idPrefix: `${id}_poll` }, ids, seen);
    }
    for (const nested of nestedLists(step, id, path)) assignIds(context, nested, ids, seen);
  });
}

export interface StepCompiler {
  context: CompileContext;
  ids: ReadonlyMap<NestedStep, string>;
  /** Known server names (the workflow's and the runtime config's); undefined when the config is unknown. */
  servers: readonly string[];
  serversComplete: boolean;
  /** Compiles a sub-workflow: a file relative to this one, or an inline definition. */
  subWorkflow(step: Extract<Step, { type: 'workflow' }>, path: PathSegment[]): CompiledWorkflow | undefined;
}

/** Pass two: compiles a list of steps in order; `done` grows as steps complete, so later steps may read them. */
export function compileStepList(
  compiler: StepCompiler,
  steps: readonly NestedStep[],
  path: PathSegment[],
  depth: number,
  visibility: Visibility,
  done: Set<string>,
): CompiledStep[] {
  return steps.map((raw, index) => {
    const compiled = compileStep(compiler, raw, [...path, index], depth, { ...visibility, done: new Set(done) });
    markDone(compiled, done);
    return compiled;
  });
}

function markDone(step: CompiledStep, done: Set<string>): void {
  done.add(step.id);
  if (step.type === 'poll') markDone(step.step, done);
  for (const list of [
    ...(step.type === 'conditional' ? [step.then, step.else] : []),
    ...(step.type === 'parallel' ? step.branches : []),
    ...(step.type === 'foreach' ? [step.steps] : []),
    ...(step.type === 'poll' ? [Array.isArray(step.onTimeout) ? step.onTimeout : [], step.cancel] : []),
    step.cleanup,
  ]) {
    for (const child of list) markDone(child, done);
  }
}

function compileStep(
  compiler: StepCompiler,
  raw: NestedStep,
  path: PathSegment[],
  depth: number,
  visibility: Visibility,
): CompiledStep {
  const { context } = compiler;
  const step = asStep(raw);
  const id = compiler.ids.get(raw) ?? 'unknown';
  const maxNesting = context.maxNesting;
  // Reported at the first level too deep only, not again for every step below it.
  if (depth === maxNesting) {
    report(context, path, `steps are nested ${depth + 1} deep, more than limits.max_nesting (${maxNesting})`);
  }
  const when =
    step.when === undefined ? undefined : compileCondition(context, [...path, 'when'], step.when, visibility);
  // A step's own error handling and cleanup run after it, so they see what it did.
  const after = (): Visibility => ({ ...visibility, done: new Set([...visibility.done]) });
  const onError = errorHandling(compiler, step, path, after());
  const base = {
    id,
    autoId: step.id === undefined,
    location: locateValue(context.source, path),
    path,
    depth,
    onError,
    cleanup: [] as CompiledStep[],
    ...(step.description === undefined ? {} : { description: step.description }),
    ...(when === undefined ? {} : { when }),
    ...(step.timeout === undefined ? {} : { timeoutMs: step.timeout }),
  };
  const nested = (steps: readonly NestedStep[] | undefined, key: PathSegment[], seen: Visibility): CompiledStep[] =>
    steps ? compileStepList(compiler, steps, [...path, ...key], depth + 1, seen, new Set(seen.done)) : [];
  const value = (key: PathSegment[], written: unknown, seen: Visibility = visibility): ValueTemplate =>
    compileValue(context, [...path, ...key], written, seen);
  const compiled = ((): CompiledStep => {
    switch (step.type) {
      case 'mcp_call':
        return {
          ...base,
          type: 'mcp_call',
          ...mcpTarget(compiler, step, path),
          arguments: value(['arguments'], step.arguments ?? {}),
          policy: callPolicy(step, onError),
        };
      case 'shell_command':
        return {
          ...base,
          type: 'shell_command',
          ...shellCommand(compiler, step, path, visibility),
          idempotent: step.idempotent ?? false,
        };
      case 'conditional':
        return {
          ...base,
          type: 'conditional',
          condition: compileCondition(context, [...path, 'condition'], step.condition, visibility),
          then: nested(step.then, ['then'], visibility),
          else: nested(step.else, ['else'], visibility),
        };
      case 'state_update':
        if (step.value === undefined && ['set', 'append', 'merge'].includes(step.operation)) {
          report(context, path, `operation ${step.operation} needs a value`);
        }
        if (step.value !== undefined && step.operation === 'delete') {
          report(context, [...path, 'value'], 'operation delete takes no value', 'warning');
        }
        return {
          ...base,
          type: 'state_update',
          path: step.path.split('.'),
          operation: step.operation,
          ...(step.value === undefined ? {} : { value: value(['value'], step.value) }),
        };
      case 'error':
        return { ...base, type: 'error', message: value(['message'], step.message) };
      case 'wait': {
        if ((step.duration === undefined) === (step.until === undefined)) {
          report(context, path, 'a wait step takes either duration or until');
        }
        const until =
          step.until === undefined ? undefined : compileCondition(context, [...path, 'until'], step.until, visibility);
        return {
          ...base,
          type: 'wait',
          intervalMs: step.interval ?? DEFAULT_INTERVAL_MS,
          ...(step.duration === undefined ? {} : { durationMs: step.duration }),
          ...(until === undefined ? {} : { until }),
        };
      }
      case 'poll': {
        const polled = compileStep(compiler, step.step, [...path, 'step'], depth + 1, visibility);
        const afterPoll: Visibility = {
          done: new Set([...visibility.done, polled.id]),
          locals: new Set([...visibility.locals, 'result', 'attempt']),
        };
        if (step.timeout === undefined && step.max_polls === undefined) {
          report(context, path, 'this poll has neither timeout nor max_polls: it may poll forever', 'warning');
        }
        const failWhen =
          step.fail_when === undefined
            ? undefined
            : compileCondition(context, [...path, 'fail_when'], step.fail_when, afterPoll);
        return {
          ...base,
          type: 'poll',
          step: polled,
          until: compileCondition(context, [...path, 'until'], step.until, afterPoll),
          intervalMs: step.interval ?? DEFAULT_INTERVAL_MS,
          onTimeout: Array.isArray(step.on_timeout)
            ? nested(step.on_timeout, ['on_timeout'], afterPoll)
            : (step.on_timeout ?? 'fail'),
          cancel: nested(step.cancel, ['cancel'], afterPoll),
          ...(failWhen === undefined ? {} : { failWhen }),
          ...(step.max_polls === undefined ? {} : { maxPolls: step.max_polls }),
        };
      }
      case 'parallel':
        return {
          ...base,
          type: 'parallel',
          branches: step.branches.map((branch, index) => nested(branch, ['branches', index], visibility)),
          strategy: step.strategy,
          ...(step.concurrency === undefined ? {} : { concurrency: step.concurrency }),
        };
      case 'foreach': {
        const inLoop: Visibility = { ...visibility, locals: new Set([...visibility.locals, step.as, step.index_as]) };
        return {
          ...base,
          type: 'foreach',
          items: value(['items'], step.items),
          as: step.as,
          indexAs: step.index_as,
          concurrency: step.concurrency ?? 1,
          steps: nested(step.steps, ['steps'], inLoop),
        };
      }
      case 'workflow': {
        if ((step.file === undefined) === (step.inline === undefined)) {
          report(context, path, 'a workflow step takes either file or inline');
        }
        const workflow = compiler.subWorkflow(step, path);
        const sub: CompiledStep = {
          ...base,
          type: 'workflow',
          inputs: value(['inputs'], step.inputs ?? {}),
          workflow: workflow ?? placeholderWorkflow(step.inline),
        };
        return sub;
      }
      case 'return':
        return { ...base, type: 'return', value: value(['value'], step.value ?? null) };
    }
  })();
  compiled.cleanup = nested(step.cleanup, ['cleanup'], after());
  return compiled;
}

function errorHandling(
  compiler: StepCompiler,
  step: Step,
  path: PathSegment[],
  visibility: Visibility,
): CompiledErrorHandling {
  const { context } = compiler;
  const strategy = step.on_error ?? 'fail';
  const retrying = strategy === 'retry';
  if (!retrying && (step.retry_count !== undefined || step.retry_delay !== undefined)) {
    const field = step.retry_count !== undefined ? 'retry_count' : 'retry_delay';
    report(context, [...path, field], `${field} has no effect unless on_error is retry`, 'warning', 'key');
  }
  if (strategy === 'fallback' && step.fallback_value === undefined) {
    report(context, [...path, 'on_error'], 'on_error: fallback needs a fallback_value');
  }
  const baseDelayMs = step.retry_delay ?? DEFAULT_RETRY_DELAY_MS;
  const retry: BackoffSettings = {
    maxRetries: retrying ? (step.retry_count ?? DEFAULT_RETRY_COUNT) : 0,
    baseDelayMs,
    maxDelayMs: Math.max(MAX_RETRY_DELAY_MS, baseDelayMs),
    exponentialBase: 2,
    jitter: 'none',
  };
  const handling: CompiledErrorHandling = { strategy, retry };
  const withError: Visibility = { ...visibility, locals: new Set([...visibility.locals]) };
  if (step.fallback_value !== undefined) {
    handling.fallbackValue = compileValue(context, [...path, 'fallback_value'], step.fallback_value, withError);
  }
  if (step.error_state_update) {
    handling.errorStateUpdate = {
      path: step.error_state_update.path.split('.'),
      value: compileValue(context, [...path, 'error_state_update', 'value'], step.error_state_update.value, withError),
    };
  }
  return handling;
}

function mcpTarget(
  compiler: StepCompiler,
  step: Extract<Step, { type: 'mcp_call' }>,
  path: PathSegment[],
): { server?: string; tool: string } {
  const { context } = compiler;
  const written = step.tool ?? step.method;
  if (step.tool !== undefined && step.method !== undefined && step.tool !== step.method) {
    report(context, [...path, 'method'], "give the tool once: tool and method (seed 004's name for it) disagree");
  }
  if (written === undefined) {
    report(context, path, 'an mcp_call needs a tool (or method)');
    return { tool: '' };
  }
  // `server/tool` names both.
  const slash = written.indexOf('/');
  const server = step.server ?? (slash > 0 ? written.slice(0, slash) : undefined);
  const tool = slash > 0 && step.server === undefined ? written.slice(slash + 1) : written;
  const key = step.tool !== undefined ? 'tool' : 'method';
  if (server !== undefined) {
    if (compiler.serversComplete && !compiler.servers.includes(server)) {
      const known =
        compiler.servers.length > 0 ? `declared: ${compiler.servers.join(', ')}` : 'no servers are declared';
      report(context, [...path, step.server !== undefined ? 'server' : key], `unknown server "${server}" (${known})`);
    }
    return { server, tool };
  }
  if (compiler.servers.length === 1 && compiler.servers[0] !== undefined) return { server: compiler.servers[0], tool };
  if (compiler.servers.length > 1) {
    report(
      context,
      path,
      `name the server of ${JSON.stringify(tool)}: several are declared (${compiler.servers.join(', ')})`,
    );
  } else {
    // The config a run uses may declare the one server this needs (seed 004's example names none).
    const where = compiler.serversComplete
      ? 'neither the workflow nor the runtime config declares a server'
      : 'no server is declared here';
    report(
      context,
      [...path, key],
      `${where} for ${JSON.stringify(tool)}: the runtime config of the run must have exactly one`,
      'warning',
    );
  }
  return { tool };
}

/** The call's policy layer: `policy:`, then `on_error: retry` (retry_count/retry_delay as the call's retries), then `timeout` per attempt. */
function callPolicy(step: Extract<Step, { type: 'mcp_call' }>, onError: CompiledErrorHandling): ParsedToolPolicyConfig {
  const policy: ParsedToolPolicyConfig = { ...step.policy };
  if (onError.strategy === 'retry') {
    policy.max_retries = onError.retry.maxRetries;
    policy.base_delay = onError.retry.baseDelayMs;
  }
  if (step.timeout !== undefined) policy.timeout = step.timeout;
  return policy;
}

function shellCommand(
  compiler: StepCompiler,
  step: Extract<Step, { type: 'shell_command' }>,
  path: PathSegment[],
  visibility: Visibility,
): { argv: ValueTemplate[]; env: Array<[string, ValueTemplate]>; cwd?: ValueTemplate } {
  const { context } = compiler;
  let argv: ValueTemplate[];
  if (typeof step.command === 'string') {
    const split = splitCommand(step.command);
    for (const problem of split.problems)
      report(context, [...path, 'command'], `${problem.message} (at character ${problem.offset + 1})`);
    argv = split.words.map((word) => compileValue(context, [...path, 'command'], word, visibility));
  } else {
    argv = step.command.map((word, index) => compileValue(context, [...path, 'command', index], word, visibility));
  }
  const env = Object.entries(step.env ?? {}).map(([name, written]): [string, ValueTemplate] => [
    name,
    compileValue(context, [...path, 'env', name], written, visibility),
  ]);
  return {
    argv,
    env,
    ...(step.cwd === undefined ? {} : { cwd: compileValue(context, [...path, 'cwd'], step.cwd, visibility) }),
  };
}

/** Stands in for a sub-workflow that failed to compile (its problems are already reported). */
function placeholderWorkflow(inline: InlineWorkflow | undefined): CompiledWorkflow {
  return {
    name: inline?.name ?? '(not loaded)',
    file: '',
    baseDir: '',
    inputs: {},
    initialState: {},
    computed: { fields: new Map(), order: [] },
    servers: {},
    declaredServers: {},
    tools: {},
    env: [],
    limits: {
      max_steps: 0,
      max_nesting: 0,
      state_size_warning: 0,
      state_size_max: 0,
      expression_steps: 0,
      expression_timeout: 0,
    },
    steps: [],
    stepsById: new Map(),
  };
}
