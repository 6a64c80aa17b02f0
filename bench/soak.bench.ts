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
}

async function soak(seconds: number): Promise<SoakResult> {
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
    await runtime.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

/** Memory growth from the end of the warm-up (the first quarter) to the end: the median of the second quarter's samples against the last quarter's. */
function growth(samples: Sample[], field: 'rssKb' | 'heapKb'): { early: number; late: number } {
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const early = median(samples.slice(quarter, 2 * quarter).map((sample) => sample[field]));
  const late = median(samples.slice(-quarter).map((sample) => sample[field]));
  return { early, late };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const figure = figuresOf(benchmark);
  const seconds = options.long ? 600 : 40;
  const result = await soak(seconds);
  const rss = growth(result.samples, 'rssKb');
  const heap = growth(result.samples, 'heapKb');
  const latency = [...result.stepLatencyMs.values].sort((a, b) => a - b);
  const stepsPerSecond = result.steps / seconds;
  const recovered = result.workflows === 0 ? 0 : ((result.workflows - result.failed) / result.workflows) * 100;
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
      figure('RSS, last quarter of the run', rss.late, 'KB', {
        baseline: { name: 'second quarter', value: rss.early },
        target: { ratioAtMost: 1.1 },
      }),
      figure('heap used, last quarter of the run', heap.late, 'KB', {
        baseline: { name: 'second quarter', value: heap.early },
        target: { ratioAtMost: 1.1 },
      }),
    ],
    details: {
      seconds,
      concurrency,
      faultRate,
      workflows: result.workflows,
      failed: result.failed,
      steps: result.steps,
      attempts: result.attempts,
      samples: result.samples.map((sample) => ({
        atS: Number(sample.atS.toFixed(1)),
        rssKb: Math.round(sample.rssKb),
        heapKb: Math.round(sample.heapKb),
        steps: sample.steps,
      })),
    },
  };
}
