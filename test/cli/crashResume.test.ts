// Crash and resume through the CLI: `retrace run` is killed with SIGKILL at seeded points, then `retrace resume`
// (killed again too) until the run ends; a person answers the escalations an unsafe repeat raises as a person would
// (by looking at what happened). The final equals an uninterrupted run's; a step whose end was durable never ran
// again, and no non-idempotent call or command ran twice.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { createReplayLog } from '../../src/actors/workflowReplay.js';
import { runLogState } from '../../src/actors/workflowResume.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { cliTest as it } from '../support/cli.js';
import { requireBuild, runChild, seededRandom, type ChildRun } from '../support/crashChild.js';
import { readEffectsLog, readRun, readServerState } from '../support/crashObserve.js';
import { crashResumeItems, crashResumeStepOf, crashResumeWorkflow } from '../support/crashScenarios.js';

const items = crashResumeItems;

interface Observed {
  /** Executions per step actor: the command lines, and `start` from the server's recorded side effects. */
  executions: Map<string, number>;
  /** The task ids the server started (its side effects in its state file). */
  tasks: string[];
  /** Calls the server received per tool. */
  calls: Record<string, number>;
}

async function observe(dir: string): Promise<Observed> {
  const executions = await readEffectsLog(dir, crashResumeStepOf);
  const server = await readServerState(dir);
  const tasks = server.effects.filter((effect) => effect.tool === 'start_background_task_tool').map((e) => e.id);
  executions.set('start', tasks.length);
  return { executions, tasks, calls: server.calls };
}

/** The final as the log has it: the state folded from it, the result of its `workflow.succeeded`. */
function finalFromLog(runId: string, events: EventEnvelope[]): Record<string, unknown> {
  const end = events.findLast((event) => event.actorId === runId && event.type === 'workflow.succeeded');
  const { state } = createReplayLog(runId, events).stateAt(runId, { raw: { count: 0 } });
  return { runId, status: end ? 'succeeded' : 'unfinished', state, result: end?.data['result'] ?? null };
}

function lastJson(run: ChildRun): Record<string, unknown> | undefined {
  const last = run.lines.at(-1);
  if (last === undefined) return undefined;
  const parsed = JSON.parse(last) as Record<string, unknown>;
  return 'status' in parsed && !('type' in parsed) ? parsed : undefined;
}

interface RoundReport {
  kills: number;
  /** Tool calls a resumed (or resolved) process made on the server only the workflow declares. */
  callsAfterResume: number;
  processes: number;
  resolutions: string[];
  reruns: number;
}

/**
 * One run killed `kills` times at seeded points. After every process: each step whose `workflow.step.succeeded` was
 * in the log after an earlier kill has run no more times than it had then; the non-idempotent ones ran at most once.
 */
