// The example server's plan: per-tool faults (the flaky server's step format, plus first-N and seeded-rate rules),
// how background tasks and deployments behave, and the state the server starts from.
import { z } from 'zod';
import { Duration } from '../common/duration.js';
import { FailureSpec, shorthands as flakyShorthands } from '../testing/flakyPlan.js';
import { ExampleState } from './exampleState.js';

/**
 * Failures in the words of seed 000's tables, worded so retrace's default classifier reads the kind in
 * the name (`lock` → lock, `queue_full` → resource, `backend_down` → backend_down, …).
 */
export const exampleShorthands = {
  connection: { error: 'is_error_text', text: 'Connection refused: scheduler backend at 127.0.0.1:8000' },
  lock: { error: 'is_error_text', text: 'Database lock: could not obtain lock on relation "assignments"' },
  queue_full: { error: 'is_error_text', text: 'Celery queue is full (1000 tasks pending); try again later' },
  backend_down: { error: 'is_error_text', text: 'Backend API is down: the scheduler backend did not answer' },
  worker_offline: { error: 'is_error_text', text: 'Celery worker offline: nothing consumes the "resilience" queue' },
  degraded: { error: 'is_error_text', text: 'Server degraded: running without the resilience framework' },
  auth: { error: 'is_error_text', text: 'Authentication failed: invalid token' },
  permission: { error: 'is_error_text', text: 'Permission denied: the token lacks the deploy:production scope' },
  not_found: { error: 'is_error_text', text: 'Not found: the requested record does not exist' },
  constraint: {
    error: 'is_error_structured',
    error_type: 'constraint_violation',
    text: 'ACGME constraint violated: the change would exceed the 80-hour weekly limit',
    suggestions: ['move the shift to another resident', 'shorten the shift to 12 hours'],
  },
  unimplemented: { error: 'rpc', code: -32601, text: 'Method not found' },
} satisfies Record<string, FailureSpec>;

const allShorthands = { ...flakyShorthands, ...exampleShorthands };
type ShorthandName = keyof typeof allShorthands;
const shorthandNames = Object.keys(allShorthands) as [ShorthandName, ...ShorthandName[]];

/** One call's failure: a shorthand of the flaky server or of this one, or a full FailureSpec. */
export const ExampleFailure = z.union([z.enum(shorthandNames), FailureSpec], {
  error: () => `expected one of ${shorthandNames.join(', ')}, or {"error": …} as the flaky server's plan takes it`,
});
export type ExampleFailure = z.infer<typeof ExampleFailure>;

/** One scripted outcome, as in the flaky server's plan: `ok`, or a failure. */
export const ExampleStep = z.union([z.literal('ok'), ExampleFailure]);
export type ExampleStep = z.infer<typeof ExampleStep>;

/** Fail the first `first` calls, then (or instead) each call with probability `rate`, drawn from `seed`. */
export const FaultRule = z
  .strictObject({
    first: z.number().int().min(0).default(0),
    rate: z.number().min(0).max(1).default(0),
    seed: z.number().int().default(1),
    fail: ExampleFailure,
  })
  .refine((rule) => rule.first > 0 || rule.rate > 0, { error: 'a fault rule needs `first` or `rate` above 0' });
export type FaultRule = z.infer<typeof FaultRule>;

/** A tool's faults: a script of outcomes consumed one per call (the flaky plan's format), or a rule. */
export const ToolFaults = z.union([z.array(ExampleStep), FaultRule]);
export type ToolFaults = z.infer<typeof ToolFaults>;

export const TaskOutcome = z.enum(['success', 'failure', 'stuck']);
export type TaskOutcome = z.infer<typeof TaskOutcome>;

/** How a background task progresses: per status call (`polls`) or by elapsed time (`duration`), and how it ends. */
export const TaskBehaviour = z.strictObject({
  /** Status calls from `queued` to the final status (the last of them reports it). */
  polls: z.number().int().min(1).optional(),
  /** Elapsed time from start to the final status; wins over `polls`. */
  duration: Duration.optional(),
  /** `stuck` stays `running` forever (the seed's poll timeout). */
  outcome: TaskOutcome.optional(),
  /** The failed task's `error`. */
  error: z.string().optional(),
});
export type TaskBehaviour = z.infer<typeof TaskBehaviour>;

export const TaskScenario = TaskBehaviour.extend({
  /** Per `task_type`, over the fields above. */
  types: z.record(z.string(), TaskBehaviour).default({}),
});
export type TaskScenario = z.infer<typeof TaskScenario>;

export const DeploymentHealth = z.enum(['healthy', 'degraded', 'failed']);
export type DeploymentHealth = z.infer<typeof DeploymentHealth>;

/** How a promotion turns out, as `get_deployment_status_tool` reports it, and whether a rollback works. */
export const DeploymentScenario = z.strictObject({
  /** Status checks that see `in_progress` before the deployment settles (the last of them reports the health). */
  checks: z.number().int().min(1).default(2),
  /** What a promoted version settles to: `healthy` → success, `degraded` → error rate over the threshold, `failed` → failure. */
  health: DeploymentHealth.default('healthy'),
  /** Per staging version, over `health`. */
  versions: z.record(z.string(), DeploymentHealth).default({}),
  /** `fail`: every rollback call fails (the seed's emergency). */
  rollback: z.enum(['ok', 'fail']).default('ok'),
  rollback_error: z
    .string()
    .default('Rollback failed: release could not be restored (2 of 5 nodes did not come back after the switch)'),
});
export type DeploymentScenario = z.infer<typeof DeploymentScenario>;

export const ExamplePlan = z.strictObject({
  faults: z.record(z.string().min(1), ToolFaults).default({}),
  tasks: TaskScenario.prefault({}),
  deployments: DeploymentScenario.prefault({}),
  /** The state the server starts from (over the built-in sample); a state file, when given and present, wins. */
  state: ExampleState.partial().optional(),
});
export type ExamplePlan = z.infer<typeof ExamplePlan>;
export type ExamplePlanInput = z.input<typeof ExamplePlan>;

/** The FailureSpec a shorthand or spec stands for. */
export function failureSpec(failure: ExampleFailure): FailureSpec {
  return typeof failure === 'string' ? allShorthands[failure] : failure;
}
