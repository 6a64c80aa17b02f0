// The crash campaign (issue 7's crash suite), shared by test/cli/crashCampaign.test.ts and bench/crash.bench.ts: runs
// workflows through the built `retrace` command, SIGKILLs it (and its servers) at seeded points, resumes — killing
// resumes and resolves too — until the run ends or waits on the escalation its plan leads to, answers the escalations a
// crash raises as a person would, and counts what went wrong against an uninterrupted run of the same plan.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runLogState } from '../../src/actors/workflowResume.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { runChild, seededRandom, type ChildRun, type KillPoint } from './crashChild.js';
import {
  checkAgainst,
  checkCalls,
  RunState,
  violationKinds,
  type Baseline,
  type Violation,
  type ViolationKind,
} from './crashChecks.js';
import { recordedAnswers } from './crashJudge.js';
import {
  lastEscalation,
  readEffectsLog,
  readRun,
  readServerState,
  runEnd,
  startsAfterSuccess,
  type RunEnd,
  type ServerSeen,
} from './crashObserve.js';
import { answerEscalation } from './crashPerson.js';
import type { CrashScenario } from './crashScenarios.js';

export { violationKinds, type Violation, type ViolationKind };

export interface RunReport {
  scenario: string;
  /** `scenario#index`, its directory's name. */
  run: string;
  seed: number;
  kills: number;
  processes: number;
  /** The person's answers, in order (`tool:retry`, `record:value`, …). */
  resolutions: string[];
  end: RunEnd;
  resumable: boolean;
  /**
   * The end matched the uninterrupted run's but for its error's numbers, because status checks a kill cut after they
   * reached the server had moved the (simulated) world on: not a violation, reported apart. See crashJudge.ts.
   */
  externalDrift?: string;
  violations: Violation[];
  /** `workflow.step.succeeded` lines a killed process printed that were not in the log after it (stdout is a live feed). */
  printedNotDurable: number;
  wallMs: number;
}

export interface CampaignOptions {
  /** A scratch directory; each run gets its own below it (removed after a clean run unless `keepRuns`). */
  dir: string;
  scenarios: readonly CrashScenario[];
  /** Kills to reach: runs are added, scenario after scenario, until this many processes were killed. */
  kills: number;
  /** At most this many kills per run (default 4). */
  killsPerRun?: number;
  seed?: number;
  /** Waits of the workflows scaled by this (default 0.01). */
  timeScale?: number;
  /** Runs at once (default 1). */
  concurrency?: number;
  /** Extra environment of every process (a test's marker variable). */
  env?: Record<string, string>;
  keepRuns?: boolean;
  onRun?: (report: RunReport) => void;
}

export interface CampaignReport {
  kills: number;
  runs: number;
  processes: number;
  resumableRuns: number;
  /** Resumable runs whose error text drifted with the external world (cut status checks), each with its evidence. */
  externalDrift: Array<{ run: string; message: string }>;
  violations: Record<ViolationKind, number>;
  /** Every violation, with its run and what was seen. */
  violationList: Violation[];
  printedNotDurable: number;
  resolutions: number;
  perScenario: Record<string, { runs: number; kills: number; end: RunEnd }>;
  wallMs: number;
}

const runId = 'crash-run';
const processTimeoutMs = 60_000;

interface RunContext {
  scenario: CrashScenario;
  dir: string;
  name: string;
  seed: number;
  killBudget: number;
  timeScale: number;
  env: Record<string, string>;
  baseline?: Baseline;
}

function killPoint(random: () => number, remainingEvents: number): KillPoint {
  // Short of the last events, so most kills land while the run works rather than while the process exits.
  return {
    afterLines: 1 + Math.floor(random() * Math.max(1, remainingEvents - 2)),
    delayMs: Math.floor(random() * 20),
  };
}

function printedSucceeded(child: ChildRun): string[] {
  const ids: string[] = [];
  for (const line of child.lines) {
    try {
      const event = JSON.parse(line) as { type?: unknown; id?: unknown };
      if (event.type === 'workflow.step.succeeded' && typeof event.id === 'string') ids.push(event.id);
    } catch {
      // A line cut by the kill.
    }
  }
  return ids;
}

