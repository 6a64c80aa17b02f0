// The compiled form the executor runs: a typed step tree with source positions, compiled expressions and the computed-field graph.
import type { SourceLocation } from '../common/errors.js';
import type { ServerConfig } from '../actors/serverConfig.js';
import type { PathSegment, SourceProblem } from '../config/yamlErrors.js';
import type { BackoffSettings, ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import type { ComputedGraph } from './computedGraph.js';
import type { CompiledExpression } from './expression.js';
import type {
  ErrorStrategy,
  StateOperation,
  StateSchema,
  StepType,
  ValueType,
  WorkflowLimits,
} from './workflowSchema.js';

/** A YAML value whose strings may hold `{{ }}` templates, ready to render against a scope. */
export type ValueTemplate =
  | { kind: 'literal'; value: unknown }
  /** A string that is one template: the value keeps its type. */
  | { kind: 'expression'; expression: CompiledExpression }
  /** Text with templates inside: rendered as a string. */
  | { kind: 'text'; parts: Array<string | CompiledExpression> }
  | { kind: 'list'; items: ValueTemplate[] }
  | { kind: 'mapping'; entries: Array<[string, ValueTemplate]> };

export type CompiledCondition =
  { kind: 'literal'; value: boolean } | { kind: 'expression'; expression: CompiledExpression };

export interface CompiledErrorHandling {
  strategy: ErrorStrategy;
  /** Retries of the step itself (`on_error: retry`); zero retries otherwise. Delays double, without jitter. */
  retry: BackoffSettings;
  fallbackValue?: ValueTemplate;
  /** Written into state when the step fails (its value may read `error`). */
  errorStateUpdate?: { path: string[]; value: ValueTemplate };
}

/** The fields every compiled step has, whatever its type. */
export interface StepBase {
  id: string;
  /** True when the file gave no id and one was made from the step's place (`step3_then1`). */
  autoId: boolean;
  description?: string;
  /** The step's mapping in the file. */
  location: SourceLocation;
  path: PathSegment[];
  /** 0 for top-level steps. */
  depth: number;
  when?: CompiledCondition;
  onError: CompiledErrorHandling;
  /** Bounds one attempt of the step. */
  timeoutMs?: number;
  cleanup: CompiledStep[];
}

export interface McpCallStep extends StepBase {
  type: 'mcp_call';
  /** Undefined when the file names none: the runtime picks its only server. */
  server?: string;
  tool: string;
  arguments: ValueTemplate;
  /** This call's policy layer: the step's `policy`, then its retry fields and timeout. */
  policy: ParsedToolPolicyConfig;
}

export interface ShellCommandStep extends StepBase {
  type: 'shell_command';
  /** One template per argv word; a rendered word is never split again. */
  argv: ValueTemplate[];
  env: Array<[string, ValueTemplate]>;
  cwd?: ValueTemplate;
  /** May run again after a crash cut it off (`idempotent: true`). */
  idempotent: boolean;
}

export interface ConditionalStep extends StepBase {
  type: 'conditional';
  condition: CompiledCondition;
  then: CompiledStep[];
  else: CompiledStep[];
}

export interface StateUpdateStep extends StepBase {
  type: 'state_update';
  path: string[];
  operation: StateOperation;
  value?: ValueTemplate;
}

export interface ErrorStep extends StepBase {
  type: 'error';
  message: ValueTemplate;
}

export interface WaitStep extends StepBase {
  type: 'wait';
  durationMs?: number;
  until?: CompiledCondition;
  intervalMs: number;
}

export interface PollStep extends StepBase {
  type: 'poll';
  step: CompiledStep;
  until: CompiledCondition;
  failWhen?: CompiledCondition;
  intervalMs: number;
  maxPolls?: number;
  onTimeout: 'fail' | 'continue' | CompiledStep[];
  cancel: CompiledStep[];
}

export interface ParallelStep extends StepBase {
  type: 'parallel';
  branches: CompiledStep[][];
  concurrency?: number;
  strategy: 'fail_fast' | 'collect';
}

export interface ForeachStep extends StepBase {
  type: 'foreach';
  items: ValueTemplate;
  as: string;
  indexAs: string;
  concurrency: number;
  steps: CompiledStep[];
}

export interface SubWorkflowStep extends StepBase {
  type: 'workflow';
  /** The absolute path of the file, when it came from one. */
  file?: string;
  workflow: CompiledWorkflow;
  inputs: ValueTemplate;
}

export interface ReturnStep extends StepBase {
  type: 'return';
  value: ValueTemplate;
}

export type CompiledStep =
  | McpCallStep
  | ShellCommandStep
  | ConditionalStep
  | StateUpdateStep
  | ErrorStep
  | WaitStep
  | PollStep
  | ParallelStep
  | ForeachStep
  | SubWorkflowStep
  | ReturnStep;

/** Compile-time check that every step type has its compiled form. */
export type CompiledStepOf<T extends StepType> = Extract<CompiledStep, { type: T }>;

export interface CompiledInput {
  type: ValueType;
  required: boolean;
  default?: unknown;
  description?: string;
}

export interface CompiledWorkflow {
  name: string;
  description?: string;
  /** As shown in problems (relative to the working directory when under it). */
  file: string;
  /** The file's absolute path, when it was loaded from one (not for text compiled in code). */
  path?: string;
  /** The directory relative paths (sub-workflows, shell `cwd`) start from. */
  baseDir: string;
  inputs: Record<string, CompiledInput>;
  stateSchema?: StateSchema;
  initialState: Record<string, unknown>;
  computed: ComputedGraph;
  /** Every server the workflow may call: the runtime config's (when loaded with one) and its own. */
  servers: Record<string, ServerConfig>;
  /** The file's own `servers:` (paths absolute): the runtime connects them while the workflow runs. */
  declaredServers: Record<string, ServerConfig>;
  tools: Record<string, ParsedToolPolicyConfig>;
  /** Environment variables expressions may read. */
  env: string[];
  limits: WorkflowLimits;
  timeoutMs?: number;
  steps: CompiledStep[];
  /** Every step of this workflow (nested too, not those of sub-workflows), by id. */
  stepsById: ReadonlyMap<string, CompiledStep>;
}

export type ProblemSeverity = 'error' | 'warning';

/** A problem found while loading: errors stop the workflow from running, warnings do not. */
export interface WorkflowProblem extends SourceProblem {
  severity: ProblemSeverity;
}

/** Calls `visit` on every step, depth first, in document order (cleanup and nested steps included). */
export function forEachStep(steps: readonly CompiledStep[], visit: (step: CompiledStep) => void): void {
  for (const step of steps) {
    visit(step);
    forEachStep(childSteps(step), visit);
  }
}

/** The steps directly inside a step (not those of a sub-workflow). */
export function childSteps(step: CompiledStep): CompiledStep[] {
  const children: CompiledStep[] = [];
  switch (step.type) {
    case 'conditional':
      children.push(...step.then, ...step.else);
      break;
    case 'poll':
      children.push(step.step, ...(Array.isArray(step.onTimeout) ? step.onTimeout : []), ...step.cancel);
      break;
    case 'parallel':
      children.push(...step.branches.flat());
      break;
    case 'foreach':
      children.push(...step.steps);
      break;
    default:
      break;
  }
  children.push(...step.cleanup);
  return children;
}
