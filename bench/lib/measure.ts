// Timing loops on the real clock: warm-up, then rounds that interleave the variants so drift hits them all alike.
import { callsPerSecond, median } from './stats.js';

/** One way of making a call; the loops time it from the caller's side. */
export interface Variant {
  name: string;
  call: () => Promise<unknown>;
}

export interface SequentialPlan {
  warmupCalls: number;
  rounds: number;
  callsPerRound: number;
}

export interface ConcurrentPlan {
  warmupCalls: number;
  rounds: number;
  callsPerRound: number;
  concurrency: number;
}

export interface ConcurrentResult {
  /** The median over rounds of each round's calls per second. */
  callsPerSecond: number;
  roundCallsPerSecond: number[];
  /** Per-call latencies as seen by the callers, for p50/p99 under load. */
  samplesUs: number[];
}

function elapsedUs(startedAt: bigint): number {
  return Number(process.hrtime.bigint() - startedAt) / 1000;
}

/** The variants in a different order each round, so none always runs first or last. */
function rotated<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

async function warmUp(variant: Variant, calls: number): Promise<void> {
  for (let i = 0; i < calls; i += 1) await variant.call();
}

/** Times every call of every variant, one call at a time; returns per-call samples (µs) by variant name. */
export async function timeSequential(
  variants: readonly Variant[],
  plan: SequentialPlan,
): Promise<Map<string, number[]>> {
  const samples = new Map(variants.map((variant) => [variant.name, [] as number[]]));
  for (const variant of variants) await warmUp(variant, plan.warmupCalls);
  for (let round = 0; round < plan.rounds; round += 1) {
    for (const variant of rotated(variants, round)) {
      const into = samples.get(variant.name) ?? [];
      for (let i = 0; i < plan.callsPerRound; i += 1) {
        const startedAt = process.hrtime.bigint();
        await variant.call();
        into.push(elapsedUs(startedAt));
      }
    }
  }
  return samples;
}

/** One round: `concurrency` callers pull calls from a shared count until `calls` are done. */
async function concurrentRound(variant: Variant, calls: number, concurrency: number, into: number[]): Promise<number> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < calls) {
      next += 1;
      const startedAt = process.hrtime.bigint();
      await variant.call();
      into.push(elapsedUs(startedAt));
    }
  };
  const startedAt = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, caller));
  return callsPerSecond(calls, elapsedUs(startedAt));
}

/** Throughput of each variant with `concurrency` callers in flight, rounds interleaved. */
export async function timeConcurrent(
  variants: readonly Variant[],
  plan: ConcurrentPlan,
): Promise<Map<string, ConcurrentResult>> {
  const rates = new Map(variants.map((variant) => [variant.name, [] as number[]]));
  const samples = new Map(variants.map((variant) => [variant.name, [] as number[]]));
  for (const variant of variants) await concurrentRound(variant, plan.warmupCalls, plan.concurrency, []);
  for (let round = 0; round < plan.rounds; round += 1) {
    for (const variant of rotated(variants, round)) {
      const rate = await concurrentRound(
        variant,
        plan.callsPerRound,
        plan.concurrency,
        samples.get(variant.name) ?? [],
      );
      rates.get(variant.name)?.push(rate);
    }
  }
  return new Map(
    variants.map((variant) => {
      const roundCallsPerSecond = rates.get(variant.name) ?? [];
      const result: ConcurrentResult = {
        callsPerSecond: median(roundCallsPerSecond),
        roundCallsPerSecond,
        samplesUs: samples.get(variant.name) ?? [],
      };
      return [variant.name, result];
    }),
  );
}
