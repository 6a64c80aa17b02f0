// Runs workflow text on a runtime with a scripted in-process MCP connector, a memory store and the test clock.
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { WorkflowFinal, WorkflowHandle } from '../../src/actors/workflowHost.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { createScriptedConnector, type ScriptedAnswer } from '../support/scriptedConnector.js';
import type { AttemptRequest } from '../../src/actors/mcpTypes.js';
import type { RuntimeConfigInput } from '../../src/config/runtimeConfig.js';

export const unavailable: ScriptedAnswer = {
  failure: { source: 'http', status: 503, headers: {}, message: 'HTTP 503' },
};

/** Lets real I/O (child processes) and promise chains run, firing the test clock's next timer whenever all is quiet. */
export async function drive<T>(
  promise: Promise<T>,
  clock: TestClock,
  options: { realWaitMs?: number } = {},
): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  result.catch(() => undefined);
  for (let i = 0; i < 100_000 && !settled; i += 1) {
    for (let j = 0; j < 5; j += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    if (settled) break;
    // A child process is real I/O: give it real time before skipping logical time.
    if (options.realWaitMs) await new Promise<void>((resolve) => setTimeout(resolve, options.realWaitMs));
    if (!settled && !clock.runNext()) await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
  return result;
}

export interface Harness {
  clock: TestClock;
  runtime: Runtime;
  store: ReturnType<typeof createMemoryStore>;
  calls: AttemptRequest[];
  compile(text: string, baseDir?: string): Promise<CompiledWorkflow>;
  run(
    text: string,
    inputs?: Record<string, unknown>,
    options?: { baseDir?: string; realWaitMs?: number },
  ): Promise<RunResult>;
}

export interface RunResult {
  final: WorkflowFinal;
  handle: WorkflowHandle;
  events: EventEnvelope[];
  types: string[];
}

export function createHarness(
  answer: (request: AttemptRequest, callNumber: number) => ScriptedAnswer = () => ({ text: '{"ok":true}' }),
  config: RuntimeConfigInput = {},
): Harness {
  const clock = createTestClock(1_700_000_000_000);
  const connector = createScriptedConnector(clock, answer);
  const store = createMemoryStore();
  const runtime = createRuntime({
    config: { servers: { api: { command: 'unused' } }, defaults: { max_retries: 0 }, ...config },
    connector,
    clock,
    random: () => 0.5,
    store,
  });
  async function compile(text: string, baseDir?: string): Promise<CompiledWorkflow> {
    const checked = await parseWorkflowText(text, {
      config: runtime.config,
      ...(baseDir === undefined ? {} : { baseDir }),
    });
    if (!checked.workflow) {
      throw new Error(checked.problems.map((problem) => `${problem.location.line}: ${problem.message}`).join('\n'));
    }
    return checked.workflow;
  }
  return {
    clock,
    runtime,
    store,
    calls: connector.calls,
    compile,
    async run(text, inputs = {}, options = {}) {
      const workflow = await compile(text, options.baseDir);
      const handle = runtime.spawn(workflow, inputs);
      const final = await drive(handle.done, clock, options.realWaitMs ? { realWaitMs: options.realWaitMs } : {});
      const events = store.events.filter((event) => event.runId === handle.runId);
      return { final, handle, events, types: events.map((event) => event.type) };
    },
  };
}

/** The step events of a run, as `type stepId` lines (tool-call events left out). */
export function stepTrail(events: readonly EventEnvelope[]): string[] {
  return events
    .filter((event) => event.type.startsWith('workflow.step.'))
    .map((event) => `${event.type.slice('workflow.step.'.length)} ${String(event.data['stepId'])}`);
}
