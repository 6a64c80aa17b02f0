// Issue 3, figure 1: what the tool-call actor costs per call over XState's own floor, with an instant and an in-memory MCP attempt.
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { startInMemoryEcho } from './lib/inMemoryEcho.js';
import { timeSequential, type SequentialPlan, type Variant } from './lib/measure.js';
import { summarize, type TimingSummary } from './lib/stats.js';
import {
  benchTarget,
  echoResult,
  minimalWith,
  runThroughRunner,
  runToDone,
  succeeded,
  toolCallInput,
  toolCallWith,
  type AttemptFn,
} from './lib/toolCallActors.js';

const benchmark = 'machine overhead';
const maxOverhead = 1.5;

const plans: Record<'short' | 'long', SequentialPlan> = {
  short: { warmupCalls: 2_000, rounds: 8, callsPerRound: 3_000 },
  long: { warmupCalls: 10_000, rounds: 10, callsPerRound: 10_000 },
};

/**
 * The same attempt, run inside the minimal actor (bare promise), inside the tool-call actor (attempt actor,
 * created, started and awaited directly) and through `runToolCall` (the runtime's way of running it).
 */
function actorVariants(label: string, attempt: AttemptFn): [Variant, Variant, Variant] {
  const minimal = minimalWith(attempt);
  const toolCall = toolCallWith(attempt);
  const target = benchTarget();
  return [
    { name: `minimal actor${label}`, call: () => runToDone(minimal) },
    { name: `tool-call actor${label}`, call: () => runToDone(toolCall, toolCallInput(target)) },
    {
      name: `tool-call actor via runToolCall${label}`,
      call: () => runThroughRunner(toolCall, toolCallInput(target)).done,
    },
  ];
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const plan = plans[options.long ? 'long' : 'short'];
  const echo = await startInMemoryEcho();
  const inMemoryAttempt: AttemptFn = async (signal) => succeeded(await echo.echo('hello', signal));
  const [minimal, toolCall, runner] = actorVariants('', () => Promise.resolve(succeeded(echoResult)));
  const [minimalInMemory, toolCallInMemory, runnerInMemory] = actorVariants(' + in-memory MCP', inMemoryAttempt);
  const bare: Variant = { name: 'bare in-memory SDK call', call: () => echo.echo('hello') };
  try {
    const samples = await timeSequential(
      [minimal, toolCall, runner, bare, minimalInMemory, toolCallInMemory, runnerInMemory],
      plan,
    );
    const summaries: Record<string, TimingSummary> = {};
    for (const [name, values] of samples) summaries[name] = summarize(values);
    const of = (variant: Variant): TimingSummary => summaries[variant.name] ?? summarize([]);
    const figure = figuresOf(benchmark);
    const versus = (subject: Variant, baseline: Variant, withTarget: boolean) => [
      figure(`${subject.name} p50`, of(subject).p50Us, 'µs', {
        baseline: { name: baseline.name, value: of(baseline).p50Us },
        ...(withTarget ? { target: { ratioAtMost: maxOverhead } } : {}),
      }),
      figure(`${subject.name} p99`, of(subject).p99Us, 'µs', {
        baseline: { name: baseline.name, value: of(baseline).p99Us },
      }),
    ];
    return {
      benchmark,
      figures: [
        figure(`${minimal.name} p50`, of(minimal).p50Us, 'µs'),
        figure(`${minimal.name} p99`, of(minimal).p99Us, 'µs'),
        ...versus(toolCall, minimal, true),
        ...versus(runner, minimal, true),
        figure(`${bare.name} p50`, of(bare).p50Us, 'µs'),
        figure(`${bare.name} p99`, of(bare).p99Us, 'µs'),
        ...versus(minimalInMemory, bare, false),
        ...versus(toolCallInMemory, minimalInMemory, true),
        ...versus(runnerInMemory, minimalInMemory, true),
      ],
      details: { plan, summaries },
    };
  } finally {
    await echo.close();
  }
}
