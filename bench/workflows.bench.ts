// Issue 5, workflow figures: N concurrent workflows of 5 mcp_call steps on in-memory tools with the file log (steps
// per second, per-step cost beside a bare tool call through the same runtime and store, peak RSS).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttemptOutcome, McpConnector } from '../src/actors/mcpTypes.js';
import { createRuntime, type Runtime } from '../src/actors/runtime.js';
import { systemClock } from '../src/common/clock.js';
import { createFileLog, type FileLog } from '../src/store/fileLog.js';
import type { CompiledWorkflow } from '../src/workflow/compiledWorkflow.js';
import { parseWorkflowText } from '../src/workflow/loadWorkflow.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';

const benchmark = 'workflows';
const stepsPerWorkflow = 5;
const tools = ['lookup', 'enrich', 'score', 'store', 'notify'];
const workflowText = `name: five_calls
steps:
${tools.map((tool, index) => `  - { id: s${index}, type: mcp_call, tool: ${tool}, arguments: { n: ${index} } }`).join('\n')}
`;

/** Answers every call at once from memory: no MCP transport, so the figures are the runtime's own cost. */
function inMemoryConnector(): McpConnector {
  return {
    callTool() {
      const at = systemClock.now();
      const outcome: AttemptOutcome = {
        ok: true,
        result: { content: [{ type: 'text', text: '{"ok":true}' }] },
        startedAt: at,
        finishedAt: at,
      };
      return Promise.resolve(outcome);
    },
    listTools: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

interface Setup {
  runtime: Runtime;
  log: FileLog;
  dir: string;
}

async function setUp(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'retrace-bench-workflows-'));
  const log = await createFileLog({ dir, durability: 'batch' });
  const runtime = createRuntime({
    config: { servers: { mem: { command: 'unused' } } },
    connector: inMemoryConnector(),
    store: log,
  });
  return { runtime, log, dir };
}

async function tearDown({ runtime, log, dir }: Setup): Promise<void> {
  await runtime.close();
  await log.close();
  await rm(dir, { recursive: true, force: true });
}

async function compile(runtime: Runtime): Promise<CompiledWorkflow> {
  const checked = await parseWorkflowText(workflowText, { config: runtime.config });
  if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
  return checked.workflow;
}

/** The highest RSS seen while `work` runs, sampled every 50 ms, in KB. */
async function peakRssDuring<T>(work: () => Promise<T>): Promise<{ value: T; peakKb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakKb: peak / 1024 };
  } finally {
    clearInterval(timer);
  }
}

/** `count` workflows spawned at once; the ms until every one has ended (and its events are durable). */
export async function runWorkflows(count: number): Promise<number> {
  const setup = await setUp();
  try {
    const workflow = await compile(setup.runtime);
    const startedAt = performance.now();
    const handles = Array.from({ length: count }, () => setup.runtime.spawn(workflow));
    const finals = await Promise.all(handles.map((handle) => handle.done));
    const elapsedMs = performance.now() - startedAt;
    const failed = finals.filter((final) => final.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`${failed.length} workflows did not succeed: ${failed[0]?.status}`);
    return elapsedMs;
  } finally {
    await tearDown(setup);
  }
}

/** The baseline: `count` callers each making the 5 calls in turn with `runtime.callTool`, on the same store. */
export async function runBareCalls(count: number): Promise<number> {
  const setup = await setUp();
  try {
    const caller = async (): Promise<void> => {
      for (const [index, tool] of tools.entries()) {
        const outcome = await setup.runtime.callTool('mem', tool, { n: index });
        if (outcome.status !== 'succeeded') throw new Error(`bare call ended ${outcome.status}`);
      }
    };
    const startedAt = performance.now();
    await Promise.all(Array.from({ length: count }, caller));
    return performance.now() - startedAt;
  } finally {
    await tearDown(setup);
  }
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const figure = figuresOf(benchmark);
  const count = options.long ? 10_000 : 1_000;
  const steps = count * stepsPerWorkflow;
  // A small warm-up of each, so the JIT has seen both paths before the timed runs.
  await runWorkflows(100);
  await runBareCalls(100);
  // The workflows first: RSS does not shrink after a round, so a round before them would count in their peak.
  const { value: workflowMs, peakKb } = await peakRssDuring(() => runWorkflows(count));
  const bareMs = await runBareCalls(count);
  const stepsPerSecond = (steps / workflowMs) * 1000;
  const stepUs = (workflowMs * 1000) / steps;
  const bareUs = (bareMs * 1000) / steps;
  return {
    benchmark,
    figures: [
      figure(`${count.toLocaleString('en-US')} workflows × 5 mcp_call steps, file log`, stepsPerSecond, 'steps/s', {
        target: { atLeast: 8_000 },
      }),
      figure('wall time per step (all workflows at once)', stepUs, 'µs', {
        baseline: { name: 'bare runtime.callTool, same concurrency', value: bareUs },
        target: { ratioAtMost: 2 },
      }),
      figure('peak RSS during the workflows', peakKb, 'KB', { target: { atMost: 1024 * 1024 } }),
    ],
    details: { workflows: count, steps, workflowMs, bareMs, stepUs, bareUs, peakRssKb: peakKb },
  };
}
