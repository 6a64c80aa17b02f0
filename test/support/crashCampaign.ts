// The crash campaign (issue 7's crash suite), shared by test/cli/crashCampaign.test.ts and bench/crash.bench.ts: runs
// workflows through the built `retrace` command, SIGKILLs it (and its servers) at seeded points, resumes — killing
// resumes and resolves too — until the run ends or waits on the escalation its plan leads to, answers the escalations a
// crash raises as a person would, and counts what went wrong against an uninterrupted run of the same plan.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { runLogState } from '../../src/actors/workflowResume.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { runChild, seededRandom, type ChildRun, type KillPoint } from './crashChild.js';
import {
  attemptsPerTool,
  countBy,
  lastEscalation,
  nonIdempotentTools,
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

export const violationKinds = [
  /** A step whose `workflow.step.succeeded` was durable after a kill is no longer succeeded in the log. */
  'completedStepLost',
  /** A step started again (or its command ran again) after its success was durable. */
  'completedStepRerun',
  /** A non-idempotent call or command took effect (or was sent) more often than the uninterrupted run, a person's retries aside. */
  'nonIdempotentRepeat',
  /** The run did not end as the uninterrupted run does (status, state, result, error, waiting step), or a process failed. */
  'notResumable',
  /** The server received more calls of a non-idempotent tool than the log recorded attempts of it. */
  'unrecordedCall',
] as const;
export type ViolationKind = (typeof violationKinds)[number];

export interface Violation {
  kind: ViolationKind;
  run: string;
  message: string;
}

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
  violations: Record<ViolationKind, number>;
  /** Every violation, with its run and what was seen. */
  violationList: Violation[];
  printedNotDurable: number;
  resolutions: number;
  perScenario: Record<string, { runs: number; kills: number; end: RunEnd }>;
  wallMs: number;
}

/** An uninterrupted run of a scenario: what every crashed run of it must end with. */
interface Baseline {
  end: RunEnd;
  eventCount: number;
  starts: Map<string, number>;
  server: ServerSeen;
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

class RunState {
  readonly violations: Violation[] = [];
  private readonly reported = new Set<string>();
  /** Per tool or command step: the person's retries. */
  readonly retries = new Map<string, number>();

  constructor(private readonly run: string) {}

  violate(kind: ViolationKind, subject: string, message: string): void {
    if (this.reported.has(`${kind}:${subject}`)) return;
    this.reported.add(`${kind}:${subject}`);
    this.violations.push({ kind, run: this.run, message });
  }
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
  if (baseline) checkAgainst(run, baseline, end, events, server);
  const report: RunReport = {
    scenario: scenario.name,
    run: context.name,
    seed: context.seed,
    kills,
    processes,
    resolutions,
    end,
    resumable: !run.violations.some((violation) => violation.kind === 'notResumable'),
    violations: run.violations,
    printedNotDurable,
    wallMs: performance.now() - began,
  };
  return { report, events, server };
}

/** The server saw no call of a non-idempotent tool the log did not record an attempt of (durable before it is sent). */
function checkCalls(run: RunState, events: readonly EventEnvelope[], server: ServerSeen): void {
  const attempts = attemptsPerTool(events);
  for (const [tool, calls] of Object.entries(server.calls)) {
    if (!nonIdempotentTools.has(tool)) continue;
    const recorded = attempts.get(tool) ?? 0;
    if (calls > recorded)
      run.violate(
        'unrecordedCall',
        tool,
        `${tool}: the server got ${calls} calls, the log recorded ${recorded} attempts`,
      );
  }
}

function checkAgainst(
  run: RunState,
  baseline: Baseline,
  end: RunEnd,
  events: readonly EventEnvelope[],
  server: ServerSeen,
): void {
  if (!isDeepStrictEqual(end, baseline.end)) {
    const text = (value: RunEnd) => JSON.stringify(value).slice(0, 600);
    run.violate('notResumable', 'end', `ended ${text(end)}; the uninterrupted run ended ${text(baseline.end)}`);
  }
  for (const [actor, starts] of startsAfterSuccess(events)) {
    const designed = baseline.starts.get(actor) ?? 0;
    if (starts > designed)
      run.violate('completedStepRerun', actor, `${actor} started ${starts - designed} more time(s) after it succeeded`);
  }
  const effects = countBy(server.effects, (effect) => effect.tool);
  const baselineEffects = countBy(baseline.server.effects, (effect) => effect.tool);
  for (const tool of nonIdempotentTools) {
    const made = effects.get(tool) ?? 0;
    if (made > (baselineEffects.get(tool) ?? 0))
      run.violate(
        'nonIdempotentRepeat',
        `${tool}:effects`,
        `${tool} took effect ${made} times, ${baselineEffects.get(tool) ?? 0} uninterrupted`,
      );
    const calls = server.calls[tool] ?? 0;
    const allowed = (baseline.server.calls[tool] ?? 0) + (run.retries.get(tool) ?? 0);
    if (calls > allowed)
      run.violate(
        'nonIdempotentRepeat',
        `${tool}:calls`,
        `${tool} was called ${calls} times, ${allowed} allowed (uninterrupted, plus a person's retries)`,
      );
  }
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
  return { end: report.end, eventCount: events.length, starts: startsAfterSuccess(events), server };
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