/** One run of a scenario, killed up to `killBudget` times; with a baseline, checked against it. */
async function crashRun(
  context: RunContext,
): Promise<{ report: RunReport; events: EventEnvelope[]; server: ServerSeen }> {
  const { scenario, dir, baseline } = context;
  const began = performance.now();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flow.yaml'), await scenario.workflowText(context.timeScale));
  const random = seededRandom(context.seed);
  const dataDir = join(dir, 'data');
  const inputs = Object.entries(scenario.inputs).flatMap(([key, value]) => ['--input', `${key}=${value}`]);
  const secrets = Object.entries(scenario.secretInputs ?? {}).flatMap(([key, value]) => ['--input', `${key}=${value}`]);
  const run = new RunState(context.name);
  const durableSteps = new Set<string>();
  const durableExecutions = new Map<string, number>();
  const resolutions: string[] = [];
  let args = ['run', 'flow.yaml', '--data-dir', dataDir, '--run-id', runId, '--json', '-q', ...inputs];
  let events: EventEnvelope[] = [];
  let server: ServerSeen = await readServerState(dir);
  let kills = 0;
  let processes = 0;
  let printedNotDurable = 0;
  const maxProcesses = context.killBudget + 12;
  for (;;) {
    if (processes >= maxProcesses) {
      run.violate('notResumable', 'processes', `still not ended after ${processes} processes`);
      break;
    }
    const kill =
      kills < context.killBudget ? killPoint(random, (baseline?.eventCount ?? 0) - events.length) : undefined;
    let child: ChildRun;
    try {
      child = await runChild(args, { cwd: dir, env: context.env, kill, timeoutMs: processTimeoutMs });
    } catch (error) {
      run.violate('notResumable', 'process', `retrace ${args[0]}: ${(error as Error).message.slice(0, 400)}`);
      break;
    }
    processes += 1;
    if (child.killed) kills += 1;
    else if (![0, 1, 2].includes(child.code ?? -1)) {
      run.violate('notResumable', 'exit', `retrace ${args[0]} exited ${child.code}: ${child.stderr.slice(-400)}`);
      break;
    }
    events = await readRun(dataDir, runId);
    server = await readServerState(dir);
    const executions = scenario.effectsLog ? await readEffectsLog(dir, scenario.effectsLog.stepOf) : new Map();
    const ids = new Set(events.map((event) => event.id));
    if (child.killed) printedNotDurable += printedSucceeded(child).filter((id) => !ids.has(id)).length;
    const succeeded = new Set(events.filter((e) => e.type === 'workflow.step.succeeded').map((e) => e.actorId));
    for (const step of durableSteps) {
      if (!succeeded.has(step))
        run.violate('completedStepLost', step, `${step}: its durable success is gone (${args[0]})`);
    }
    for (const [step, count] of durableExecutions) {
      const now = executions.get(step) ?? 0;
      if (now > count)
        run.violate(
          'completedStepRerun',
          step,
          `${step} ran ${now - count} more time(s) after its success was durable (${args[0]})`,
        );
    }
    for (const step of succeeded) {
      durableSteps.add(step);
      if (!durableExecutions.has(step) && executions.has(step)) durableExecutions.set(step, executions.get(step) ?? 0);
    }
    for (const step of scenario.effectsLog?.nonIdempotentSteps ?? []) {
      const allowed = 1 + (run.retries.get(step) ?? 0);
      if ((executions.get(step) ?? 0) > allowed)
        run.violate(
          'nonIdempotentRepeat',
          step,
          `command ${step} ran ${executions.get(step)} times (${allowed} allowed)`,
        );
    }
    if (events.length === 0) continue; // Killed before the run's start was durable: `run` again.
    const state = runLogState(runId, events);
    if (state.status === 'running') {
      args = ['resume', runId, '--data-dir', dataDir, '--json', '-q', ...secrets];
      continue;
    }
    if (state.status !== 'escalated' || baseline === undefined) break;
    const escalation = lastEscalation(runId, events);
    const planned =
      baseline.end.status === 'escalated' &&
      baseline.end.waitingOn === escalation?.stepActorId &&
      baseline.end.trigger === escalation?.trigger;
    if (planned) break;
    const waitingOn = state.waitingOn ?? '';
    const answer = answerEscalation({ waitingOn, tool: escalation?.tool, events, server, executions });
    resolutions.push(answer.label);
    if (answer.retried) {
      const subject = escalation?.tool ?? waitingOn;
      run.retries.set(subject, (run.retries.get(subject) ?? 0) + 1);
    }
    args = ['resolve', runId, '--data-dir', dataDir, '--json', '--by', 'crash-campaign', ...answer.args, ...secrets];
  }
  const end = runEnd(runId, events);
  checkCalls(run, events, server);
  const externalDrift = baseline ? checkAgainst(run, baseline, end, events, server) : undefined;
  const report: RunReport = {
    scenario: scenario.name,
    run: context.name,
    seed: context.seed,
    kills,
    processes,
    resolutions,
    end,
    resumable: !run.violations.some((violation) => violation.kind === 'notResumable'),
    ...(externalDrift === undefined ? {} : { externalDrift }),
    violations: run.violations,
    printedNotDurable,
    wallMs: performance.now() - began,
  };
  return { report, events, server };
}

