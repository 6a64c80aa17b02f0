// Compiling the steps that hold steps or wait on a condition: conditional, wait, poll, parallel, foreach, sub-workflows.
import { compileCondition, report } from './compileValues.js';
import type { Visibility } from './compileValues.js';
import type { CompiledStepOf, CompiledWorkflow } from './compiledWorkflow.js';
import type { StepOf, StepParts } from './compileSteps.js';
import type { InlineWorkflow } from './workflowSchema.js';

/** How often `wait … until` and `poll` check, unless told. */
export const DEFAULT_INTERVAL_MS = 1000;

export function compileConditional(parts: StepParts, step: StepOf<'conditional'>): CompiledStepOf<'conditional'> {
  const { context } = parts.compiler;
  return {
    ...parts.base,
    type: 'conditional',
    condition: compileCondition(context, [...parts.path, 'condition'], step.condition, parts.visibility),
    then: parts.nested(step.then, ['then'], parts.visibility),
    else: parts.nested(step.else, ['else'], parts.visibility),
  };
}

export function compileWait(parts: StepParts, step: StepOf<'wait'>): CompiledStepOf<'wait'> {
  const { context } = parts.compiler;
  if ((step.duration === undefined) === (step.until === undefined)) {
    report(context, parts.path, 'a wait step takes either duration or until');
  }
  const until =
    step.until === undefined
      ? undefined
      : compileCondition(context, [...parts.path, 'until'], step.until, parts.visibility);
  return {
    ...parts.base,
    type: 'wait',
    intervalMs: step.interval ?? DEFAULT_INTERVAL_MS,
    ...(step.duration === undefined ? {} : { durationMs: step.duration }),
    ...(until === undefined ? {} : { until }),
  };
}

export function compilePoll(parts: StepParts, step: StepOf<'poll'>): CompiledStepOf<'poll'> {
  const { context } = parts.compiler;
  const { path, visibility } = parts;
  const polled = parts.step(step.step, ['step'], visibility);
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
    ...parts.base,
    type: 'poll',
    step: polled,
    until: compileCondition(context, [...path, 'until'], step.until, afterPoll),
    intervalMs: step.interval ?? DEFAULT_INTERVAL_MS,
    onTimeout: Array.isArray(step.on_timeout)
      ? parts.nested(step.on_timeout, ['on_timeout'], afterPoll)
      : (step.on_timeout ?? 'fail'),
    cancel: parts.nested(step.cancel, ['cancel'], afterPoll),
    ...(failWhen === undefined ? {} : { failWhen }),
    ...(step.max_polls === undefined ? {} : { maxPolls: step.max_polls }),
  };
}

export function compileParallel(parts: StepParts, step: StepOf<'parallel'>): CompiledStepOf<'parallel'> {
  return {
    ...parts.base,
    type: 'parallel',
    branches: step.branches.map((branch, index) => parts.nested(branch, ['branches', index], parts.visibility)),
    strategy: step.strategy,
    ...(step.concurrency === undefined ? {} : { concurrency: step.concurrency }),
  };
}

export function compileForeach(parts: StepParts, step: StepOf<'foreach'>): CompiledStepOf<'foreach'> {
  const { visibility } = parts;
  const inLoop: Visibility = { ...visibility, locals: new Set([...visibility.locals, step.as, step.index_as]) };
  return {
    ...parts.base,
    type: 'foreach',
    items: parts.value(['items'], step.items),
    as: step.as,
    indexAs: step.index_as,
    concurrency: step.concurrency ?? 1,
    steps: parts.nested(step.steps, ['steps'], inLoop),
  };
}

export function compileSubWorkflow(parts: StepParts, step: StepOf<'workflow'>): CompiledStepOf<'workflow'> {
  if ((step.file === undefined) === (step.inline === undefined)) {
    report(parts.compiler.context, parts.path, 'a workflow step takes either file or inline');
  }
  const workflow = parts.compiler.subWorkflow(step, parts.path);
  return {
    ...parts.base,
    type: 'workflow',
    inputs: parts.value(['inputs'], step.inputs ?? {}),
    workflow: workflow ?? placeholderWorkflow(step.inline),
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
