// Issue 7's crash suite as a benchmark: the crash campaign (test/support/crashCampaign.ts) over every seed 000 example
// and the crash-resume workflow, 200 SIGKILLs of `retrace run` / `resume` / `resolve` (1,000 with --long). Reports the
// kills, the runs, each kind of violation (target 0), the share of runs resumable to their uninterrupted end (target
// 100%), the runs whose error text drifted with the external world (status checks cut by a kill: reported, no target)
// and the wall time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBuild } from '../test/support/crashChild.js';
import { runCrashCampaign } from '../test/support/crashCampaign.js';
import { allCrashScenarios } from '../test/support/crashScenarios.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';

const benchmark = 'crash';

export async function run(options: BenchOptions): Promise<BenchReport> {
  requireBuild();
  const dir = await mkdtemp(join(tmpdir(), 'retrace-bench-crash-'));
  try {
    const report = await runCrashCampaign({
      dir,
      scenarios: allCrashScenarios,
      kills: options.long ? 1_000 : 200,
      killsPerRun: 4,
      seed: 42,
      concurrency: 2,
      // Each violation as it is found (the details list them all).
      onRun: (runReport) => {
        for (const violation of runReport.violations)
          process.stderr.write(`\n${violation.kind} ${violation.run}: ${violation.message}`);
        if (runReport.externalDrift !== undefined)
          process.stderr.write(`\nexternalDrift ${runReport.run}: ${runReport.externalDrift}`);
      },
    });
    const figure = figuresOf(benchmark);
    const zero = { target: { atMost: 0 } };
    const resumable = report.runs === 0 ? 0 : (100 * report.resumableRuns) / report.runs;
    return {
      benchmark,
      figures: [
        figure('kills (SIGKILL of run/resume/resolve)', report.kills, 'count'),
        figure('runs', report.runs, 'count'),
        figure('completed steps lost', report.violations.completedStepLost, 'count', zero),
        figure('completed steps run twice', report.violations.completedStepRerun, 'count', zero),
        figure(
          'non-idempotent calls repeated',
          report.violations.nonIdempotentRepeat + report.violations.unrecordedCall,
          'count',
          zero,
        ),
        figure('runs resumable to the uninterrupted end', resumable, '%', { target: { atLeast: 100 } }),
        figure('of them, error text drifted (status checks cut by a kill)', report.externalDrift.length, 'count'),
        figure('wall time', report.wallMs / 1000, 's'),
      ],
      details: {
        processes: report.processes,
        resolutions: report.resolutions,
        violations: report.violations,
        violationList: report.violationList,
        externalDrift: report.externalDrift,
        printedNotDurable: report.printedNotDurable,
        perScenario: report.perScenario,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
