// Seed 000's scheduling tools: date-range and by-id validation (the fallback pair), conflict detection, schedule status.
import { z } from 'zod';
import type { Schedule } from './exampleState.js';
import { defineTool, type ExampleTool } from './exampleTool.js';
import { ToolFailure, type ExampleWorld } from './exampleWorld.js';
import { assignmentsIn, detectConflicts, isCalendarDate, validateAssignments } from './scheduleRules.js';

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date as YYYY-MM-DD' });
const readOnly = { readOnlyHint: true, idempotentHint: true, openWorldHint: false };

function findSchedule(world: ExampleWorld, scheduleId: string): Schedule {
  const schedule = world.state.schedules.find((candidate) => candidate.id === scheduleId);
  if (!schedule) {
    const known = world.state.schedules.map((candidate) => candidate.id).join(', ') || 'none';
    throw new ToolFailure(`Schedule ${scheduleId} not found (known schedules: ${known})`);
  }
  return schedule;
}

/** The date range asked for: explicit dates, or a schedule's own range; bad ranges are the caller's error. */
function rangeOf(
  world: ExampleWorld,
  args: { start_date?: string | undefined; end_date?: string | undefined; schedule_id?: string | undefined },
): { start: string; end: string } {
  if (args.start_date === undefined || args.end_date === undefined) {
    if (args.schedule_id === undefined) {
      throw new ToolFailure('Invalid arguments: start_date and end_date are required (or a schedule_id)');
    }
    const schedule = findSchedule(world, args.schedule_id);
    return { start: schedule.start_date, end: schedule.end_date };
  }
  for (const date of [args.start_date, args.end_date]) {
    if (!isCalendarDate(date)) throw new ToolFailure(`Invalid date: ${date} is not a calendar date`);
  }
  if (args.end_date < args.start_date) {
    throw new ToolFailure(`Invalid date range: end_date ${args.end_date} is before start_date ${args.start_date}`);
  }
  return { start: args.start_date, end: args.end_date };
}

function schedulesCovering(world: ExampleWorld, start: string, end: string): Schedule[] {
  const covering = world.state.schedules.filter((schedule) => schedule.start_date <= end && schedule.end_date >= start);
  if (covering.length === 0) throw new ToolFailure(`No schedule found covering ${start} to ${end}`);
  return covering;
}

function validation(schedules: Schedule[], start: string, end: string, mode: 'date_range' | 'schedule') {
  const assignments = assignmentsIn(schedules, start, end);
  const issues = validateAssignments(assignments);
  const critical = issues.filter((issue) => issue.severity === 'critical').length;
  return {
    is_valid: critical === 0,
    mode,
    start_date: start,
    end_date: end,
    schedule_ids: schedules.map((schedule) => schedule.id),
    assignments_checked: assignments.length,
    critical_issues: critical,
    warnings: issues.length - critical,
    issues,
  };
}

export const scheduleTools: ExampleTool[] = [
  defineTool({
    name: 'validate_schedule_tool',
    description:
      'Validates the schedule between start_date and end_date against ACGME duty-hour rules (or, given only a schedule_id, that schedule’s date range). Answers is_valid, critical_issues and issues with suggested fixes.',
    annotations: readOnly,
    input: z.object({
      start_date: IsoDate.optional(),
      end_date: IsoDate.optional(),
      schedule_id: z.string().min(1).optional(),
    }),
    run: (args, { world }) => {
      const { start, end } = rangeOf(world, args);
      return validation(schedulesCovering(world, start, end), start, end, 'date_range');
    },
  }),
  defineTool({
    name: 'validate_schedule_by_id_tool',
    description:
      'Validates one stored schedule by id against ACGME duty-hour rules. Falls back to validate_schedule_tool (date range) in seed 000.',
    annotations: readOnly,
    input: z.object({ schedule_id: z.string().min(1) }),
    run: ({ schedule_id }, { world }) => {
      const schedule = findSchedule(world, schedule_id);
      return validation([schedule], schedule.start_date, schedule.end_date, 'schedule');
    },
  }),
  defineTool({
    name: 'detect_conflicts_tool',
    description: 'Finds people booked more than once on a day between start_date and end_date.',
    annotations: readOnly,
    input: z.object({ start_date: IsoDate, end_date: IsoDate }),
    run: (args, { world }) => {
      const { start, end } = rangeOf(world, args);
      const conflicts = detectConflicts(assignmentsIn(schedulesCovering(world, start, end), start, end));
      return { start_date: start, end_date: end, total: conflicts.length, conflicts };
    },
  }),
  defineTool({
    name: 'schedule_status_resource',
    description: 'The schedules held, with their ranges and assignment counts, and the version in production.',
    annotations: readOnly,
    input: z.object({}),
    run: (_args, { world }) => ({
      schedules: world.state.schedules.map(({ id, start_date, end_date, assignments }) => ({
        id,
        start_date,
        end_date,
        assignments: assignments.length,
      })),
      production_version: world.state.production_version,
    }),
  }),
];
