// Issue 7's crash suite, short: seed 000's examples (one per example file, the plans that escalate and roll back among
// them) and the crash-resume workflow, SIGKILLed about 30 times at seeded points while `retrace run`, `resume` and
// `resolve` work. No completed step lost or run twice, no non-idempotent call repeated, every run resumable to the end
// of its uninterrupted run. bench/crash.bench.ts runs the same campaign over every example, 200 kills and more.
import { describe, expect } from 'vitest';
import { cliTest as it } from '../support/cli.js';
import { requireBuild } from '../support/crashChild.js';
import { runCrashCampaign } from '../support/crashCampaign.js';
import { allCrashScenarios } from '../support/crashScenarios.js';

const chosen = ['validation-fallback', 'background-ok', 'deployment-ok', 'deployment-emergency', 'crash-resume'];

describe('the crash suite (short)', () => {
  it(
    'kills runs of the examples about 30 times: nothing lost, nothing repeated, every run resumable',
    { timeout: 300_000 },
    async ({ workspace }) => {
      requireBuild();
      const scenarios = allCrashScenarios.filter((scenario) => chosen.includes(scenario.name));
      const report = await runCrashCampaign({
        dir: workspace.dir,
        scenarios,
        kills: 30,
        killsPerRun: 6,
        seed: 7,
        concurrency: 2,
        env: workspace.marker,
      });
      console.info(
        `crash suite: ${report.kills} kills, ${report.runs} runs, ${report.processes} processes, ${report.resolutions} resolutions, ${report.externalDrift.length} external drift(s)`,
      );
      for (const drift of report.externalDrift) console.info(`external drift ${drift.run}: ${drift.message}`);
      expect(report.violationList).toEqual([]);
      expect(report.kills).toBeGreaterThanOrEqual(30);
      expect(report.resumableRuns).toBe(report.runs);
      expect(
        new Set(
          Object.entries(report.perScenario)
            .filter(([, s]) => s.runs > 0)
            .map(([name]) => name),
        ),
      ).toEqual(new Set(chosen));
    },
  );
});
