// The workflow file as zod schemas: the top level, one schema per step type, the fields every step shares, one union by `type`.
import { z } from 'zod';
import { parseDurationMs } from '../common/duration.js';
import { ServerConfig } from '../actors/serverConfig.js';
import { ServerName } from '../config/runtimeConfig.js';
import { ToolPolicyConfig } from '../policy/toolPolicy.js';
import { STEP_TYPES, type StepType } from './stepTypes.js';

/** Step durations: a number is milliseconds (seed 004's `retry_delay: 2000`); strings carry a unit (`250ms`, `2s`, `5m`). */
export const StepDuration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms =
    typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? value : undefined) : parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration (milliseconds as a number, or a string like 250ms, 2s, 5m), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return Math.round(ms);
});

/** Step ids are plain names, so `steps.<id>.result` reads as a path in expressions. */
export const StepId = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
  error: 'a step id is a name of letters, digits and "_" (so steps.<id>.result works in expressions)',
});

/** A condition: an expression, written bare or as one `{{ }}` template, or a literal boolean. */
export const Condition = z.union([z.string().min(1), z.boolean()]);

/** A dotted path into state (`raw.attempts`); `__proto__`, `constructor` and `prototype` are refused. */
export const StatePath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, {
    error: 'a state path is dotted names of letters, digits and "_", e.g. raw.attempts',
  })
  .refine((path) => !path.split('.').some((name) => forbiddenNames.has(name)), {
    error: 'a state path may not name __proto__, constructor or prototype',
  });
const forbiddenNames = new Set(['__proto__', 'constructor', 'prototype']);

export const ErrorStrategy = z.enum(['fail', 'continue', 'retry', 'fallback']);
export type ErrorStrategy = z.infer<typeof ErrorStrategy>;

export const StateOperation = z.enum(['set', 'increment', 'decrement', 'append', 'merge', 'delete']);
export type StateOperation = z.infer<typeof StateOperation>;

export { STEP_TYPES, type StepType } from './stepTypes.js';

/**
 * A step inside a step, as its parent's schema sees it. TypeScript cannot infer a type that contains itself
 * through eleven schemas, so nested steps are typed loosely here; the union validates them all the same, and
 * `asStep` gives them back their type.
 */
export interface NestedStep {
  type: StepType;
  [field: string]: unknown;
}
const steps = (): z.ZodArray<z.ZodType<NestedStep>> => z.array(Step as unknown as z.ZodType<NestedStep>);

/** A nested step back as the union type: it was parsed by `Step`. */
export function asStep(step: NestedStep): Step {
  return step as unknown as Step;
}

/** What every step may say (seed 004's ErrorHandler, and `when`, `timeout`, `cleanup`). */
const common = {
  id: StepId.optional(),
  description: z.string().optional(),
  /** Skip the step unless this holds. */
  when: Condition.optional(),
  on_error: ErrorStrategy.optional(),
  retry_count: z.number().int().min(0).max(100).optional(),
  retry_delay: StepDuration.optional(),
  fallback_value: z.unknown().optional(),
  error_state_update: z.strictObject({ path: StatePath, value: z.unknown() }).optional(),
  timeout: StepDuration.optional(),
};

