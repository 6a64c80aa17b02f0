// Runtimes over one shared example MCP server (stdio), each on its own store and test clock: a run, then resumes of
// copies of its log. The clock only moves while no MCP request is in flight, so real I/O never meets a skipped timer.
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { Clock } from '../../src/common/clock.js';
import { createMcpConnector } from '../../src/actors/mcpConnector.js';
import type { McpConnector } from '../../src/actors/mcpTypes.js';
import type { RuntimeConfigInput } from '../../src/config/runtimeConfig.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { exampleStdioConfig, type ExampleServerArgs } from './exampleServer.js';
import { createMemoryStore } from './memoryStore.js';

export interface SharedExample {
  connector: McpConnector;
  /** MCP requests in flight. */
  pending(): number;
  config: RuntimeConfigInput;
  /** The clock the connector stamps attempts with: the current world's. */
  useClock(clock: Clock): void;
  close(): Promise<void>;
}

export function startSharedExample(
  args: ExampleServerArgs = {},
  tools: RuntimeConfigInput['tools'] = {},
): SharedExample {
  const servers = { example: exampleStdioConfig(args) };
  let current: Clock = createTestClock(0);
  const clock: Clock = {
    now: () => current.now(),
    setTimeout: (callback, delayMs) => current.setTimeout(callback, delayMs),
    clearTimeout: (handle) => current.clearTimeout(handle),
  };
  const inner = createMcpConnector({ servers, clock });
  let inFlight = 0;
  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight += 1;
    return promise.finally(() => (inFlight -= 1));
  };
  return {
    connector: {
      callTool: (request) => track(inner.callTool(request)),
      listTools: (server) => track(inner.listTools(server)),
      // Shared by every runtime of the test: closing one runtime must not close it.
      close: () => Promise.resolve(),
    },
    pending: () => inFlight,
    useClock: (next) => (current = next),
    config: { servers, defaults: { max_retries: 0 }, ...(tools === undefined ? {} : { tools }) },
    close: () => inner.close(),
  };
}

/** Settles `promise`, firing the clock's next timer only when nothing is in flight and all else is quiet. */
export async function driveQuietly<T>(promise: Promise<T>, clock: TestClock, pending: () => number): Promise<T> {
  let settled = false;
  const result = promise.finally(() => (settled = true));
  result.catch(() => undefined);
  for (let i = 0; i < 200_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled) break;
    if (pending() > 0 || !clock.runNext()) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  return result;
}

export interface ResumeWorld {
  clock: TestClock;
  store: ReturnType<typeof createMemoryStore>;
  runtime: Runtime;
  drive<T>(promise: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A runtime on the shared server with its own store (holding `events`, e.g. a cut copy of a run's log). */
export function createWorld(
  shared: SharedExample,
  events: readonly EventEnvelope[] = [],
  startAt = 1_700_000_000_000,
  /** With a data dir the runtime claims its runs there and acts on control requests (`retrace cancel`, `resolve`). */
  dataDir?: string,
): ResumeWorld {
  const clock = createTestClock(startAt);
  shared.useClock(clock);
  const store = createMemoryStore();
  store.events.push(...events);
  const runtime = createRuntime({
    config: shared.config,
    connector: shared.connector,
    clock,
    random: () => 0.5,
    store,
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  return {
    clock,
    store,
    runtime,
    drive: (promise) => driveQuietly(promise, clock, shared.pending),
    close: () => runtime.close(),
  };
}

export async function compileText(runtime: Runtime, text: string): Promise<CompiledWorkflow> {
  const checked = await parseWorkflowText(text, { config: runtime.config });
  if (!checked.workflow) {
    throw new Error(checked.problems.map((problem) => `${problem.location.line}: ${problem.message}`).join('\n'));
  }
  return checked.workflow;
}

/** The example server's side effects so far, per tool. */
export async function effectCounts(runtime: Runtime): Promise<Record<string, number>> {
  const outcome = await runtime.callTool('example', 'example_stats');
  const stats = outcome.result?.structuredContent as { effects: Array<{ tool: string }> };
  const counts: Record<string, number> = {};
  for (const effect of stats.effects) counts[effect.tool] = (counts[effect.tool] ?? 0) + 1;
  return counts;
}
