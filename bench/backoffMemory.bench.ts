// Issue 3, figure 3: memory held by 10,000 tool-call actors waiting in backoff, each variant in a fresh process after gc().
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/childProcess.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median } from './lib/stats.js';

const benchmark = 'memory in backoff';
const child = fileURLToPath(new URL('./backoffMemory.child.ts', import.meta.url));
const actorCount = 10_000;
const maxRssKb = 10;

interface ChildResult {
  rssKbPerActor: number;
  heapKbPerActor: number;
  heapKbPerActorAfterStop: number;
}

function isChildResult(value: unknown): value is ChildResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['rssKbPerActor', 'heapKbPerActor', 'heapKbPerActorAfterStop'].every(
      (key) => typeof (value as Record<string, unknown>)[key] === 'number',
    )
  );
}

async function measureOnce(variant: string): Promise<ChildResult> {
  const result = await runChild(child, [variant, String(actorCount)]);
  if (!isChildResult(result)) throw new Error(`${variant}: unexpected child output ${JSON.stringify(result)}`);
  return result;
}

function medianOf(results: readonly ChildResult[]): ChildResult {
  const of = (key: keyof ChildResult) => median(results.map((result) => result[key]));
  return {
    rssKbPerActor: of('rssKbPerActor'),
    heapKbPerActor: of('heapKbPerActor'),
    heapKbPerActorAfterStop: of('heapKbPerActorAfterStop'),
  };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const runs = options.long ? 5 : 3;
  // Each run in a fresh process, the two variants alternating so that drift in the machine's load hits both.
  const runsOf: Record<'minimal' | 'toolCall', ChildResult[]> = { minimal: [], toolCall: [] };
  for (let i = 0; i < runs; i += 1) {
    runsOf.minimal.push(await measureOnce('minimal'));
    runsOf.toolCall.push(await measureOnce('toolCall'));
  }
  const minimal = { median: medianOf(runsOf.minimal), runs: runsOf.minimal };
  const toolCall = { median: medianOf(runsOf.toolCall), runs: runsOf.toolCall };
  const figure = figuresOf(benchmark);
  const floor = 'minimal actor on a 1 h timer';
  return {
    benchmark,
    figures: [
      figure(`${floor}: RSS per actor`, minimal.median.rssKbPerActor, 'KB'),
      figure(`${floor}: heap per actor`, minimal.median.heapKbPerActor, 'KB'),
      figure('tool-call actor in backoff: RSS per actor', toolCall.median.rssKbPerActor, 'KB', {
        baseline: { name: floor, value: minimal.median.rssKbPerActor },
        target: { atMost: maxRssKb },
      }),
      figure('tool-call actor in backoff: heap per actor', toolCall.median.heapKbPerActor, 'KB', {
        baseline: { name: floor, value: minimal.median.heapKbPerActor },
      }),
      figure('tool-call actor: heap left per actor after stop()', toolCall.median.heapKbPerActorAfterStop, 'KB'),
    ],
    details: { actors: actorCount, runsPerVariant: runs, minimal, toolCall },
  };
}
