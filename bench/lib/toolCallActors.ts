// The two actors the machine benchmarks compare: retrace's tool-call actor (with the runtime's attempt actor) and the smallest XState actor that invokes the same promise.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createActor, fromPromise, setup, toPromise } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import { createAttemptLogic } from '../../src/actors/attemptActor.js';
import { runToolCall, type RunOptions, type ToolCallRun } from '../../src/actors/toolCallRunner.js';
import { systemClock } from '../../src/common/clock.js';
import { toolCallMachine, type ToolCallMachine } from '../../src/machines/toolCall.js';
import type {
  AttemptActorOutput,
  CachedEntry,
  CacheLookupInput,
  ToolCallInput,
  ToolTarget,
} from '../../src/machines/toolCallTypes.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { resolvePolicy, ToolPolicyConfig } from '../../src/policy/toolPolicy.js';

/** One attempt as the call sees it; the signal is aborted at the attempt's timeout or when the actor leaves `calling`. */
export type AttemptFn = (signal: AbortSignal) => Promise<AttemptActorOutput>;

export const echoResult: CallToolResult = { content: [{ type: 'text', text: 'Echo: hello' }] };
export const unavailable: RawFailure = { source: 'http', status: 503, headers: {}, message: 'HTTP 503' };

// Stamped on the system clock as the connector stamps them: the machine takes its `now` (and so a retry's
// `retryAt`) from `finishedAt`, and a zero stamp would put every retry in the past.
export function succeeded(result: CallToolResult): AttemptActorOutput {
  const now = systemClock.now();
  return { ok: true, result, startedAt: now, finishedAt: now };
}

export function failed(failure: RawFailure): AttemptActorOutput {
  const now = systemClock.now();
  return { ok: false, failure, startedAt: now, finishedAt: now };
}

export function benchTarget(config: ToolPolicyConfig = {}): ToolTarget {
  return { server: 'bench', tool: 'echo', policy: resolvePolicy([ToolPolicyConfig.parse(config)]) };
}

/**
 * The tool-call machine with `attempt` as its only I/O, invoked as the runtime does: through the attempt actor
 * (`createAttemptLogic` on the system clock: timeout timer and AbortController per attempt). No cache, and a
 * breaker that always admits.
 */
export function toolCallWith(attempt: AttemptFn): ToolCallMachine {
  return toolCallMachine.provide({
    actors: {
      attempt: createAttemptLogic((request) => attempt(request.signal), systemClock),
      readCache: fromPromise<CachedEntry | undefined, CacheLookupInput>(() => Promise.resolve(undefined)),
    },
    guards: { breakerRefuses: () => false },
  });
}

let callNumber = 0;

export function toolCallInput(target: ToolTarget): ToolCallInput {
  callNumber += 1;
  return {
    callId: `bench-${callNumber}`,
    target,
    fallbacks: [],
    args: { message: 'hello' },
    startedAt: Date.now(),
    seed: 0.5,
  };
}

/** XState's floor: invoke the promise, finish when it resolves. */
export function minimalWith(attempt: AttemptFn) {
  return setup({ actors: { call: fromPromise(({ signal }) => attempt(signal)) } }).createMachine({
    initial: 'calling',
    states: { calling: { invoke: { src: 'call', onDone: 'done' } }, done: { type: 'final' } },
  });
}

/** The floor of an actor that waits: invoke the promise, then sit on a timer of `delayMs`. */
export function minimalWaitingWith(attempt: AttemptFn, delayMs: number) {
  return setup({ actors: { call: fromPromise(({ signal }) => attempt(signal)) } }).createMachine({
    initial: 'calling',
    states: {
      calling: { invoke: { src: 'call', onDone: 'waiting' } },
      waiting: { after: { [delayMs]: 'done' } },
      done: { type: 'final' },
    },
  });
}

/** Creates, starts and awaits one actor to its final state: the per-call unit of the machine benchmark. */
export function runToDone(machine: AnyStateMachine, input?: unknown): Promise<unknown> {
  return toPromise(createActor(machine, input === undefined ? {} : { input }).start());
}

const ignoreEmitted = (): void => undefined;

/**
 * Runs one tool call as the runtime does, through `runToolCall` (parks it as a snapshot while in backoff), on
 * `clock` (the system clock unless given) with an `onEmitted` that does nothing.
 */
export function runThroughRunner(
  machine: ToolCallMachine,
  input: ToolCallInput,
  clock: RunOptions['clock'] = systemClock,
): ToolCallRun {
  return runToolCall(machine, input, { clock, onEmitted: ignoreEmitted });
}
