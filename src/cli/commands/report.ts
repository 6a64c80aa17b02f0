// `retrace report RUN [-o FILE]`: a workflow run's page as one self-contained HTML file (opens offline) for a postmortem.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { observeRun } from '../../actors/runObservation.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { loadRunWorkflowChart, renderRunPage } from '../../server/viewer/index.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { commandConfig, withStore } from './store.js';

export interface ReportOptions {
  /** The file to write; `run-RUN.html` in the current directory by default. */
  output?: string;
}

/** Exit 0 once the file is written; 66 (E_UNKNOWN_RUN) when the log has no such workflow run. Read-only: no lock. */
export function runReport(runId: string, options: ReportOptions, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store, backends) => {
    // observeRun refuses an unknown run (and a lone tool call's) and knows whether a running run still has an owner.
    const observed = await observeRun(store, backends.dataDir, runId);
    const events = await store.read(runId);
    const file = resolve(options.output ?? `run-${runId}.html`);
    // Every step of the run's workflow file, when it is still there and compiles; else the page says why.
    const workflowChart = await loadRunWorkflowChart(events, { config: await commandConfig(globals) });
    const html = renderRunPage(events, { status: observed.status, generatedAt: Date.now(), workflowChart });
    try {
      await writeFile(file, html);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RetraceError(ErrorCode.badArguments, `cannot write the report to ${file}: ${reason}`, { cause: error });
    }
    process.stderr.write(`retrace: wrote the page of run ${runId} (${events.length} events) to ${file}\n`);
    process.stdout.write(`${file}\n`);
    return ExitCode.ok;
  });
}
