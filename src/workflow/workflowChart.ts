// A compiled workflow's step tree as a statechart config for the Stately tools: each step a state in order,
// conditionals as branches, parallel as parallel regions, foreach and poll as compound states, on_error as edges.
import type { JsonValue } from '../machines/export/machineConfig.js';
import type { CompiledCondition, CompiledStep, CompiledWorkflow, PollStep, ValueTemplate } from './compiledWorkflow.js';

type Config = { [key: string]: JsonValue };

/** Keys of the states the chart adds: each has a `-`, which no step id has, so they never meet a step. */
export const ChartKey = {
  succeeded: 'run-succeeded',
  failed: 'run-failed',
  onError: 'on-error',
  choose: 'choose',
  then: 'then',
  else: 'else',
  branches: 'branches',
  branchDone: 'branch-done',
  nextItem: 'next-item',
  judge: 'judge',
  wait: 'wait',
  timedOut: 'timed-out',
} as const;

/** The machine id of a workflow's chart: its name, never equal to a step id (which has no `-`). */
export function workflowChartId(workflow: CompiledWorkflow): string {
  const id = workflow.name.replace(/[^A-Za-z0-9_-]/g, '-');
  return /^[A-Za-z0-9_]*$/.test(id) ? `${id}-workflow` : id;
}

/**
 * The chart: a machine config `createMachine()` accepts (no implementations; guards, actions and actors by
 * name, their data as params or input). Each step state has the step's id as its own id, so every edge
 * names its target absolutely (`#promote`, `#monitor.judge`). Cleanup and cancel steps are not drawn.
 */
export function workflowChartConfig(workflow: CompiledWorkflow): Config {
  const rootId = workflowChartId(workflow);
  const succeeded = `#${rootId}.${ChartKey.succeeded}`;
  const failed = `#${rootId}.${ChartKey.failed}`;
  const finished = (name: string): Config => ({ type: 'final', description: `the run ${name}` });
  return {
    id: rootId,
    description: workflow.description ?? `workflow ${workflow.name} (${workflow.file})`,
    initial: workflow.steps[0]?.id ?? ChartKey.succeeded,
    states: {
      ...sequence(workflow.steps, { end: succeeded, fail: failed, succeeded }),
      [ChartKey.succeeded]: finished('succeeded'),
      [ChartKey.failed]: finished('failed'),
    },
  };
}

/** Where a step list goes on: `end` after its last step, `fail` when a step fails for good. */
interface Exits {
  end: string;
  fail: string;
  /** The run's end (a `return` step goes there). */
  succeeded: string;
}

function sequence(steps: readonly CompiledStep[], exits: Exits): Config {
  const states: Config = {};
  steps.forEach((step, index) => {
    const following = steps[index + 1];
    states[step.id] = stepState(step, { ...exits, end: following ? `#${following.id}` : exits.end });
  });
  return states;
}

/** `exits.end` is where this step goes on to; `exits.fail` where its failure goes when on_error does not recover. */
function stepState(step: CompiledStep, exits: Exits): Config {
  const base: Config = { id: step.id, description: describe(step) };
  if (step.when) base.always = [{ guard: condition('whenFalse', step.when), target: exits.end }];
  const own = `#${step.id}`;
  const inner = { ...exits, fail: `${own}.${ChartKey.onError}` };
  const onError = { [ChartKey.onError]: { always: errorEdges(step, exits) } };
  switch (step.type) {
    case 'conditional': {
      const branch = (key: string, steps: CompiledStep[]): Config =>
        steps.length === 0 ? {} : { [key]: { initial: steps[0]?.id ?? '', states: sequence(steps, inner) } };
      const start = (key: string, steps: CompiledStep[]) => (steps.length === 0 ? exits.end : `${own}.${key}`);
      return {
        ...base,
        initial: ChartKey.choose,
        states: {
          [ChartKey.choose]: {
            always: [
              { guard: condition('condition', step.condition), target: start(ChartKey.then, step.then) },
              { target: start(ChartKey.else, step.else) },
            ],
          },
          ...branch(ChartKey.then, step.then),
          ...branch(ChartKey.else, step.else),
          ...onError,
        },
      };
    }
    case 'parallel': {
      const regions: Config = {};
      step.branches.forEach((steps, index) => {
        const key = `branch-${index + 1}`;
        const done = `${own}.${ChartKey.branches}.${key}.${ChartKey.branchDone}`;
        regions[key] = {
          initial: steps[0]?.id ?? ChartKey.branchDone,
          states: { ...sequence(steps, { ...inner, end: done }), [ChartKey.branchDone]: { type: 'final' } },
        };
      });
      return {
        ...base,
        initial: ChartKey.branches,
        states: {
          [ChartKey.branches]: { type: 'parallel', states: regions, onDone: { target: exits.end } },
          ...onError,
        },
      };
    }
    case 'foreach': {
      const next = `${own}.${ChartKey.nextItem}`;
      return {
        ...base,
        initial: ChartKey.nextItem,
        states: {
          [ChartKey.nextItem]: {
            always: [
              ...(step.steps[0]
                ? [
                    {
                      guard: { type: 'moreItems', params: { items: template(step.items) } },
                      target: `#${step.steps[0].id}`,
                    },
                  ]
                : []),
              { target: exits.end },
            ],
          },
          ...sequence(step.steps, { ...inner, end: next }),
          ...onError,
        },
      };
    }
    case 'poll': {
      const poll = pollStates(step, exits, inner);
      return { ...base, initial: poll.initial, states: { ...poll.states, ...onError } };
    }
    default: {
      const input = invokeInput(step);
      return {
        ...base,
        invoke: {
          id: step.id,
          src: step.type,
          ...(input === undefined ? {} : { input }),
          onDone: { target: step.type === 'return' ? exits.succeeded : exits.end },
          onError: errorEdges(step, exits),
        },
      };
    }
  }
}

