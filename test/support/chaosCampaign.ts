// Issue 7's chaos suite, shared by test/chaos/chaosSuite.test.ts (a short campaign) and bench/chaos.bench.ts (1,000
// runs): seed 000's workflows run concurrently in one runtime through ONE chaos proxy (Streamable HTTP) in front of
// the example server (in process, over HTTP), at a 30% transient fault rate plus outage windows and a small rate of
// permanent faults, all on one simulated clock (the proxy's outages, the runtime's backoff and the workflows' poll
// intervals). Each run is judged from its recorded events: which faults it met, and whether it ended without a person.
import { startChaosHttpProxy } from '../../src/chaos/chaosHttp.js';
import { ChaosPlan, type ChaosFault, type ChaosKind, type ChaosPlanInput } from '../../src/chaos/chaosPlan.js';
import type { ChaosReportData } from '../../src/chaos/chaosReport.js';
import { createRuntime } from '../../src/actors/runtime.js';
import type { WorkflowFinal } from '../../src/actors/workflowRun.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { startExampleHttpServer } from '../../src/examples/exampleHttpHost.js';
import { createExampleHost } from '../../src/examples/exampleServer.js';
import { nextRandom } from '../../src/policy/random.js';
import { skipWaits } from '../../src/testing/skipWaits.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { chaosWorkflows, type ChaosBudget, type ChaosWorkflow } from './chaosWorkflows.js';
import { createMemoryStore } from './memoryStore.js';

export interface ChaosCampaignOptions {
  runs: number;
  seed?: number;
  /** Runs executing at once (the serial deployment lane counts as one of them). */
  concurrency?: number;
  budget?: ChaosBudget;
  /** Probability per tool call of a transient fault (unavailable, lock, rate_limit, resource): 0.3 by default. */
  transientRate?: number;
  /** Probability per tool call of a permanent fault (not_found, invalid_input, permission, auth): 0.01 by default. */
  permanentRate?: number;
  /** Outage windows (every call fails as unavailable): one of `outageMs` every `outageEveryMs` of simulated time. */
  outageMs?: number;
  outageEveryMs?: number;
}

export type RunEnd = WorkflowFinal['status'];

export interface RunVerdict {
  workflow: string;
  runId: string;
  status: RunEnd;
  /** Failed attempts by class (`transient`, `permanent`, …) and kind. */
  faults: number;
  permanentFaults: number;
  /** A permanent failure retried on the same tool: the attempts that followed it (0 when failed fast). */
  retriedAfterPermanent: number;
  /** Retries after a lock conflict that waited as long as the server asked (a rollout another run left behind). */
  lockWaitsOnServerHint: number;
}

export interface ChaosCampaignReport {
  runs: number;
  /** Runs whose faults (if any) were all transient, and those of them that ended succeeded. */
  transientOnlyRuns: number;
  transientOnlyRecovered: number;
  /** Runs of the above that met at least one fault. */
  transientFaultedRuns: number;
  transientFaultedRecovered: number;
  /** Permanent failures met by calls, and those not retried on their tool (escalated, failed, or fallen back). */
  permanentFaults: number;
  permanentFailedFast: number;
  /** Retries after a lock conflict that waited as long as the server asked, over all runs. */
  lockWaitsOnServerHint: number;
  /** End statuses of the transient-only runs that did not succeed, per workflow: what to look at. */
  unrecovered: Array<{ workflow: string; runId: string; status: RunEnd; reason: string }>;
  byWorkflow: Record<string, Partial<Record<RunEnd, number>>>;
  proxy: ChaosReportData;
  simulatedMs: number;
  wallMs: number;
}

const transientKinds: ChaosKind[] = ['unavailable', 'lock', 'rate_limit', 'resource'];
const permanentKinds: ChaosKind[] = ['not_found', 'invalid_input', 'permission', 'auth'];

/** Rules of equal rate whose combined probability (each rule draws in turn) is `total`. */
function rulesFor(kinds: ChaosKind[], total: number): ChaosFault[] {
  if (total <= 0) return [];
  const each = 1 - Math.pow(1 - total, 1 / kinds.length);
  return kinds.map((kind) => ({ tool: '*', rate: each, kind, ...(kind === 'rate_limit' ? { ms: 1000 } : {}) }));
}

/** The campaign's plan: permanent rules first (rare), then the transient ones; outages over `horizonMs`. */
export function chaosCampaignPlan(options: ChaosCampaignOptions, horizonMs: number): ChaosPlanInput {
  const outageMs = options.outageMs ?? 4_000;
  const every = options.outageEveryMs ?? 120_000;
  const outages: Array<{ from: number; to: number }> = [];
  if (outageMs > 0) {
    for (let from = every / 2; from < horizonMs; from += every)
      outages.push({ from: from / 1000, to: (from + outageMs) / 1000 });
  }
  return {
    seed: options.seed ?? 42,
    faults: [
      ...rulesFor(permanentKinds, options.permanentRate ?? 0.01),
      ...rulesFor(transientKinds, options.transientRate ?? 0.3),
    ],
    outages,
  };
}

