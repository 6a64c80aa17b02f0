// What the example server remembers: schedules, background tasks, deployments, leased resources and its side effects.
import { z } from 'zod';

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date as YYYY-MM-DD' });

export const Assignment = z.strictObject({
  person: z.string().min(1),
  date: IsoDate,
  hours: z.number().positive().max(48),
});
export type Assignment = z.infer<typeof Assignment>;

export const Schedule = z.strictObject({
  id: z.string().min(1),
  start_date: IsoDate,
  end_date: IsoDate,
  assignments: z.array(Assignment).default([]),
});
export type Schedule = z.infer<typeof Schedule>;

export const TaskStatus = z.enum(['queued', 'running', 'success', 'failure', 'cancelled']);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const Task = z.strictObject({
  task_id: z.string().min(1),
  task_type: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  status: TaskStatus.default('queued'),
  progress: z.number().min(0).max(100).default(0),
  /** Status calls answered so far (progress per call). */
  polls: z.number().int().min(0).default(0),
  /** Milliseconds since the epoch (progress by elapsed time). */
  started_at_ms: z.number().default(0),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export type Task = z.infer<typeof Task>;

export const DeploymentStatus = z.enum(['in_progress', 'success', 'degraded', 'failure', 'rolled_back']);
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const Deployment = z.strictObject({
  deployment_id: z.string().min(1),
  environment: z.enum(['production', 'staging']).default('production'),
  version: z.string().min(1),
  previous_version: z.string().nullable().default(null),
  status: DeploymentStatus.default('in_progress'),
  checks: z.number().int().min(0).default(0),
  /** When it was promoted (ms on the server's clock): a rollout settles on its own in time, looked at or not. */
  started_at: z.number().optional(),
});
export type Deployment = z.infer<typeof Deployment>;

/** A side effect that happened (a task started, a deployment promoted, …): the crash tests count these. */
export const Effect = z.strictObject({ tool: z.string(), id: z.string() });
export type Effect = z.infer<typeof Effect>;

export const ExampleState = z.strictObject({
  schedules: z.array(Schedule),
  tasks: z.array(Task).default([]),
  deployments: z.array(Deployment).default([]),
  staging_versions: z.array(z.string().min(1)).default(['v1.4.2', 'v1.5.0']),
  production_version: z.string().nullable().default('v1.4.2'),
  /** When not empty, the only approval tokens `promote_to_production_tool` accepts. */
  approval_tokens: z.array(z.string()).default([]),
  /** What `external_api` answers with. */
  external_data: z.array(z.unknown()).default([
    { id: 'rotation-1', name: 'Cardiology', residents: 4 },
    { id: 'rotation-2', name: 'Emergency medicine', residents: 6 },
  ]),
  /** Resources held until `cleanup_resources` releases them (`task:<id>`, `api-session:<n>`). */
  resources: z.array(z.string()).default([]),
  effects: z.array(Effect).default([]),
  /** Calls received per tool, so that a restarted server with a state file resumes its fault scripts. */
  calls: z.record(z.string(), z.number().int().min(0)).default({}),
  /** Ids handed out so far. */
  next_id: z.number().int().min(1).default(1),
});
export type ExampleState = z.infer<typeof ExampleState>;
