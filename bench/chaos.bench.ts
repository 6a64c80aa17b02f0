// Issue 7's chaos suite as a benchmark: the chaos campaign (test/support/chaosCampaign.ts) of seed 000's workflows,
// concurrently in one runtime through ONE chaos proxy at a 30% transient fault rate, 4 s outages every 2 minutes of
// simulated time and 1% permanent faults: 1,000 runs (5,000 with --long) under the `chaos` retry budget, and a third
// as many under the examples' own policies (no target: they retry only some kinds, the promotion once).
import { percent, runChaosCampaign, type ChaosCampaignReport } from '../test/support/chaosCampaign.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';

const benchmark = 'chaos';

function detailsOf(report: ChaosCampaignReport): Record<string, unknown> {
  return {
    runs: report.runs,
    transientOnlyRuns: report.transientOnlyRuns,
    transientFaultedRuns: report.transientFaultedRuns,
    transientFaultedRecovered: report.transientFaultedRecovered,
    permanentFaults: report.permanentFaults,
    lockWaitsOnServerHint: report.lockWaitsOnServerHint,
    byWorkflow: report.byWorkflow,
    unrecovered: report.unrecovered.slice(0, 20),
    injected: report.proxy.injected,
    outageCalls: report.proxy.outage_calls,
    simulatedSeconds: Math.round(report.simulatedMs / 1000),
  };
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const runs = options.long ? 5_000 : 1_000;
  const chaos = await runChaosCampaign({ runs, seed: 42, concurrency: 50, budget: 'chaos' });
  const own = await runChaosCampaign({ runs: Math.round(runs / 3), seed: 43, concurrency: 50, budget: 'examples' });
  const figure = figuresOf(benchmark);
  return {
    benchmark,
    figures: [
      figure('runs (seed 000 workflows, 30% transient faults + outages)', chaos.runs, 'count'),
      figure(
        'transient-only runs recovered without a person',
        percent(chaos.transientOnlyRecovered, chaos.transientOnlyRuns),
        '%',
        { target: { atLeast: 99.9 } },
      ),
      figure(
        'permanent faults escalated or failed fast',
        percent(chaos.permanentFailedFast, chaos.permanentFaults),
        '%',
        {
          target: { atLeast: 100 },
        },
      ),
      figure('tool calls through the proxy', chaos.proxy.calls, 'count'),
      figure(
        'faults injected',
        Object.values(chaos.proxy.injected).reduce((sum, count) => sum + (count ?? 0), 0),
        'count',
      ),
      figure(
        "transient-only runs recovered, examples' own policies",
        percent(own.transientOnlyRecovered, own.transientOnlyRuns),
        '%',
      ),
      figure('wall time', (chaos.wallMs + own.wallMs) / 1000, 's'),
    ],
    details: { chaosBudget: detailsOf(chaos), examplesPolicies: detailsOf(own) },
  };
}
