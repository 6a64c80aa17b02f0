// Issue 3, figure 2: the reference server's echo over stdio, bare SDK client against retrace's runtime, one caller and 16.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createRuntime } from '../src/actors/runtime.js';
import { everythingServer } from './lib/everythingServer.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import {
  timeConcurrent,
  timeSequential,
  type ConcurrentPlan,
  type SequentialPlan,
  type Variant,
} from './lib/measure.js';
import { callsPerSecond, summarize, type TimingSummary } from './lib/stats.js';

const benchmark = 'stdio end to end';
const maxLatencyRatio = 1.5;
const minThroughputShare = 0.75;
const concurrency = 16;
const args = { message: 'hello' };

const plans: Record<'short' | 'long', { sequential: SequentialPlan; concurrent: ConcurrentPlan }> = {
  short: {
    sequential: { warmupCalls: 1_000, rounds: 8, callsPerRound: 1_000 },
    concurrent: { warmupCalls: 2_000, rounds: 6, callsPerRound: 4_000, concurrency },
  },
  long: {
    sequential: { warmupCalls: 2_000, rounds: 10, callsPerRound: 3_000 },
    concurrent: { warmupCalls: 3_000, rounds: 10, callsPerRound: 10_000, concurrency },
  },
};

async function startBareClient(): Promise<Client> {
  const client = new Client({ name: 'retrace-bench', version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StdioClientTransport({ ...everythingServer, stderr: 'ignore' }));
  return client;
}

/** Sequential calls/s from per-call samples: calls over the time spent in them. */
function sequentialRate(summary: TimingSummary): number {
  return callsPerSecond(summary.calls, summary.meanUs * summary.calls);
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const plan = plans[options.long ? 'long' : 'short'];
  const client = await startBareClient();
  const runtime = createRuntime({ config: { servers: { everything: everythingServer } } });
  const bare: Variant = { name: 'bare SDK client', call: () => client.callTool({ name: 'echo', arguments: args }) };
  const viaRuntime: Variant = {
    name: 'runtime.callTool',
    call: async () => {
      const outcome = await runtime.callTool('everything', 'echo', args);
      if (outcome.status !== 'succeeded') throw new Error(`echo through the runtime ended ${outcome.status}`);
    },
  };
  try {
    const samples = await timeSequential([bare, viaRuntime], plan.sequential);
    const loaded = await timeConcurrent([bare, viaRuntime], plan.concurrent);
    const sequential = (variant: Variant) => summarize(samples.get(variant.name) ?? []);
    const underLoad = (variant: Variant) => {
      const result = loaded.get(variant.name);
      return {
        callsPerSecond: result?.callsPerSecond ?? Number.NaN,
        latency: summarize(result?.samplesUs ?? []),
        rounds: result?.roundCallsPerSecond ?? [],
      };
    };
    const [bareSeq, runtimeSeq, bareLoad, runtimeLoad] = [
      sequential(bare),
      sequential(viaRuntime),
      underLoad(bare),
      underLoad(viaRuntime),
    ];
    const figure = figuresOf(benchmark);
    const baseline = (value: number) => ({ name: bare.name, value });
    const loadedName = `${concurrency} concurrent`;
    return {
      benchmark,
      figures: [
        figure(`${bare.name} p50`, bareSeq.p50Us, 'µs'),
        figure(`${bare.name} p99`, bareSeq.p99Us, 'µs'),
        figure(`${bare.name} sequential`, sequentialRate(bareSeq), 'calls/s'),
        figure(`${viaRuntime.name} p50`, runtimeSeq.p50Us, 'µs', {
          baseline: baseline(bareSeq.p50Us),
          target: { ratioAtMost: maxLatencyRatio },
        }),
        figure(`${viaRuntime.name} p99`, runtimeSeq.p99Us, 'µs', { baseline: baseline(bareSeq.p99Us) }),
        figure(`${viaRuntime.name} sequential`, sequentialRate(runtimeSeq), 'calls/s', {
          baseline: baseline(sequentialRate(bareSeq)),
        }),
        figure(`${bare.name} ${loadedName}`, bareLoad.callsPerSecond, 'calls/s'),
        figure(`${bare.name} ${loadedName} p50`, bareLoad.latency.p50Us, 'µs'),
        figure(`${viaRuntime.name} ${loadedName}`, runtimeLoad.callsPerSecond, 'calls/s', {
          baseline: baseline(bareLoad.callsPerSecond),
          target: { ratioAtLeast: minThroughputShare },
        }),
        figure(`${viaRuntime.name} ${loadedName} p50`, runtimeLoad.latency.p50Us, 'µs', {
          baseline: baseline(bareLoad.latency.p50Us),
        }),
      ],
      details: {
        plan,
        sequential: { [bare.name]: bareSeq, [viaRuntime.name]: runtimeSeq },
        concurrent: { [bare.name]: bareLoad, [viaRuntime.name]: runtimeLoad },
      },
    };
  } finally {
    await Promise.all([client.close(), runtime.close()]);
  }
}
