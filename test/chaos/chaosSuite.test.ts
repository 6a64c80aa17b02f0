// Issue 7's chaos suite, short: seed 000's workflows, many at once in one runtime, through ONE chaos proxy at a 30%
// transient fault rate plus outages and rare permanent faults (test/support/chaosCampaign.ts; bench/chaos.bench.ts
// runs 1,000). Runs whose faults were all transient recover without a person; no permanent failure is retried.
import { describe, expect, it } from 'vitest';
import { percent, runChaosCampaign } from '../support/chaosCampaign.js';

describe('chaos suite', () => {
  it('recovers the runs whose faults were all transient, and never retries a permanent failure', async () => {
    const report = await runChaosCampaign({ runs: 60, seed: 7, concurrency: 12 });
    expect(report.runs).toBe(60);
    expect(report.transientFaultedRuns).toBeGreaterThan(20);
    expect(report.unrecovered).toEqual([]);
    expect(percent(report.transientOnlyRecovered, report.transientOnlyRuns)).toBe(100);
    expect(report.permanentFailedFast).toBe(report.permanentFaults);
  }, 60_000);
});
