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

  it('waits out a rollout that an escalated run left behind, as long as the server says, instead of giving up', async () => {
    // At 8% permanent faults deployment runs escalate after promoting; their rollouts stay in progress until they
    // settle (60 s), and the next promotion meets a lock conflict longer than its own backoff (8 retries ≈ 30 s).
    // Before the conflict said when to retry, 4 of these transient-only runs ended escalated.
    const report = await runChaosCampaign({ runs: 150, seed: 1, concurrency: 12, permanentRate: 0.08 });
    expect(report.unrecovered).toEqual([]);
    expect(report.lockWaitsOnServerHint).toBeGreaterThan(0);
    expect(report.permanentFailedFast).toBe(report.permanentFaults);
  }, 60_000);
});
