// Drives the pure tool-call machine with scripted attempts on a time-skipping clock: no sleeping, no I/O.
import { fromPromise } from 'xstate';
import { createAttemptLogic } from '../../src/actors/attemptActor.js';
import { runToolCall, type ToolCallRun } from '../../src/actors/toolCallRunner.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toolCallMachine } from '../../src/machines/toolCall.js';
import type {
  AttemptActorOutput,
  CachedEntry,
  CacheLookupInput,
  ToolCallEmitted,
  ToolCallInput,
  ToolCallOutcome,
  ToolTarget,
} from '../../src/machines/toolCallTypes.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { defaultToolPolicy, resolvePolicy, ToolPolicyConfig, type ToolPolicy } from '../../src/policy/toolPolicy.js';
import { createTestClock, type TestClock } from '../../src/testing/testClock.js';

/** One scripted attempt: how long it takes, and how it ends (`hang` never answers). */
export type Step = { ms?: number } & ({ ok: CallToolResult } | { fail: RawFailure } | { hang: true });

export const ok = (text = 'ok', ms = 0): Step => ({ ms, ok: { content: [{ type: 'text', text }] } });
export const fail = (failure: RawFailure, ms = 0): Step => ({ ms, fail: failure });
export const hang: Step = { hang: true };

export const rpc = (code: number, message: string): RawFailure => ({ source: 'rpc', code, message });
export const toolText = (text: string, structuredContent?: Record<string, unknown>): RawFailure => {
  const failure: RawFailure = { source: 'tool', text, result: { content: [{ type: 'text', text }], isError: true } };
  if (structuredContent) failure.structuredContent = structuredContent;
  return failure;
};
export const http = (status: number, headers: Record<string, string> = {}): RawFailure => ({
  source: 'http',
  status,
  headers,
  message: `HTTP ${status}`,
});
export const processExit = (): RawFailure => ({
  source: 'transport',
  reason: 'exited',
  message: 'server process exited with code 1',
  exitCode: 1,
  sent: true,
});

export function policy(config: ToolPolicyConfig = {}, base: ToolPolicy = defaultToolPolicy): ToolPolicy {
  return resolvePolicy([ToolPolicyConfig.parse(config)], base);
}

export function target(tool: string, config: ToolPolicyConfig = {}, server = 'srv'): ToolTarget {
  return { server, tool, policy: policy(config) };
}

export interface HarnessOptions {
  primary?: ToolTarget;
  fallbacks?: Array<ToolTarget | null>;
  syncAlternative?: ToolTarget;
  /** Scripted attempts per tool name, consumed in order. */
  script: Record<string, Step[]>;
  cache?: Record<string, CachedEntry>;
  breakerRefuses?: (key: string) => boolean;
  seed?: number;
  clock?: TestClock;
  startAt?: number;
}

export interface HarnessRun {
  outcome: ToolCallOutcome;
  events: ToolCallEmitted[];
  clock: TestClock;
  aborted: string[];
  calls: string[];
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The machine (scripted attempts on a test clock) and its input, not started. */
export function buildCall(options: HarnessOptions) {
  const clock = options.clock ?? createTestClock(options.startAt ?? 1_000_000);
  const scripts = new Map(Object.entries(options.script).map(([tool, steps]) => [tool, [...steps]]));
  const aborted: string[] = [];
  const calls: string[] = [];
  let attemptNumber = 0;
  // The runtime's own attempt logic (timeouts on the clock) around a scripted server.
  const attempt = createAttemptLogic((request) => {
    calls.push(request.tool);
    const label = `${request.tool}#${(attemptNumber += 1)}`;
    const step = scripts.get(request.tool)?.shift();
    if (!step) return Promise.reject(new Error(`no scripted attempt left for ${request.tool}`));
    const startedAt = clock.now();
    request.signal.addEventListener('abort', () => aborted.push(label));
    if ('hang' in step) return new Promise<AttemptActorOutput>(() => undefined);
    return new Promise<AttemptActorOutput>((resolve) => {
      clock.setTimeout(() => {
        const finishedAt = clock.now();
        resolve(
          'ok' in step
            ? { ok: true, result: step.ok, startedAt, finishedAt }
            : { ok: false, failure: step.fail, startedAt, finishedAt },
        );
      }, step.ms ?? 0);
    });
  }, clock);
  const machine = toolCallMachine.provide({
    actors: {
      attempt,
      readCache: fromPromise(({ input }: { input: CacheLookupInput }) => Promise.resolve(options.cache?.[input.tool])),
    },
    guards: {
      breakerRefuses: (_args, params) => options.breakerRefuses?.(params.key) ?? false,
    },
  });
  const input: ToolCallInput = {
    callId: 'call-1',
    target: options.primary ?? target('primary', { jitter: 'none' }),
    fallbacks: options.fallbacks ?? [],
    args: { id: 42 },
    startedAt: clock.now(),
    seed: options.seed ?? 0.5,
  };
  if (options.syncAlternative) input.syncAlternative = options.syncAlternative;
  return { machine, input, clock, aborted, calls };
}

export function startCall(options: HarnessOptions) {
  const { machine, input, clock, aborted, calls } = buildCall(options);
  const events: ToolCallEmitted[] = [];
  const run = runToolCall(machine, input, { clock, onEmitted: (event) => events.push(event) });
  return { run, clock, events, aborted, calls };
}

/** Runs a call to its end, skipping time from timer to timer. */
export async function runCall(options: HarnessOptions): Promise<HarnessRun> {
  const started = startCall(options);
  const outcome = await settle(started.run, started.clock);
  return { outcome, events: started.events, clock: started.clock, aborted: started.aborted, calls: started.calls };
}

export async function settle(run: ToolCallRun, clock: TestClock): Promise<ToolCallOutcome> {
  let outcome: ToolCallOutcome | undefined;
  let failure: unknown;
  run.done.then(
    (value) => (outcome = value),
    (error: unknown) => (failure = error ?? new Error('failed')),
  );
  for (let guard = 0; guard < 100_000; guard += 1) {
    await flush();
    if (failure !== undefined) throw failure;
    if (outcome) return outcome;
    if (!clock.runNext()) throw new Error(`stuck in ${run.state()} with no timer pending`);
  }
  throw new Error('did not settle');
}

export function eventsOf<T extends ToolCallEmitted['type']>(events: ToolCallEmitted[], type: T) {
  return events.filter((event): event is Extract<ToolCallEmitted, { type: T }> => event.type === type);
}
