// The scheduling domain behind the validation tools: ACGME duty-hour rules, double bookings, and a sample roster.
import type { Assignment, Schedule } from './exampleState.js';

export interface ScheduleIssue {
  severity: 'critical' | 'warning';
  rule: string;
  person: string;
  date: string;
  message: string;
  suggested_fix: string;
}

export interface ScheduleConflict {
  type: 'double_booked';
  person: string;
  date: string;
  hours: number[];
  message: string;
}

const DAY_MS = 86_400_000;
const MAX_SHIFT_HOURS = 24;
const MAX_WEEKLY_HOURS = 80;

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The Monday starting the ISO week of a day (day 0, 1970-01-01, was a Thursday). */
function weekStart(day: number): number {
  return day - ((day + 3) % 7);
}

/** Whether a YYYY-MM-DD text is a real calendar date. */
export function isCalendarDate(date: string): boolean {
  const day = dayNumber(date);
  return Number.isFinite(day) && dateOf(day) === date;
}

/** The assignments of the schedules falling within [start, end]. */
export function assignmentsIn(schedules: readonly Schedule[], start: string, end: string): Assignment[] {
  return schedules.flatMap((schedule) =>
    schedule.assignments.filter((assignment) => assignment.date >= start && assignment.date <= end),
  );
}

/** ACGME duty-hour checks: shifts over 24 h, weeks over 80 h (critical), weeks without a day off (warning). */
export function validateAssignments(assignments: readonly Assignment[]): ScheduleIssue[] {
  const issues: ScheduleIssue[] = [];
  for (const { person, date, hours } of assignments) {
    if (hours > MAX_SHIFT_HOURS) {
      issues.push({
        severity: 'critical',
        rule: 'acgme_24h_continuous_duty',
        person,
        date,
        message: `${person} is on duty ${hours} hours on ${date}; at most ${MAX_SHIFT_HOURS} continuous hours are allowed`,
        suggested_fix: `Split the ${date} shift of ${person} at ${MAX_SHIFT_HOURS} hours and hand over the rest`,
      });
    }
  }
  const weeks = new Map<string, { person: string; week: number; hours: number; days: Set<number> }>();
  for (const { person, date, hours } of assignments) {
    const day = dayNumber(date);
    const key = `${person} ${weekStart(day)}`;
    const entry = weeks.get(key) ?? { person, week: weekStart(day), hours: 0, days: new Set<number>() };
    entry.hours += hours;
    entry.days.add(day);
    weeks.set(key, entry);
  }
  for (const { person, week, hours, days } of weeks.values()) {
    const monday = dateOf(week);
    if (hours > MAX_WEEKLY_HOURS) {
      issues.push({
        severity: 'critical',
        rule: 'acgme_80_hour_week',
        person,
        date: monday,
        message: `${person} works ${hours} hours in the week of ${monday}; the limit is ${MAX_WEEKLY_HOURS}`,
        suggested_fix: `Move ${hours - MAX_WEEKLY_HOURS} hours of ${person}'s week of ${monday} to another resident`,
      });
    }
    if (days.size >= 7) {
      issues.push({
        severity: 'warning',
        rule: 'acgme_one_day_off_in_seven',
        person,
        date: monday,
        message: `${person} has no day off in the week of ${monday}`,
        suggested_fix: `Give ${person} one day off in the week of ${monday}`,
      });
    }
  }
  return issues;
}

/** People booked more than once on the same day. */
export function detectConflicts(assignments: readonly Assignment[]): ScheduleConflict[] {
  const byDay = new Map<string, Assignment[]>();
  for (const assignment of assignments) {
    const key = `${assignment.person} ${assignment.date}`;
    byDay.set(key, [...(byDay.get(key) ?? []), assignment]);
  }
  return [...byDay.values()]
    .filter((bookings) => bookings.length > 1)
    .map((bookings) => {
      const { person, date } = bookings[0] as Assignment;
      return {
        type: 'double_booked' as const,
        person,
        date,
        hours: bookings.map((booking) => booking.hours),
        message: `${person} is booked ${bookings.length} times on ${date}`,
      };
    });
}

function weekdayShifts(people: readonly string[], start: string, end: string, hours: number): Assignment[] {
  const shifts: Assignment[] = [];
  for (let day = dayNumber(start); day <= dayNumber(end); day++) {
    // Monday to Friday (day 0 was a Thursday).
    if ((day + 3) % 7 >= 5) continue;
    for (const person of people) shifts.push({ person, date: dateOf(day), hours });
  }
  return shifts;
}

/**
 * Two months of a three-resident roster. January breaks the rules (dr_lee's 28-hour Saturday and 90-hour
 * week without a day off; dr_garcia booked twice on the 15th); February is clean.
 */
export function sampleSchedules(): Schedule[] {
  const people = ['dr_ahmed', 'dr_garcia', 'dr_lee'];
  return [
    {
      id: 'sched-2025-01',
      start_date: '2025-01-01',
      end_date: '2025-01-31',
      assignments: [
        ...weekdayShifts(people, '2025-01-01', '2025-01-31', 10),
        { person: 'dr_lee', date: '2025-01-11', hours: 28 },
        { person: 'dr_lee', date: '2025-01-12', hours: 12 },
        { person: 'dr_garcia', date: '2025-01-15', hours: 8 },
      ],
    },
    {
      id: 'sched-2025-02',
      start_date: '2025-02-01',
      end_date: '2025-02-28',
      assignments: weekdayShifts(people, '2025-02-01', '2025-02-28', 10),
    },
  ];
}
