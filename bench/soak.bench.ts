// Issue 7, load and soak: workflows run back to back at a fixed concurrency for a while, their tools failing
// transiently at a seeded rate, on the file log. Throughput, step latency (p50/p99) and memory over time: RSS and
// heap must be flat — no leak from event history, caches, timers or breaker windows.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttemptOutcome, McpConnector } from '../src/actors/mcpTypes.js';
import { createRuntime, type Runtime } from '../src/actors/runtime.js';
import { systemClock } from '../src/common/clock.js';
import { nextRandom } from '../src/policy/random.js';
import { createFileLog, type FileLog } from '../src/store/fileLog.js';
import { FileLogIndex } from '../src/store/fileLogIndex.js';
import { parseWorkflowText } from '../src/workflow/loadWorkflow.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median, percentile } from './lib/stats.js';

const benchmark = 'soak';
const tools = ['lookup', 'enrich', 'score', 'store', 'notify'];
const workflowText = `name: soak
steps:
${tools.map((tool, index) => `  - { id: s${index}, type: mcp_call, tool: ${tool}, arguments: { n: ${index} } }`).join('\n')}
`;
/** Transient failures per attempt: a 503 (unavailable) or a lock conflict, both retried. */
const faultRate = 0.2;
const concurrency = 200;
/** Step latencies kept for the percentiles: a uniform sample of this many, so the bench itself does not grow. */
const latencySampleSize = 20_000;

/** A uniform random sample of at most `size` of the values offered (Vitter's algorithm R), seeded. */
function reservoir(size: number, seed: number): { offer(value: number): void; values: number[] } {
  const values: number[] = [];
  let seen = 0;
  let state = seed;
  return {
    values,
    offer(value) {
      seen += 1;
      if (values.length < size) {
        values.push(value);
        return;
      }
      const next = nextRandom(state);
      state = next.state;
      const slot = Math.floor(next.value * seen);
      if (slot < size) values[slot] = value;
    },
  };
}

