// Issue 3, figure 3: memory held by 10,000 tool calls waiting in backoff, each variant in a fresh process after gc().
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/childProcess.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median } from './lib/stats.js';

const benchmark = 'memory in backoff';
const child = fileURLToPath(new URL('./backoffMemory.child.ts', import.meta.url));
const callCount = 10_000;
const maxRssKb = 10;

/** The child's variants: the floor, the runtime's way (parked snapshots), and the old way (live actors). */
const variants = ['minimal', 'toolCall', 'toolCallLive'] as const;
type VariantName = (typeof variants)[number];

interface ChildResult {
  rssKbPerCall: number;
  heapKbPerCall: number;
  heapKbPerCallAfterEnd: number;
}

const resultKeys: readonly (keyof ChildResult)[] = ['rssKbPerCall', 'heapKbPerCall', 'heapKbPerCallAfterEnd'];

function isChildResult(value: unknown): value is ChildResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    resultKeys.every((key) => typeof (value as Record<string, unknown>)[key] === 'number')
  );
}

async function measureOnce(variant: VariantName): Promise<ChildResult> {
  const result = await runChild(child, [variant, String(callCount)]);
  if (!isChildResult(result)) throw new Error(`${variant}: unexpected child output ${JSON.stringify(result)}`);
  return result;
}

function medianOf(results: readonly ChildResult[]): ChildResult {
  const of = (key: keyof ChildResult) => median(results.map((result) => result[key]));
  return {
    rssKbPerCall: of('rssKbPerCall'),
    heapKbPerCall: of('heapKbPerCall'),
    heapKbPerCallAfterEnd: of('heapKbPerCallAfterEnd'),
  };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const runs = options.long ? 5 : 3;
  // Each run in a fresh process, the variants alternating so that drift in the machine's load hits them all.
  const runsOf: Record<VariantName, ChildResult[]> = { minimal: [], toolCall: [], toolCallLive: [] };
  for (let i = 0; i < runs; i += 1) {
    for (const variant of variants) runsOf[variant].push(await measureOnce(variant));
  }
  const [minimal, parked, live] = variants.map((variant) => medianOf(runsOf[variant])) as [
    ChildResult,
    ChildResult,
    ChildResult,
  ];
  const figure = figuresOf(benchmark);
  const floor = 'minimal actor on a 1 h timer';
  const parkedName = 'tool call parked in backoff (runToolCall)';
  const liveName = 'live tool-call actor in backoff (old way, not parked)';
  return {
    benchmark,
    figures: [
      figure(`${floor}: RSS per call`, minimal.rssKbPerCall, 'KB'),
      figure(`${floor}: heap per call`, minimal.heapKbPerCall, 'KB'),
      figure(`${parkedName}: RSS per call`, parked.rssKbPerCall, 'KB', {
        baseline: { name: floor, value: minimal.rssKbPerCall },
        target: { atMost: maxRssKb },
      }),
      figure(`${parkedName}: heap per call`, parked.heapKbPerCall, 'KB', {
        baseline: { name: floor, value: minimal.heapKbPerCall },
      }),
      figure(`${parkedName}: heap left per call after cancel() + done`, parked.heapKbPerCallAfterEnd, 'KB'),
      figure(`${liveName}: RSS per call`, live.rssKbPerCall, 'KB', {
        baseline: { name: floor, value: minimal.rssKbPerCall },
      }),
      figure(`${liveName}: heap per call`, live.heapKbPerCall, 'KB', {
        baseline: { name: floor, value: minimal.heapKbPerCall },
      }),
      figure(`${liveName}: heap left per call after stop()`, live.heapKbPerCallAfterEnd, 'KB'),
    ],
    details: {
      calls: callCount,
      runsPerVariant: runs,
      minimal: { median: minimal, runs: runsOf.minimal },
      toolCall: { median: parked, runs: runsOf.toolCall },
      toolCallLive: { median: live, runs: runsOf.toolCallLive },
    },
  };
}
