// Seed 000's background tasks (Celery-style): start, poll the status as it goes queued → running → success/failure, cancel.
import { z } from 'zod';
import type { TaskBehaviour } from './examplePlan.js';
import type { Task } from './exampleState.js';
import { defineTool, type ExampleTool } from './exampleTool.js';
import { ToolFailure, type ExampleWorld } from './exampleWorld.js';

export const TASK_TYPES = ['resilience_contingency', 'schedule_generation', 'compliance_report', 'swap_analysis'];
const DEFAULT_POLLS = 3;
const finished = new Set<Task['status']>(['success', 'failure', 'cancelled']);

interface Behaviour {
  polls: number;
  durationMs: number | undefined;
  outcome: 'success' | 'failure' | 'stuck';
  error: string;
}

function behaviourOf(world: ExampleWorld, task: Task): Behaviour {
  const { types, ...base } = world.tasks;
  const own: TaskBehaviour = types[task.task_type] ?? {};
  return {
    polls: own.polls ?? base.polls ?? DEFAULT_POLLS,
    durationMs: own.duration ?? base.duration,
    outcome: own.outcome ?? base.outcome ?? 'success',
    error:
      own.error ??
      base.error ??
      `Worker lost while running ${task.task_type}: the Celery worker was killed (out of memory) at scenario 14 of 40`,
  };
}

function resultOf(task: Task): Record<string, unknown> {
  if (task.task_type === 'resilience_contingency') {
    const daysAhead = typeof task.params['days_ahead'] === 'number' ? task.params['days_ahead'] : 90;
    return {
      days_ahead: daysAhead,
      scenarios_analyzed: 40,
      n1_pass: false,
      single_points_of_failure: ['dr_lee: only night-float cover in week 2'],
    };
  }
  return { summary: `${task.task_type} finished`, params: task.params };
}

function release(world: ExampleWorld, task: Task): void {
  world.state.resources = world.state.resources.filter((resource) => resource !== `task:${task.task_id}`);
}

/** One status call's worth of progress: per call (`polls`) or by the time since the start (`duration`). */
function advance(world: ExampleWorld, task: Task): void {
  if (finished.has(task.status)) return;
  const behaviour = behaviourOf(world, task);
  task.polls += 1;
  const fraction =
    behaviour.durationMs !== undefined
      ? (world.clock.now() - task.started_at_ms) / Math.max(1, behaviour.durationMs)
      : behaviour.polls === 1
        ? 1
        : (task.polls - 1) / (behaviour.polls - 1);
  if (fraction >= 1 && behaviour.outcome !== 'stuck') {
    if (behaviour.outcome === 'success') {
      task.status = 'success';
      task.progress = 100;
      task.result = resultOf(task);
    } else {
      task.status = 'failure';
      task.error = behaviour.error;
    }
    release(world, task);
    return;
  }
  if (fraction < 0.05) return;
  task.status = 'running';
  task.progress = Math.min(behaviour.outcome === 'stuck' ? 90 : 99, Math.round(fraction * 100));
}

function findTask(world: ExampleWorld, taskId: string): Task {
  const task = world.state.tasks.find((candidate) => candidate.task_id === taskId);
  if (!task) throw new ToolFailure(`Task ${taskId} not found`);
  return task;
}

function view(task: Task): Record<string, unknown> {
  const { task_id, task_type, status, progress, result, error } = task;
  return {
    task_id,
    task_type,
    status,
    progress,
    ...(result !== undefined && { result }),
    ...(error !== undefined && { error }),
  };
}

export const taskTools: ExampleTool[] = [
  defineTool({
    name: 'start_background_task_tool',
    description: `Starts a background task (${TASK_TYPES.join(', ')}) and answers its task_id; each call starts another task.`,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    input: z.object({ task_type: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }),
    run: ({ task_type, params }, { world }) => {
      if (!TASK_TYPES.includes(task_type)) {
        throw new ToolFailure(
          `Invalid task_type ${JSON.stringify(task_type)}: expected one of ${TASK_TYPES.join(', ')}`,
        );
      }
      const task: Task = {
        task_id: world.nextId('task'),
        task_type,
        params,
        status: 'queued',
        progress: 0,
        polls: 0,
        started_at_ms: world.clock.now(),
      };
      world.state.tasks.push(task);
      world.state.resources.push(`task:${task.task_id}`);
      world.recordEffect('start_background_task_tool', task.task_id);
      return view(task);
    },
  }),
  defineTool({
    name: 'get_task_status_tool',
    description:
      'The status of a background task: queued, running (with progress in %), success (with result), failure (with error) or cancelled.',
    // A read for its caller; the simulated task moves on with each status call, standing in for time passing.
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({ task_id: z.string().min(1) }),
    run: ({ task_id }, { world }) => {
      const task = findTask(world, task_id);
      advance(world, task);
      return view(task);
    },
  }),
  defineTool({
    name: 'cancel_task_tool',
    description: 'Cancels a queued or running task; cancelling a finished task changes nothing and says so.',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({ task_id: z.string().min(1) }),
    run: ({ task_id }, { world }) => {
      const task = findTask(world, task_id);
      if (finished.has(task.status)) {
        return { ...view(task), cancelled: false, message: `Task ${task_id} already finished (${task.status})` };
      }
      task.status = 'cancelled';
      release(world, task);
      world.recordEffect('cancel_task_tool', task_id);
      return { ...view(task), cancelled: true };
    },
  }),
];

/** Cancels a task still queued or running (cleanup_resources); false when it had already finished. */
export function cancelIfActive(world: ExampleWorld, taskId: string): boolean {
  const task = world.state.tasks.find((candidate) => candidate.task_id === taskId);
  if (!task || finished.has(task.status)) return false;
  task.status = 'cancelled';
  return true;
}