/** Answers from memory after a short real delay; a seeded share of attempts fail transiently. */
function faultyConnector(seed: number): McpConnector {
  let state = seed;
  const roll = (): number => {
    const next = nextRandom(state);
    state = next.state;
    return next.value;
  };
  return {
    async callTool() {
      const startedAt = systemClock.now();
      await new Promise((resolve) => setTimeout(resolve, 1));
      const finishedAt = systemClock.now();
      const dice = roll();
      const outcome: AttemptOutcome =
        dice < faultRate / 2
          ? {
              ok: false,
              failure: { source: 'http', status: 503, headers: {}, message: 'Service Unavailable' },
              startedAt,
              finishedAt,
            }
          : dice < faultRate
            ? {
                ok: false,
                failure: { source: 'http', status: 409, headers: {}, message: 'Conflict: resource locked' },
                startedAt,
                finishedAt,
              }
            : { ok: true, result: { content: [{ type: 'text', text: '{"ok":true}' }] }, startedAt, finishedAt };
      return outcome;
    },
    listTools: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

interface Sample {
  atS: number;
  rssKb: number;
  heapKb: number;
  steps: number;
}

interface SoakResult {
  seconds: number;
  workflows: number;
  failed: number;
  steps: number;
  attempts: number;
  stepLatencyMs: ReturnType<typeof reservoir>;
  samples: Sample[];
  /** Runs the retention removed. */
  removedRuns: number;
}

/**
 * How the soak keeps its log: as a long-lived deployment does, finished runs older than `retainMs` are removed every
 * `everyMs` (`FileLog.retain`); or, with no retention, the log and its run list grow for the whole soak.
 */
interface Retention {
  retainMs: number;
  everyMs: number;
}

async function soak(seconds: number, retention: Retention | undefined): Promise<SoakResult> {
  const dir = await mkdtemp(join(tmpdir(), 'retrace-bench-soak-'));
  const log: FileLog = await createFileLog({ dir, durability: 'batch' });
  const fast = { base_delay: '2ms', max_delay: '20ms' };
  const runtime: Runtime = createRuntime({
    config: {
      servers: { mem: { command: 'unused' } },
      defaults: { max_retries: 8, ...fast, by_kind: { unavailable: fast, lock: fast, resource: fast } },
    },
    connector: faultyConnector(42),
    store: log,
  });
  const checked = await parseWorkflowText(workflowText, { config: runtime.config });
  if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
  const workflow = checked.workflow;
  const result: SoakResult = {
    seconds,
    workflows: 0,
    failed: 0,
    steps: 0,
    attempts: 0,
    stepLatencyMs: reservoir(latencySampleSize, 7),
    samples: [],
    removedRuns: 0,
  };
  const began = performance.now();
  const deadline = began + seconds * 1000;
  // With `node --expose-gc` (as `npm run bench` runs), each sample follows a full collection: heap used is then what
  // is still referenced, not what the collector has not reached yet.
  const collect = (globalThis as { gc?: () => void }).gc;
  const sample = (): void => {
    collect?.();
    const memory = process.memoryUsage();
    result.samples.push({
      atS: (performance.now() - began) / 1000,
      rssKb: memory.rss / 1024,
      heapKb: memory.heapUsed / 1024,
      steps: result.steps,
    });
  };
  const sampler = setInterval(sample, 1000);
  let retaining: Promise<unknown> = Promise.resolve();
  const retainer =
    retention &&
    setInterval(() => {
      retaining = retaining
        .then(() => log.retain(retention.retainMs))
        .then((removed) => {
          result.removedRuns += removed.removedRuns;
        });
    }, retention.everyMs);
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const handle = runtime.spawn(workflow);
      const started = new Map<string, number>();
      const unsubscribe = handle.subscribe((event) => {
        if (event.type === 'workflow.step.started') started.set(event.data.stepId, performance.now());
        else if (event.type === 'toolcall.attempt.started') result.attempts += 1;
        else if (event.type === 'workflow.step.succeeded') {
          const at = started.get(event.data.stepId);
          if (at !== undefined) result.stepLatencyMs.offer(performance.now() - at);
          result.steps += 1;
        }
      });
      const final = await handle.done;
      unsubscribe();
      result.workflows += 1;
      if (final.status !== 'succeeded') result.failed += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
    sample();
  } finally {
    clearInterval(sampler);
    clearInterval(retainer);
    await retaining;
    await runtime.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

/** Memory growth from the end of the warm-up (the first quarter) to the end: the median of the second quarter's samples against the last quarter's. */
function growth(samples: Sample[], field: 'rssKb' | 'heapKb' | 'steps'): { early: number; late: number } {
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const early = median(samples.slice(quarter, 2 * quarter).map((sample) => sample[field]));
  const late = median(samples.slice(-quarter).map((sample) => sample[field]));
  return { early, late };
}

/**
 * What the file log's index keeps of a finished run whose segment's index file is written (the run list's entry):
 * heap used after a full GC with that many runs indexed, against the empty index, per run. Needs `--expose-gc`.
 */
function indexBytesPerFinishedRun(): { runs: number; bytes: number } {
  const collect = (globalThis as { gc?: () => void }).gc;
  const runs = 100_000;
  const heapAfterGc = (): number => {
    collect?.();
    return process.memoryUsage().heapUsed;
  };
  const before = heapAfterGc();
  const index = new FileLogIndex();
  const ts = Date.now();
  for (let run = 0; run < runs; run += 1) {
    // A ULID-like id, as the runtime makes them, and the soak workflow's share of events.
    const runId = `01JD${run.toString(36).toUpperCase().padStart(22, '0')}`;
    for (let seq = 1; seq <= 30; seq += 1) {
      const type = seq === 30 ? 'workflow.succeeded' : 'toolcall.attempt.started';
      index.add({ runId, seq, ts: ts + run + seq, type }, 1 + Math.floor(run / 5_000), run * 30 + seq, 300);
    }
  }
  index.segmentsOnDiskNow(Array.from({ length: runs / 5_000 }, (_, i) => i + 1));
  const after = heapAfterGc();
  if (index.summaries().length !== runs) throw new Error('the index lost runs');
  return { runs, bytes: collect ? (after - before) / runs : Number.NaN };
}

/** What the soak keeps: finished runs older than 20 s leave the log every 10 s. */
const retention: Retention = { retainMs: 20_000, everyMs: 10_000 };

export async function run(options: BenchOptions): Promise<BenchReport> {
  const figure = figuresOf(benchmark);
  const seconds = options.long ? 600 : 40;
  const result = await soak(seconds, retention);
  const rss = growth(result.samples, 'rssKb');
  const heap = growth(result.samples, 'heapKb');
  const latency = [...result.stepLatencyMs.values].sort((a, b) => a - b);
  const stepsPerSecond = result.steps / seconds;
  const recovered = result.workflows === 0 ? 0 : ((result.workflows - result.failed) / result.workflows) * 100;
  // The same soak with no retention: the log, and the run list the index keeps of it, grow for the whole run.
  const unretained = await soak(seconds, undefined);
  const unretainedHeap = growth(unretained.samples, 'heapKb');
  const perRun = indexBytesPerFinishedRun();
  const memory = (run: SoakResult) =>
    run.samples.map((sample) => ({
      atS: Number(sample.atS.toFixed(1)),
      rssKb: Math.round(sample.rssKb),
      heapKb: Math.round(sample.heapKb),
      steps: sample.steps,
    }));
  return {
    benchmark,
    figures: [
      figure(
        `${concurrency} workflows at a time for ${seconds} s, ${faultRate * 100}% transient faults`,
        stepsPerSecond,
        'steps/s',
      ),
      figure('runs that succeeded without a person', recovered, '%', { target: { atLeast: 99.9 } }),
      figure('step latency p50 (started → succeeded, retries included)', percentile(latency, 0.5) * 1000, 'µs'),
      figure('step latency p99', percentile(latency, 0.99) * 1000, 'µs'),
      figure('RSS, last quarter of the run (retention: runs ended 20 s ago)', rss.late, 'KB', {
        baseline: { name: 'second quarter', value: rss.early },
        target: { ratioAtMost: 1.1 },
      }),
      figure('heap used, last quarter of the run (same)', heap.late, 'KB', {
        baseline: { name: 'second quarter', value: heap.early },
        target: { ratioAtMost: 1.1 },
      }),
      figure('heap used, last quarter, no retention', unretainedHeap.late, 'KB', {
        baseline: { name: 'second quarter', value: unretainedHeap.early },
      }),
      figure(
        `index heap per finished run in sealed segments (${perRun.runs.toLocaleString('en-US')} runs)`,
        perRun.bytes,
        'B',
      ),
    ],
    details: {
      seconds,
      concurrency,
      faultRate,
      retention,
      workflows: result.workflows,
      failed: result.failed,
      removedRuns: result.removedRuns,
      steps: result.steps,
      attempts: result.attempts,
      samples: memory(result),
      unretained: {
        workflows: unretained.workflows,
        failed: unretained.failed,
        steps: unretained.steps,
        samples: memory(unretained),
      },
    },
  };
}
