// `retrace status [RUN]`: workflow runs as the log and their owners say, read without the log's lock (works mid-run).
import { observeRun, observeRuns, statusJson, type ObservedRun } from '../../actors/runObservation.js';
import type { WorkflowRunView } from '../../store/projections/workflowRun.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { withStore } from './store.js';

const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

function durationOf(view: WorkflowRunView, now: number): string {
  if (view.startedAt === undefined) return '-';
  const ms = (view.endedAt ?? now) - view.startedAt;
  return ms < 10_000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`;
}

/** The last column: what an escalated run waits on, or why a run failed. */
function noteOf(observed: ObservedRun): string {
  const { view, status } = observed;
  if (status === 'escalated') return `waiting on ${view.waitingStep ?? '?'}: ${view.error?.message ?? ''}`;
  if (status === 'running') return view.currentSteps.join(', ');
  if (status === 'interrupted') return 'no live owner: retrace resume RUN';
  return view.error ? `${view.error.step_id ?? ''} ${view.error.message}`.trim() : '';
}

function printDetails(observed: ObservedRun): void {
  const { view, owner, status } = observed;
  const lines = [
    `run       ${view.runId}`,
    `workflow  ${view.name}${view.file ? ` (${view.file})` : ''}`,
    `status    ${status}${owner ? ` (process ${owner.pid} on ${owner.hostname})` : ''}`,
    `started   ${iso(view.startedAt)}`,
    `ended     ${iso(view.endedAt)}`,
    `duration  ${durationOf(view, Date.now())}`,
    `steps     ${view.steps}${view.currentSteps.length > 0 ? ` (now: ${view.currentSteps.join(', ')})` : ''}`,
    ...(view.waitingStep ? [`waiting   on step ${view.waitingStep}: retrace resolve ${view.runId}`] : []),
    ...(view.error ? [`error     ${view.error.type}: ${view.error.message}`] : []),
    `state     ${JSON.stringify(view.state)}`,
    ...(Object.keys(view.computed).length > 0 ? [`computed  ${JSON.stringify(view.computed)}`] : []),
    ...(status === 'succeeded' ? [`result    ${JSON.stringify(view.result)}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export interface StatusOptions {
  json?: boolean;
  /** Ended runs too (by default: running, interrupted and escalated ones). */
  all?: boolean;
}

/** Exit 0 when the run (or the list) was shown; 66 (E_UNKNOWN_RUN) when the log has no such workflow run. */
export function runStatus(runId: string | undefined, options: StatusOptions, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store, backends) => {
    if (runId !== undefined) {
      const observed = await observeRun(store, backends.dataDir, runId);
      if (options.json) process.stdout.write(`${JSON.stringify(statusJson(observed))}\n`);
      else printDetails(observed);
      return ExitCode.ok;
    }
    const shown = await observeRuns(store, backends.dataDir, options.all ?? false);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(shown.map(statusJson), null, 2)}\n`);
      return ExitCode.ok;
    }
    const now = Date.now();
    const rows = [
      ['RUN', 'WORKFLOW', 'STATUS', 'STARTED', 'DURATION', 'STEPS', 'WAITING / ERROR'],
      ...shown.map((run) => [
        run.view.runId,
        run.view.name,
        run.status,
        iso(run.view.startedAt),
        durationOf(run.view, now),
        String(run.view.steps),
        noteOf(run),
      ]),
    ];
    const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
    for (const row of rows) {
      process.stdout.write(
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    if (shown.length === 0)
      process.stdout.write(options.all ? '(no workflow runs)\n' : '(none running; --all for every run)\n');
    return ExitCode.ok;
  });
}