/** Reads one run's recorded attempts: faults by class, and permanent failures followed by an attempt on the same tool. */
export function judgeRun(workflow: string, final: WorkflowFinal, events: readonly EventEnvelope[]): RunVerdict {
  const verdict: RunVerdict = {
    workflow,
    runId: final.runId,
    status: final.status,
    faults: 0,
    permanentFaults: 0,
    retriedAfterPermanent: 0,
    lockWaitsOnServerHint: 0,
  };
  /** Per call id: the tool whose last attempt failed permanently. */
  const permanentOn = new Map<string, string>();
  /** Per call id: the kind of its last failed attempt. */
  const lastKind = new Map<string, string | undefined>();
  for (const event of events) {
    const callId = event.actorId;
    if (event.type === 'toolcall.backoff.scheduled') {
      const { retryAfter } = event.data as { retryAfter?: boolean };
      if (retryAfter === true && lastKind.get(callId) === 'lock') verdict.lockWaitsOnServerHint += 1;
      continue;
    }
    if (!event.type.startsWith('toolcall.attempt.')) continue;
    const data = event.data as { server?: string; tool?: string; failure?: { class?: string; kind?: string } };
    const target = `${data.server}/${data.tool}`;
    if (event.type === 'toolcall.attempt.failed') {
      verdict.faults += 1;
      lastKind.set(callId, data.failure?.kind);
      if (data.failure?.class === 'permanent') {
        verdict.permanentFaults += 1;
        permanentOn.set(callId, target);
      } else permanentOn.delete(callId);
    } else if (event.type === 'toolcall.attempt.started') {
      if (permanentOn.get(callId) === target) verdict.retriedAfterPermanent += 1;
      permanentOn.delete(callId);
    }
  }
  return verdict;
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    const draw = nextRandom(state);
    state = draw.state;
    return draw.value;
  };
}

/** Runs the campaign: `runs` workflows cycling through the three examples. */
export async function runChaosCampaign(options: ChaosCampaignOptions): Promise<ChaosCampaignReport> {
  const started = Date.now();
  const clock = createTestClock(1_735_689_600_000);
  const startAt = clock.now();
  const example = await startExampleHttpServer(createExampleHost({ clock }));
  // Outages are laid out over a generous horizon of simulated time (a deployment run takes about a minute).
  const plan = ChaosPlan.parse(chaosCampaignPlan(options, Math.max(600_000, options.runs * 120_000)));
  const proxy = await startChaosHttpProxy({ plan, target: { url: example.url }, clock });
  const store = createMemoryStore();
  const runtime = createRuntime({ config: {}, clock, random: seededRandom(options.seed ?? 42), store });
  const skipper = skipWaits(runtime, clock);
  try {
    const workflows = await chaosWorkflows(proxy.url, options.budget ?? 'chaos');
    const verdicts = await runAll(runtime, store, workflows, options);
    return summarize(verdicts, proxy.engine.report.toJSON(), clock.now() - startAt, Date.now() - started);
  } finally {
    skipper.stop();
    await runtime.close();
    await proxy.close();
    await example.close();
  }
}

interface RunOutcome {
  verdict: RunVerdict;
  final: WorkflowFinal;
}

async function runAll(
  runtime: ReturnType<typeof createRuntime>,
  store: ReturnType<typeof createMemoryStore>,
  workflows: ChaosWorkflow[],
  options: ChaosCampaignOptions,
): Promise<RunOutcome[]> {
  const queue = Array.from({ length: options.runs }, (_, index) => workflows[index % workflows.length]!);
  const concurrent = queue.filter((item) => !item.serial);
  const serial = queue.filter((item) => item.serial);
  const outcomes: RunOutcome[] = [];
  const runOne = async (item: ChaosWorkflow): Promise<void> => {
    const final = await runtime.spawn(item.workflow, item.inputs).done;
    const events = await store.read(final.runId);
    outcomes.push({ verdict: judgeRun(item.name, final, events), final });
  };
  const lane = async (items: ChaosWorkflow[]): Promise<void> => {
    for (let item = items.shift(); item; item = items.shift()) await runOne(item);
  };
  const lanes = Math.max(1, (options.concurrency ?? 20) - (serial.length > 0 ? 1 : 0));
  await Promise.all([lane(serial), ...Array.from({ length: lanes }, () => lane(concurrent))]);
  return outcomes;
}

function reasonOf(final: WorkflowFinal): string {
  const error = final.error as { message?: string } | undefined;
  return error?.message ?? JSON.stringify(final.result);
}

function summarize(
  outcomes: RunOutcome[],
  proxy: ChaosReportData,
  simulatedMs: number,
  wallMs: number,
): ChaosCampaignReport {
  const report: ChaosCampaignReport = {
    runs: outcomes.length,
    transientOnlyRuns: 0,
    transientOnlyRecovered: 0,
    transientFaultedRuns: 0,
    transientFaultedRecovered: 0,
    permanentFaults: 0,
    permanentFailedFast: 0,
    lockWaitsOnServerHint: 0,
    unrecovered: [],
    byWorkflow: {},
    proxy,
    simulatedMs,
    wallMs,
  };
  for (const { verdict, final } of outcomes) {
    const ends = (report.byWorkflow[verdict.workflow] ??= {});
    ends[verdict.status] = (ends[verdict.status] ?? 0) + 1;
    report.permanentFaults += verdict.permanentFaults;
    report.permanentFailedFast += verdict.permanentFaults - verdict.retriedAfterPermanent;
    report.lockWaitsOnServerHint += verdict.lockWaitsOnServerHint;
    if (verdict.permanentFaults > 0) continue;
    const recovered = verdict.status === 'succeeded';
    report.transientOnlyRuns += 1;
    if (recovered) report.transientOnlyRecovered += 1;
    else
      report.unrecovered.push({
        workflow: verdict.workflow,
        runId: verdict.runId,
        status: verdict.status,
        reason: reasonOf(final),
      });
    if (verdict.faults > 0) {
      report.transientFaultedRuns += 1;
      if (recovered) report.transientFaultedRecovered += 1;
    }
  }
  return report;
}

/** A percentage, 100 when there is nothing to count. */
export function percent(part: number, whole: number): number {
  return whole === 0 ? 100 : (100 * part) / whole;
}