async function crashRound(
  dir: string,
  env: Record<string, string>,
  runId: string,
  seed: number,
  kills: number,
): Promise<{ final: Record<string, unknown>; report: RoundReport }> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flow.yaml'), crashResumeWorkflow());
  const random = seededRandom(seed);
  const dataDir = join(dir, 'data');
  const durable = new Map<string, number>();
  const report: RoundReport = { kills: 0, callsAfterResume: 0, processes: 0, resolutions: [], reruns: 0 };
  let args = ['run', 'flow.yaml', '--data-dir', dataDir, '--run-id', runId, '--json', '-q'];
  for (;;) {
    const kill =
      report.kills < kills
        ? { afterLines: 1 + Math.floor(random() * 6), delayMs: Math.floor(random() * 15) }
        : undefined;
    const run = await runChild(args, { cwd: dir, env, kill });
    report.processes += 1;
    if (run.killed) report.kills += 1;
    else expect([0, 2], `retrace ${args.join(' ')}: ${run.stderr}`).toContain(run.code);
    const events = await readRun(dataDir, runId);
    const seen = await observe(dir);
    for (const [step, count] of durable) {
      const story = events.filter((event) => event.actorId === step).map((event) => `${event.seq} ${event.type}`);
      expect(
        seen.executions.get(step),
        `${step} ran again after its end was durable (${args[0]}): ${story.join(', ')}`,
      ).toBe(count);
    }
    for (const step of ['start', 'record']) {
      expect(seen.executions.get(step) ?? 0, `non-idempotent ${step} ran twice`).toBeLessThanOrEqual(1);
    }
    // The server counts a call as it receives it: one cut off before its effect is sent again only by a person's retry.
    const retried = report.resolutions.filter((resolution) => resolution === 'start:retry').length;
    expect(seen.calls['start_background_task_tool'] ?? 0, 'start_background_task_tool repeated').toBeLessThanOrEqual(
      1 + retried,
    );
    for (const event of events) {
      if (event.type !== 'workflow.step.succeeded' || durable.has(event.actorId)) continue;
      const count = seen.executions.get(event.actorId);
      if (count !== undefined) durable.set(event.actorId, count);
    }
    const state = runLogState(runId, events);
    if (state.status === 'running') {
      args = ['resume', runId, '--data-dir', dataDir, '--json', '-q'];
    } else if (state.status === 'escalated') {
      // The person looks at what happened: the command's line, the server's side effects.
      const waiting = state.waitingOn ?? '';
      const happened = (seen.executions.get(waiting) ?? 0) > 0;
      const value = waiting === 'start' ? { task_id: seen.tasks[0] } : { exit_code: 0, stdout: '', stderr: '' };
      expect(['start', 'record'], `escalated on ${waiting}`).toContain(waiting);
      report.resolutions.push(`${waiting}:${happened ? 'value' : 'retry'}`);
      args = ['resolve', runId, '--data-dir', dataDir, '--json'];
      args.push(...(happened ? ['--action', 'value', '--value', JSON.stringify(value)] : ['--action', 'retry']));
    } else {
      const final = finalFromLog(runId, events);
      const printed = lastJson(run);
      if (printed) expect(printed).toEqual(final);
      const resumedAt = events.find((event) => event.type === 'workflow.resumed')?.seq ?? Infinity;
      report.callsAfterResume = events.filter(
        (event) => event.type === 'toolcall.attempt.started' && event.seq > resumedAt,
      ).length;
      const executions = [...seen.executions.values()];
      report.reruns = executions.reduce((sum, count) => sum + count, 0) - executions.length;
      for (const step of ['before', ...items.map((_, i) => `per_item[${i}].touch`), 'start', 'record']) {
        expect(seen.executions.get(step), `${step} never ran`).toBeGreaterThanOrEqual(1);
      }
      expect(seen.executions.get('start')).toBe(1);
      expect(seen.executions.get('record')).toBe(1);
      return { final, report };
    }
  }
}

describe('crash and resume through the CLI', () => {
  it(
    'SIGKILLed runs resumed to the uninterrupted final; completed steps never rerun, nothing unsafe repeated',
    {
      // About 35 CLI processes of ~2 s CPU each: a loaded 2-core machine needs minutes (each child has its own 30 s limit).
      timeout: 300_000,
    },
    async ({ workspace }) => {
      requireBuild();
      const env = workspace.marker;
      const baseline = await crashRound(join(workspace.dir, 'baseline'), env, 'crash-run', 1, 0);
      expect(baseline.final).toMatchObject({
        status: 'succeeded',
        state: { raw: { count: 8, task: 'task-0001' } },
        result: { count: 8, task: 'task-0001', rotations: 2 },
      });
      const reports: RoundReport[] = [];
      for (const [round, seed] of [11, 22, 33].entries()) {
        const { final, report } = await crashRound(join(workspace.dir, `round-${round}`), env, 'crash-run', seed, 10);
        expect(final, `round ${round}: ${JSON.stringify(report)}`).toEqual(baseline.final);
        reports.push(report);
      }
      const kills = reports.reduce((sum, report) => sum + report.kills, 0);
      console.info(`crash-resume: ${kills} kills, ${JSON.stringify(reports)}`);
      expect(kills).toBeGreaterThanOrEqual(20);
      // A resumed run connects the servers its workflow declares (there is no config file here).
      expect(reports.some((report) => report.callsAfterResume > 0)).toBe(true);
    },
  );
});
