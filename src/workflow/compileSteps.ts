// Compiling steps, pass two: each step's common fields, nested lists in order, and the steps that only compute values.
import type { PathSegment } from '../config/yamlErrors.js';
import { compileMcpCall, compileShellCommand } from './compileCallSteps.js';
import { compileErrorHandling } from './compileErrorHandling.js';
import {
  compileConditional,
  compileForeach,
  compileParallel,
  compilePoll,
  compileSubWorkflow,
  compileWait,
} from './compileFlowSteps.js';
import { compileCondition, compileValue, report } from './compileValues.js';
import type { CompileContext, Visibility } from './compileValues.js';
import type { CompiledStep, CompiledWorkflow, StepBase, ValueTemplate } from './compiledWorkflow.js';
import { locateValue } from './sourcePositions.js';
import { asStep } from './workflowSchema.js';
import type { NestedStep, Step } from './workflowSchema.js';

export type StepOf<T extends Step['type']> = Extract<Step, { type: T }>;

export interface StepCompiler {
  context: CompileContext;
  ids: ReadonlyMap<NestedStep, string>;
  /** Known server names (the workflow's and the runtime config's); undefined when the config is unknown. */
  servers: readonly string[];
  serversComplete: boolean;
  /** Compiles a sub-workflow: a file relative to this one, or an inline definition. */
  subWorkflow(step: StepOf<'workflow'>, path: PathSegment[]): CompiledWorkflow | undefined;
}

/** What a step family's compiler is given: the step's common fields, and how to compile what the step holds. */
export interface StepParts {
  compiler: StepCompiler;
  path: PathSegment[];
  /** What the step's own fields may read. */
  visibility: Visibility;
  base: StepBase;
  /** A list of steps at `key` under the step, one level deeper, seeing `seen`. */
  nested(steps: readonly NestedStep[] | undefined, key: PathSegment[], seen: Visibility): CompiledStep[];
  /** A value (its templates compiled) at `key` under the step. */
  value(key: PathSegment[], written: unknown, seen?: Visibility): ValueTemplate;
  /** One step at `key` under the step (a poll's polled step), one level deeper. */
  step(raw: NestedStep, key: PathSegment[], seen: Visibility): CompiledStep;
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
  const base: StepBase = {
    id,
    autoId: step.id === undefined,
    location: locateValue(context.source, path),
    path,
    depth,
    onError: compileErrorHandling(context, step, path, after()),
    cleanup: [],
    ...(step.description === undefined ? {} : { description: step.description }),
    ...(when === undefined ? {} : { when }),
    ...(step.timeout === undefined ? {} : { timeoutMs: step.timeout }),
  };
  const parts: StepParts = {
    compiler,
    path,
    visibility,
    base,
    nested: (steps, key, seen) =>
      steps ? compileStepList(compiler, steps, [...path, ...key], depth + 1, seen, new Set(seen.done)) : [],
    value: (key, written, seen = visibility) => compileValue(context, [...path, ...key], written, seen),
    step: (nested, key, seen) => compileStep(compiler, nested, [...path, ...key], depth + 1, seen),
  };
  const compiled = ((): CompiledStep => {
    switch (step.type) {
      case 'mcp_call':
        return compileMcpCall(parts, step);
      case 'shell_command':
        return compileShellCommand(parts, step);
      case 'conditional':
        return compileConditional(parts, step);
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
          ...(step.value === undefined ? {} : { value: parts.value(['value'], step.value) }),
        };
      case 'error':
        return { ...base, type: 'error', message: parts.value(['message'], step.message) };
      case 'wait':
        return compileWait(parts, step);
      case 'poll':
        return compilePoll(parts, step);
      case 'parallel':
        return compileParallel(parts, step);
      case 'foreach':
        return compileForeach(parts, step);
      case 'workflow':
        return compileSubWorkflow(parts, step);
      case 'return':
        return { ...base, type: 'return', value: parts.value(['value'], step.value ?? null) };
    }
  })();
  compiled.cleanup = parts.nested(step.cleanup, ['cleanup'], after());
  return compiled;
}
