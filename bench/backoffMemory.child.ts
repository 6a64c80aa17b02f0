// Run by backoffMemory.bench.ts as `node --expose-gc --import tsx backoffMemory.child.ts <variant> <calls>`: prints one JSON line.
import { createActor, type AnyActorRef, type AnyStateMachine } from 'xstate';
import type { Clock } from '../src/common/clock.js';
import { systemClock } from '../src/common/clock.js';
import type { ToolCallRun } from '../src/actors/toolCallRunner.js';
import {
  benchTarget,
  failed,
  minimalWaitingWith,
  runThroughRunner,
  toolCallInput,
  toolCallWith,
  unavailable,
} from './lib/toolCallActors.js';

const hourMs = 3_600_000;
const variant = process.argv[2];
const callCount = Number(process.argv[3] ?? 10_000);
const warmupCount = 200;
const maxTurns = 1_000;

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const collect = globalThis.gc;

/** An attempt that fails at once with a retryable 503, so the tool call schedules a retry. */
const attempt = () => Promise.resolve(failed(unavailable));

// base_delay 1h (max_delay and deadline above it) keeps every call in `backoff` for the whole measurement.
const target = benchTarget({ base_delay: '1h', max_delay: '2h', jitter: 'none', deadline: '10h' });
const toolCall = toolCallWith(attempt);

/**
 * The system clock, counting the timers set, cleared and fired through it. Only the runner uses it (the attempt
 * actor has its own), so `set - cleared - fired` is the number of calls parked on a wake-up timer. Three
 * numbers, no per-call state.
 */
const timers = { set: 0, cleared: 0, fired: 0 };
const parkedCount = () => timers.set - timers.cleared - timers.fired;
const countingClock: Clock = {
  now: systemClock.now,
  setTimeout: (callback, delayMs) => {
    timers.set += 1;
    return systemClock.setTimeout(() => {
      timers.fired += 1;
      callback();
    }, delayMs);
  },
  clearTimeout: (handle) => {
    timers.cleared += 1;
    systemClock.clearTimeout(handle);
  },
};

/** How one variant starts `count` waiting calls, tells when they all wait, and ends them. */
interface Subject {
  start(count: number): unknown[];
  allWaiting(calls: unknown[]): boolean;
  /** What a call is in when `allWaiting` fails, for the error message. */
  describe(calls: unknown[]): string;
  end(calls: unknown[]): Promise<void>;
  /** How `end` ends a call, for the report. */
  ending: string;
}

/** Live actors started directly with `createActor`, waiting in `state`; `stop()` ends them. */
function liveActors(machine: AnyStateMachine, input: () => unknown, state: string): Subject {
  const actors = (calls: unknown[]) => calls as AnyActorRef[];
  const stray = (calls: unknown[]) => actors(calls).find((actor) => actor.getSnapshot().value !== state);
  return {
    start: (count) =>
      Array.from({ length: count }, () => {
        const value = input();
        return createActor(machine, value === undefined ? {} : { input: value }).start();
      }),
    allWaiting: (calls) => stray(calls) === undefined,
    describe: (calls) => `an actor is in ${JSON.stringify(stray(calls)?.getSnapshot().value)}, not ${state}`,
    end: (calls) => {
      for (const actor of actors(calls)) actor.stop();
      return Promise.resolve();
    },
    ending: 'stop()',
  };
}

/** Calls run as the runtime runs them: `runToolCall` parks each in `backoff` as a persisted snapshot. */
const parkedRuns: Subject = {
  start: (count) =>
    Array.from({ length: count }, () => runThroughRunner(toolCall, toolCallInput(target), countingClock)),
  allWaiting: (calls) => {
    const runs = calls as ToolCallRun[];
    return timers.fired === 0 && parkedCount() === runs.length && runs.every((run) => run.state() === 'backoff');
  },
  describe: (calls) => {
    const runs = calls as ToolCallRun[];
    const stray = runs.find((run) => run.state() !== 'backoff');
    if (stray) return `a run is in ${stray.state()}, not backoff`;
    return `${parkedCount()} of ${runs.length} runs parked on a wake-up timer, ${timers.fired} woken early`;
  },
  end: async (calls) => {
    const runs = calls as ToolCallRun[];
    for (const run of runs) run.cancel('benchmark over');
    const outcomes = await Promise.all(runs.map((run) => run.done));
    const odd = outcomes.find((outcome) => outcome.status !== 'failed' || outcome.error?.kind !== 'cancelled');
    if (odd) throw new Error(`a cancelled run ended ${odd.status} (${odd.error?.kind ?? 'no error'})`);
    if (parkedCount() !== 0) throw new Error(`${parkedCount()} wake-up timers left`);
  },
  ending: 'cancel() + await done',
};

const subjects: Record<string, Subject> = {
  minimal: liveActors(minimalWaitingWith(attempt, hourMs), () => undefined, 'waiting'),
  toolCall: parkedRuns,
  toolCallLive: liveActors(toolCall, () => toolCallInput(target), 'backoff'),
};

async function nextTurn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

async function settleHeap(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i += 1) {
    collect();
    await nextTurn();
  }
  return process.memoryUsage();
}

/** Lets the attempts fail and the calls reach their waiting state; throws if one did not. */
async function untilWaiting(subject: Subject, calls: unknown[]): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn += 1) {
    if (subject.allWaiting(calls)) return;
    await nextTurn();
  }
  throw new Error(subject.describe(calls));
}

const subject = variant === undefined ? undefined : subjects[variant];
if (!subject) throw new Error(`unknown variant ${variant} (known: ${Object.keys(subjects).join(', ')})`);

const warm = subject.start(warmupCount);
await untilWaiting(subject, warm);
await subject.end(warm);
warm.length = 0;

const before = await settleHeap();
const calls = subject.start(callCount);
await untilWaiting(subject, calls);
const waiting = await settleHeap();
// Still all waiting after the measurement: nothing woke or moved on while the heap settled.
if (!subject.allWaiting(calls)) throw new Error(`after measuring: ${subject.describe(calls)}`);
await subject.end(calls);
calls.length = 0;
const ended = await settleHeap();

const perCallKb = (field: 'rss' | 'heapUsed', after: NodeJS.MemoryUsage) =>
  (after[field] - before[field]) / callCount / 1024;
console.log(
  JSON.stringify({
    variant,
    calls: callCount,
    ending: subject.ending,
    rssKbPerCall: perCallKb('rss', waiting),
    heapKbPerCall: perCallKb('heapUsed', waiting),
    heapKbPerCallAfterEnd: perCallKb('heapUsed', ended),
    before,
    waiting,
    ended,
  }),
);
