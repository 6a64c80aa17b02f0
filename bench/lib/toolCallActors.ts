// The two actors the machine benchmarks compare: retrace's tool-call actor and the smallest XState actor that invokes the same promise.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createActor, fromPromise, setup, toPromise } from 'xstate';
import type { AnyStateMachine } from 'xstate';
import { toolCallMachine } from '../../src/machines/toolCall.js';
import type {
  AttemptActorOutput,
  CachedEntry,
  CacheLookupInput,
  ToolCallInput,
  ToolTarget,
} from '../../src/machines/toolCallTypes.js';
import type { RawFailure } from '../../src/policy/failure.js';
import { resolvePolicy, ToolPolicyConfig } from '../../src/policy/toolPolicy.js';

/** One attempt as the machine sees it; the signal is aborted when the actor leaves `calling`. */
export type AttemptFn = (signal: AbortSignal) => Promise<AttemptActorOutput>;

export const echoResult: CallToolResult = { content: [{ type: 'text', text: 'Echo: hello' }] };
export const unavailable: RawFailure = { source: 'http', status: 503, headers: {}, message: 'HTTP 503' };

export function succeeded(result: CallToolResult): AttemptActorOutput {
  return { ok: true, result, startedAt: 0, finishedAt: 0 };
}

export function failed(failure: RawFailure): AttemptActorOutput {
  return { ok: false, failure, startedAt: 0, finishedAt: 0 };
}

export function benchTarget(config: ToolPolicyConfig = {}): ToolTarget {
  return { server: 'bench', tool: 'echo', policy: resolvePolicy([ToolPolicyConfig.parse(config)]) };
}

/** The tool-call machine with `attempt` as its only I/O, no cache and a breaker that always admits. */
export function toolCallWith(attempt: AttemptFn) {
  return toolCallMachine.provide({
    actors: {
      attempt: fromPromise(({ signal }) => attempt(signal)),
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
