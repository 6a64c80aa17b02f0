// Run by backoffMemory.bench.ts as `node --expose-gc --import tsx backoffMemory.child.ts <variant> <actors>`: prints one JSON line.
import { createActor, type AnyStateMachine } from 'xstate';
import {
  benchTarget,
  failed,
  minimalWaitingWith,
  toolCallInput,
  toolCallWith,
  unavailable,
} from './lib/toolCallActors.js';

const hourMs = 3_600_000;
const variant = process.argv[2];
const actorCount = Number(process.argv[3] ?? 10_000);
const warmupCount = 200;

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const collect = globalThis.gc;

/** An attempt that fails at once with a retryable 503, so the tool-call actor schedules a retry. */
const attempt = () => Promise.resolve(failed(unavailable));

// base_delay 1h (max_delay and deadline above it) keeps every actor in `backoff` on a real timer.
const target = benchTarget({ base_delay: '1h', max_delay: '1h', jitter: 'none', deadline: '10h' });

interface Subject {
  machine: AnyStateMachine;
  input: () => unknown;
  /** The state the actor waits in. */
  waitingIn: string;
}

const subjects: Record<string, Subject> = {
  toolCall: { machine: toolCallWith(attempt), input: () => toolCallInput(target), waitingIn: 'backoff' },
  minimal: { machine: minimalWaitingWith(attempt, hourMs), input: () => undefined, waitingIn: 'waiting' },
};

async function settleHeap(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i += 1) {
    collect();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage();
}

function startWaiting(subject: Subject, count: number) {
  return Array.from({ length: count }, () => {
    const input = subject.input();
    return createActor(subject.machine, input === undefined ? {} : { input }).start();
  });
}

/** Lets the attempts fail and the actors reach their waiting state; throws if one did not. */
async function untilWaiting(actors: ReturnType<typeof startWaiting>, state: string): Promise<void> {
  for (let turn = 0; turn < 100; turn += 1) {
    if (actors.every((actor) => actor.getSnapshot().value === state)) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const stray = actors.find((actor) => actor.getSnapshot().value !== state);
  throw new Error(`an actor is in ${JSON.stringify(stray?.getSnapshot().value)}, not ${state}`);
}

const subject = variant === undefined ? undefined : subjects[variant];
if (!subject) throw new Error(`unknown variant ${variant} (known: ${Object.keys(subjects).join(', ')})`);

const warm = startWaiting(subject, warmupCount);
await untilWaiting(warm, subject.waitingIn);
for (const actor of warm) actor.stop();

const before = await settleHeap();
const actors = startWaiting(subject, actorCount);
await untilWaiting(actors, subject.waitingIn);
const waiting = await settleHeap();
for (const actor of actors) actor.stop();
actors.length = 0;
const stopped = await settleHeap();

const perActorKb = (field: 'rss' | 'heapUsed', after: NodeJS.MemoryUsage) =>
  (after[field] - before[field]) / actorCount / 1024;
console.log(
  JSON.stringify({
    variant,
    actors: actorCount,
    rssKbPerActor: perActorKb('rss', waiting),
    heapKbPerActor: perActorKb('heapUsed', waiting),
    heapKbPerActorAfterStop: perActorKb('heapUsed', stopped),
    before,
    waiting,
    stopped,
  }),
);