/** A poll: its step, then `judge` (until, fail_when, polls left), `wait` the interval, the timeout's path. */
function pollStates(step: PollStep, exits: Exits, inner: Exits): { initial: string; states: Config } {
  const own = `#${step.id}`;
  const judge = `${own}.${ChartKey.judge}`;
  const timeout =
    step.onTimeout === 'fail'
      ? { target: inner.fail, actions: 'pollTimedOut' }
      : step.onTimeout === 'continue' || step.onTimeout.length === 0
        ? { target: exits.end, actions: 'pollTimedOut' }
        : { target: `${own}.${ChartKey.timedOut}`, actions: 'pollTimedOut' };
  const timedOutSteps = Array.isArray(step.onTimeout) && step.onTimeout.length > 0 ? step.onTimeout : undefined;
  return {
    initial: step.step.id,
    states: {
      ...sequence([step.step], { ...inner, end: judge }),
      [ChartKey.judge]: {
        always: [
          { guard: condition('until', step.until), target: exits.end },
          ...(step.failWhen ? [{ guard: condition('failWhen', step.failWhen), target: inner.fail }] : []),
          ...(step.maxPolls === undefined
            ? [{ target: `${own}.${ChartKey.wait}` }]
            : [
                {
                  guard: { type: 'pollsLeft', params: { max_polls: step.maxPolls } },
                  target: `${own}.${ChartKey.wait}`,
                },
                timeout,
              ]),
        ],
      },
      [ChartKey.wait]: { after: { [String(step.intervalMs)]: { target: `#${step.step.id}`, reenter: true } } },
      ...(timedOutSteps
        ? { [ChartKey.timedOut]: { initial: timedOutSteps[0]?.id ?? '', states: sequence(timedOutSteps, inner) } }
        : {}),
    },
  };
}

/** on_error as edges: a retry loop back into the step, then the fallback, continue or fail path. */
function errorEdges(step: CompiledStep, exits: Exits): JsonValue[] {
  const { strategy, retry, errorStateUpdate } = step.onError;
  const noted: JsonValue[] = errorStateUpdate
    ? [{ type: 'writeErrorState', params: { path: errorStateUpdate.path.join('.') } }]
    : [];
  const edges: JsonValue[] = [];
  if (strategy === 'retry' && retry.maxRetries > 0) {
    // An mcp_call's retries happen inside its tool call (its retry fields are the call's policy).
    const where = step.type === 'mcp_call' ? 'toolCallRetriesLeft' : 'retriesLeft';
    edges.push({
      guard: { type: where, params: { max_retries: retry.maxRetries } },
      target: `#${step.id}`,
      reenter: true,
      actions: ['scheduleRetry'],
    });
  }
  if (strategy === 'fallback') edges.push({ target: exits.end, actions: [...noted, 'useFallbackValue'] });
  else if (strategy === 'continue') edges.push({ target: exits.end, actions: [...noted, 'continueWithError'] });
  else edges.push({ target: exits.fail, actions: [...noted, 'stepFailed'] });
  return edges;
}

function condition(type: string, value: CompiledCondition): JsonValue {
  return { type, params: { expression: value.kind === 'literal' ? String(value.value) : value.expression.source } };
}

function template(value: ValueTemplate): string {
  if (value.kind === 'expression') return value.expression.source;
  return value.kind === 'literal' ? JSON.stringify(value.value) : 'a template';
}

function invokeInput(step: CompiledStep): Config | undefined {
  switch (step.type) {
    case 'mcp_call':
      return { ...(step.server === undefined ? {} : { server: step.server }), tool: step.tool };
    case 'workflow':
      return { workflow: step.workflow.name, ...(step.file === undefined ? {} : { file: step.file }) };
    case 'state_update':
      return { path: step.path.join('.'), operation: step.operation };
    default:
      return undefined;
  }
}

function describe(step: CompiledStep): string {
  const parts = [`${step.type} (line ${step.location.line})`];
  if (step.description) parts.push(step.description);
  if (step.timeoutMs !== undefined) parts.push(`timeout ${step.timeoutMs} ms`);
  parts.push(`on_error ${step.onError.strategy}`);
  if (step.cleanup.length > 0) parts.push(`cleanup: ${step.cleanup.map((cleanup) => cleanup.id).join(', ')}`);
  return parts.join('; ');
}