async function baselineOf(
  scenario: CrashScenario,
  options: Required<Pick<CampaignOptions, 'dir' | 'timeScale' | 'env'>>,
): Promise<Baseline> {
  const dir = join(options.dir, `${scenario.name}-baseline`);
  const { report, events, server } = await crashRun({
    scenario,
    dir,
    name: `${scenario.name}#baseline`,
    seed: 0,
    killBudget: 0,
    timeScale: options.timeScale,
    env: options.env,
  });
  if (report.end.status !== scenario.expected || report.violations.length > 0) {
    throw new Error(
      `${scenario.name}: the uninterrupted run ended ${JSON.stringify(report.end).slice(0, 400)} (expected ${scenario.expected}); ${report.violations.map((v) => v.message).join('; ')}`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  return {
    end: report.end,
    eventCount: events.length,
    starts: startsAfterSuccess(events),
    server,
    answers: recordedAnswers(events),
    serverCalls: server.calls,
  };
}

/** Runs the campaign: a baseline per scenario, then crashed runs, scenario after scenario, until `kills` kills. */
export async function runCrashCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const began = performance.now();
  const timeScale = options.timeScale ?? 0.01;
  const env = options.env ?? {};
  const killsPerRun = options.killsPerRun ?? 4;
  const seed = options.seed ?? 1;
  const concurrency = options.concurrency ?? 1;
  const baselines = new Map<string, Baseline>();
  const waiting = [...options.scenarios];
  const baselineWorker = async () => {
    for (let scenario = waiting.shift(); scenario; scenario = waiting.shift()) {
      baselines.set(scenario.name, await baselineOf(scenario, { dir: options.dir, timeScale, env }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, baselineWorker));
  const reports: RunReport[] = [];
  let kills = 0;
  let reserved = 0;
  let started = 0;
  const maxRuns = Math.max(options.scenarios.length, Math.ceil(options.kills / killsPerRun) * 4);
  const worker = async () => {
    while (kills + reserved < options.kills && started < maxRuns) {
      const index = started++;
      const scenario = options.scenarios[index % options.scenarios.length];
      if (!scenario) break;
      const budget = Math.min(killsPerRun, options.kills - kills - reserved);
      reserved += budget;
      const name = `${scenario.name}#${index}`;
      const dir = join(options.dir, `${scenario.name}-${index}`);
      const baseline = baselines.get(scenario.name);
      const { report } = await crashRun({
        scenario,
        dir,
        name,
        seed: seed * 100_003 + index,
        killBudget: budget,
        timeScale,
        env,
        ...(baseline ? { baseline } : {}),
      });
      reserved -= budget;
      kills += report.kills;
      reports.push(report);
      options.onRun?.(report);
      if (report.violations.length === 0 && !options.keepRuns) await rm(dir, { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const violationList = reports.flatMap((report) => report.violations);
  const perScenario: CampaignReport['perScenario'] = {};
  for (const scenario of options.scenarios) {
    const mine = reports.filter((report) => report.scenario === scenario.name);
    const end = baselines.get(scenario.name)?.end ?? { status: 'unknown', state: null, result: null };
    perScenario[scenario.name] = { runs: mine.length, kills: mine.reduce((sum, report) => sum + report.kills, 0), end };
  }
  return {
    kills,
    runs: reports.length,
    processes: reports.reduce((sum, report) => sum + report.processes, 0),
    resumableRuns: reports.filter((report) => report.resumable).length,
    externalDrift: reports.flatMap((report) =>
      report.resumable && report.externalDrift !== undefined
        ? [{ run: report.run, message: report.externalDrift }]
        : [],
    ),
    violations: Object.fromEntries(
      violationKinds.map((kind) => [kind, violationList.filter((v) => v.kind === kind).length]),
    ) as Record<ViolationKind, number>,
    violationList,
    printedNotDurable: reports.reduce((sum, report) => sum + report.printedNotDurable, 0),
    resolutions: reports.reduce((sum, report) => sum + report.resolutions.length, 0),
    perScenario,
    wallMs: performance.now() - began,
  };
}
