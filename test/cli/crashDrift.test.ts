// External drift with real parts: background-failure killed mid-poll, one status check that reached the example server
// with its answer lost (as when a kill cuts it), then resumed. The run ends as uninterrupted but for its round, and the
// crash campaign's judge (test/support/crashJudge.ts) excuses it from the log and the server's own counters.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runLogState } from '../../src/actors/workflowResume.js';
import { cliTest as it } from '../support/cli.js';
import { requireBuild, runChild, type KillPoint } from '../support/crashChild.js';
import { judgeEnd, recordedAnswers, type EndEvidence } from '../support/crashJudge.js';
import { readOnlyTools, readRun, readServerState, runEnd } from '../support/crashObserve.js';
import { allCrashScenarios, serverStateFile } from '../support/crashScenarios.js';
import { connectExample } from '../support/exampleServer.js';
import { repoRoot } from '../support/servers.js';

const runId = 'crash-run';
const status = 'get_task_status_tool';

/** Runs background-failure in `dir`, killed at `kill`, then calls `between` and resumes until the run has ended. */
async function runScenario(
  dir: string,
  env: Record<string, string>,
  kill?: KillPoint,
  between?: () => Promise<void>,
): Promise<{ evidence: EndEvidence; lines: string[] }> {
  const scenario = allCrashScenarios.find((candidate) => candidate.name === 'background-failure');
  if (!scenario) throw new Error('no background-failure scenario');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flow.yaml'), await scenario.workflowText(0.01));
  const inputs = Object.entries(scenario.inputs).flatMap(([key, value]) => ['--input', `${key}=${value}`]);
  const dataDir = join(dir, 'data');
  const first = await runChild(
    ['run', 'flow.yaml', '--data-dir', dataDir, '--run-id', runId, '--json', '-q', ...inputs],
    {
      cwd: dir,
      env,
      kill,
    },
  );
  expect(first.killed).toBe(kill !== undefined);
  await between?.();
  for (let resumes = 0; runLogState(runId, await readRun(dataDir, runId)).status === 'running'; resumes += 1) {
    expect(resumes).toBeLessThan(3);
    await runChild(['resume', runId, '--data-dir', dataDir, '--json', '-q'], { cwd: dir, env });
  }
  const events = await readRun(dataDir, runId);
  const server = await readServerState(dir);
  return {
    evidence: { end: runEnd(runId, events), answers: recordedAnswers(events), serverCalls: server.calls },
    lines: first.lines,
  };
}

describe('external drift in the crash campaign', () => {
  it(
    'excuses a failing round that a lost status check moved on, from the log and the server counters',
    { timeout: 120_000 },
    async ({ workspace }) => {
      requireBuild();
      const uninterrupted = await runScenario(join(workspace.dir, 'baseline'), workspace.marker);
      expect(uninterrupted.evidence.end.status).toBe('failed');
      // Killed just after the first status check's answer is in the log: the poll waits out its interval.
      const firstAnswer = uninterrupted.lines.findIndex((line) => {
        const event = JSON.parse(line) as { type?: string; data?: { tool?: string } };
        return event.type === 'toolcall.succeeded' && event.data?.tool === status;
      });
      expect(firstAnswer).toBeGreaterThan(0);
      const dir = join(workspace.dir, 'crashed');
      let lostCalls = 0;
      const crashed = await runScenario(
        dir,
        workspace.marker,
        { afterLines: firstAnswer + 1, delayMs: 0 },
        async () => {
          // A status check that reached the server and whose answer no process recorded.
          const state = JSON.parse(await readFile(join(dir, serverStateFile), 'utf8')) as {
            tasks: { task_id: string }[];
          };
          const example = await connectExample({
            planFile: join(repoRoot, 'examples', 'plans', 'background-task.yaml'),
            stateFile: join(dir, serverStateFile),
          });
          try {
            // Until one is answered: a planned fault (seeded by the call's number) does not move the task on.
            for (let answered = false; !answered; lostCalls += 1) {
              expect(lostCalls).toBeLessThan(3);
              const result = await example.raw(status, { task_id: state.tasks[0]?.task_id ?? '' });
              answered = result.isError !== true;
            }
          } finally {
            await example.close();
          }
        },
      );
      const { error: crashedError, ...crashedEnd } = crashed.evidence.end;
      const { error: baselineError, ...baselineEnd } = uninterrupted.evidence.end;
      expect(crashedEnd).toEqual(baselineEnd);
      expect(crashedError).not.toBe(baselineError);
      expect(judgeEnd(uninterrupted.evidence, crashed.evidence, readOnlyTools)).toMatchObject({
        verdict: 'externalDrift',
        drifts: [{ tool: status, unanswered: lostCalls, lag: 1 }],
      });
      // Without the server's count of those calls, nothing would explain the earlier round.
      const unseen = {
        ...crashed.evidence,
        serverCalls: {
          ...crashed.evidence.serverCalls,
          [status]: (crashed.evidence.serverCalls[status] ?? 0) - lostCalls,
        },
      };
      expect(judgeEnd(uninterrupted.evidence, unseen, readOnlyTools).verdict).toBe('different');
    },
  );
});