export const McpCallStep = z.strictObject({
  type: z.literal('mcp_call'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  /** A server of the workflow or the runtime config; may be left out when only one server is declared. */
  server: z.string().min(1).optional(),
  tool: z.string().min(1).optional(),
  /** Seed 004's name for `tool`. */
  method: z.string().min(1).optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
  /** Policy overrides for this call only (the config's policy fields). */
  policy: ToolPolicyConfig.optional(),
});

export const ShellCommandStep = z.strictObject({
  type: z.literal('shell_command'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  /** An argv list, or a string split into words like a shell would, without running one. */
  command: z.union([z.string().min(1), z.array(z.string()).min(1)]),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().min(1).optional(),
  /** Safe to run again when a crash cut it off mid-run (false by default: a resumed run escalates instead). */
  idempotent: z.boolean().optional(),
});

export const ConditionalStep = z.strictObject({
  type: z.literal('conditional'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  condition: Condition,
  get then(): z.ZodArray<z.ZodType<NestedStep>> {
    return steps();
  },
  get else(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
});

export const StateUpdateStep = z.strictObject({
  type: z.literal('state_update'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  path: StatePath,
  operation: StateOperation.default('set'),
  value: z.unknown().optional(),
});

export const ErrorStep = z.strictObject({
  type: z.literal('error'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  message: z.string().min(1),
});

export const WaitStep = z.strictObject({
  type: z.literal('wait'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  duration: StepDuration.optional(),
  /** Wait until this holds, checking every `interval`. */
  until: Condition.optional(),
  interval: StepDuration.optional(),
});

export const PollStep = z.strictObject({
  type: z.literal('poll'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  /** The step called each round (usually an `mcp_call`); `result` in `until` is its latest result. */
  get step(): z.ZodType<NestedStep> {
    return Step as unknown as z.ZodType<NestedStep>;
  },
  until: Condition,
  /** Stop polling and fail the step when this holds (e.g. the task reports failure). */
  fail_when: Condition.optional(),
  interval: StepDuration.optional(),
  max_polls: z.number().int().min(1).optional(),
  /** When `timeout` or `max_polls` runs out: fail, continue with the last result, or run these steps. */
  get on_timeout(): z.ZodOptional<z.ZodType<'fail' | 'continue' | NestedStep[]>> {
    return z.union([z.enum(['fail', 'continue']), steps()]).optional();
  },
  /** Run when polling stops without success (timeout, fail_when, cancellation), e.g. cancel the task. */
  get cancel(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
});

export const ParallelStep = z.strictObject({
  type: z.literal('parallel'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  get branches(): z.ZodArray<z.ZodArray<z.ZodType<NestedStep>>> {
    return z.array(steps().min(1)).min(1);
  },
  concurrency: z.number().int().min(1).optional(),
  /** `fail_fast`: the first failed branch cancels the others; `collect`: every branch runs, failures are gathered. */
  strategy: z.enum(['fail_fast', 'collect']).default('fail_fast'),
});

export const ForeachStep = z.strictObject({
  type: z.literal('foreach'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  /** A list, or an expression giving one. */
  items: z.union([z.string().min(1), z.array(z.unknown())]),
  as: StepId.default('item'),
  index_as: StepId.default('index'),
  concurrency: z.number().int().min(1).optional(),
  get steps(): z.ZodArray<z.ZodType<NestedStep>> {
    return steps().min(1);
  },
});

export const SubWorkflowStep = z.strictObject({
  type: z.literal('workflow'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  /** A workflow file, relative to this one. */
  file: z.string().min(1).optional(),
  /** Or the workflow itself, written here. */
  get inline(): z.ZodOptional<z.ZodType<InlineWorkflow>> {
    return (Workflow as unknown as z.ZodType<InlineWorkflow>).optional();
  },
  inputs: z.record(z.string(), z.unknown()).optional(),
});

export const ReturnStep = z.strictObject({
  type: z.literal('return'),
  ...common,
  /** Run when this step fails or is cancelled (for `error`: before it fails the workflow). */
  get cleanup(): z.ZodOptional<z.ZodArray<z.ZodType<NestedStep>>> {
    return steps().optional();
  },
  value: z.unknown().optional(),
});

export const Step = z.discriminatedUnion(
  'type',
  [
    McpCallStep,
    ShellCommandStep,
    ConditionalStep,
    StateUpdateStep,
    ErrorStep,
    WaitStep,
    PollStep,
    ParallelStep,
    ForeachStep,
    SubWorkflowStep,
    ReturnStep,
  ],
  { error: unknownTypeMessage },
);
export type Step = z.output<typeof Step>;

function unknownTypeMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_union') return undefined;
  const input = issue.input as { type?: unknown } | undefined;
  const type = typeof input === 'object' && input !== null ? input.type : undefined;
  const known = STEP_TYPES.join(', ');
  if (type === undefined) return `missing: a step needs a type (one of ${known})`;
  const close = typeof type === 'string' ? STEP_TYPES.find((name) => sameLetters(name, type)) : undefined;
  return `unknown step type ${JSON.stringify(type)} (expected one of ${known})${close ? ` — did you mean "${close}"?` : ''}`;
}

/** `mcp-call`, `MCPCall`, `shell` → the type they resemble. */
function sameLetters(name: string, written: string): boolean {
  const plain = (text: string) => text.toLowerCase().replace(/[^a-z]/g, '');
  return plain(name) === plain(written) || (written.length >= 4 && plain(name).startsWith(plain(written)));
}

export const ValueType = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']);
export type ValueType = z.infer<typeof ValueType>;

/** Names readable in expressions as `inputs.<name>` (or bare). */
const FieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
  error: 'a name of letters, digits and "_" (so it reads as a path in expressions)',
});

export const InputSpec = z.union([
  ValueType,
  z.strictObject({
    type: ValueType,
    description: z.string().optional(),
    /** Defaults to true when there is no default. */
    required: z.boolean().optional(),
    default: z.unknown().optional(),
  }),
]);
export type InputSpec = z.output<typeof InputSpec>;

/** A state field's type: a value type, `any`, a list of one (`string[]`), optional with `?`. */
const StateTypeName = z.string().regex(/^(string|number|integer|boolean|object|array|any)(\[\])?\??$/, {
  error:
    'expected a type: string, number, integer, boolean, object, array or any (string[] for a list, ? for optional)',
});
export type StateSchema = { [name: string]: string | StateSchema };
export const StateSchema: z.ZodType<StateSchema> = z.record(
  FieldName,
  z.union([StateTypeName, z.lazy(() => StateSchema)]),
);

export const ComputedField = z.strictObject({
  description: z.string().optional(),
  /** What it depends on: `state.x`, `inputs.y`, `computed.z`, or a state path written without `state.` (`raw.x`). */
  from: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** An expression; `$input` is the value of `from` (a list of values when it names several). */
  transform: z.string().min(1),
  /** The value when the transform fails, instead of failing the workflow. */
  fallback: z.unknown().optional(),
});
export type ComputedField = z.output<typeof ComputedField>;

export const WorkflowLimits = z.strictObject({
  /** Steps executed in one run (loops and retries count every time). */
  max_steps: z.number().int().min(1).default(10_000),
  /** Steps inside steps (conditionals, loops, branches, sub-workflows). */
  max_nesting: z.number().int().min(1).max(64).default(16),
  /** Bytes of state (as JSON): a warning event and a log line above this… */
  state_size_warning: z.number().int().min(1).default(1_000_000),
  /** …and the run fails above this. */
  state_size_max: z.number().int().min(1).default(10_000_000),
  /** Evaluation steps of one expression. */
  expression_steps: z.number().int().min(100).default(100_000),
  expression_timeout: StepDuration.default(1000),
});
export type WorkflowLimits = z.output<typeof WorkflowLimits>;

export const Workflow = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  inputs: z.record(FieldName, InputSpec).optional(),
  state_schema: StateSchema.optional(),
  state: z.record(z.string(), z.unknown()).optional(),
  computed: z.record(FieldName, ComputedField).optional(),
  /** As in the runtime config; they join the config's servers for this workflow. */
  servers: z.record(ServerName, ServerConfig).optional(),
  /** Tool policies as in the runtime config, over the config's own entries. */
  tools: z.record(z.string().min(1), ToolPolicyConfig).optional(),
  /** Environment variables expressions may read as `env.NAME`; no others are visible. */
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name' })).optional(),
  limits: WorkflowLimits.prefault({}),
  /** The whole run. */
  timeout: StepDuration.optional(),
  get steps(): z.ZodArray<z.ZodType<NestedStep>> {
    return steps().min(1);
  },
});
export type Workflow = z.output<typeof Workflow>;

/** An inline sub-workflow, as its parent step's schema sees it (see NestedStep); parsed by `Workflow`. */
export interface InlineWorkflow {
  name: string;
  steps: NestedStep[];
  [field: string]: unknown;
}

export function asWorkflow(workflow: InlineWorkflow): Workflow {
  return workflow as unknown as Workflow;
}
