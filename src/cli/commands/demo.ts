// `retrace demo`: seed 000's production deployment (examples/seed-000) on the file log, against the example server
// with its worst-day faults on: retries, a fallback, a cached answer, and an emergency escalation that waits and is resolved.
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../actors/logger.js';
import { createRuntime } from '../../actors/runtime.js';
import type { WorkflowFinal, WorkflowHandle } from '../../actors/workflowHost.js';
import { formatDurationMs } from '../../common/duration.js';
import { parseRuntimeConfig } from '../../config/runtimeConfig.js';
import type { RetraceEvent } from '../../events/retraceEvent.js';
import type { EscalationRecord } from '../../events/toolCallEvents.js';
import { skipWaits } from '../../testing/skipWaits.js';
import { createTestClock } from '../../testing/testClock.js';
import { loadWorkflow } from '../../workflow/loadWorkflow.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { workflowLine } from '../workflowLines.js';
import { chooseBackends, openStore } from './store.js';

/** Three folders up from src/cli/commands or dist/cli/commands: the repository's examples. */
const deploymentFile = fileURLToPath(new URL('../../../examples/seed-000/deployment.yaml', import.meta.url));
/** Relative to the example server's cwd (the repository root, as the workflow declares it). */
const DEMO_PLAN = 'examples/plans/deployment-emergency.yaml';

/** What the demo must show; each is checked off from the run's events. */
const wanted = {
  retry: 'a retry',
  fallback: 'a fallback',
  cached: 'a cached answer',
  escalation: 'an escalation',
  resolved: 'the escalation resolved',
} as const;
type Shown = keyof typeof wanted;

function print(line: string): void {
  process.stderr.write(`${line}\n`);
}

function shownBy(event: RetraceEvent): Shown | undefined {
  switch (event.type) {
    case 'toolcall.backoff.scheduled':
      return 'retry';
    case 'workflow.step.fallback':
    case 'toolcall.fallback.started':
      return 'fallback';
    case 'toolcall.cache.hit':
      return 'cached';
    case 'toolcall.escalated':
      return 'escalation';
    case 'workflow.resolved':
      return 'resolved';
    default:
      return undefined;
  }
}

/**
 * An operator answers the emergency: the rollback was done by hand, and its result is supplied so the run goes on
 * to its end — what `retrace resolve RUN --action value --value JSON` does from a shell.
 */
async function resolveEscalation(handle: WorkflowHandle, escalation: EscalationRecord): Promise<WorkflowFinal> {
  const waiting = await handle.done;
  if (waiting.status !== 'escalated') return waiting;
  const manualRollback = { status: 'rolled_back', restored_version: 'v1.4.2', reason: 'rolled back by hand' };
  print(`\n⏸ the run waits for a person (${waiting.error?.step_id ?? 'a step'} escalated, status escalated)`);
  print(`▶ an operator resolves the ${escalation.level} escalation: the rollback was done by hand`);
  print(`  retrace resolve ${handle.runId} --action value --value '${JSON.stringify(manualRollback)}'\n`);
  return handle.resolve({ action: 'value', value: manualRollback, by: "the demo's operator" });
}

export async function runDemo(options: { json?: boolean }, globals: GlobalOptions): Promise<number> {
  const { workflow } = await loadWorkflow(deploymentFile, { env: { ...process.env, EXAMPLE_PLAN: DEMO_PLAN } });
  const config = parseRuntimeConfig({});
  const store = await openStore(chooseBackends(globals, config));
  // Minutes of backoff and 30-second health checks pass in moments: waits are skipped while calls stay real.
  const clock = createTestClock(Date.now());
  const runtime = createRuntime({
    config,
    store,
    clock,
    logger: createLogger({ level: (globals.logLevel ?? 'silent') as 'silent' }),
  });
  const skipper = skipWaits(runtime, clock);
  const seen = new Set<Shown>();
  let final: WorkflowFinal;
  try {
    print(`retrace demo: seed 000's production deployment (${workflow.file}) on the file log`);
    print(`  the example MCP server, faults on (${DEMO_PLAN}); waits skipped on a simulated clock\n`);
    const handle = runtime.spawn(workflow);
    let onEscalation: (escalation: EscalationRecord) => void = () => undefined;
    const escalated = new Promise<EscalationRecord>((resolve) => (onEscalation = resolve));
    handle.subscribe((event) => {
      if (options.json) process.stdout.write(`${JSON.stringify(event)}\n`);
      const shown = shownBy(event);
      if (shown) seen.add(shown);
      if (event.type === 'toolcall.escalated') onEscalation(event.data.escalation);
      const line = workflowLine(event);
      if (line !== undefined) print(line);
    });
    const first = await Promise.race([handle.done, escalated]);
    if ('level' in first) {
      print(`  recommended action:\n    ${first.recommendedAction.replaceAll('\n', '\n    ')}`);
      final = await resolveEscalation(handle, first);
    } else {
      final = first;
    }
  } finally {
    skipper.stop();
    await runtime.close();
    await store.close();
  }
  print(`\n${final.status}: ${JSON.stringify(final.result ?? final.error?.message ?? null)}`);
  print(`  state ${JSON.stringify(final.state)}`);
  print(
    `  ${formatDurationMs(skipper.skippedMs())} of waiting skipped; the run is in the log: retrace replay ${final.runId}`,
  );
  const missing = (Object.keys(wanted) as Shown[]).filter((key) => !seen.has(key));
  print(
    missing.length === 0
      ? `\nshown: ${Object.values(wanted).join(', ')}.`
      : `\nnot shown: ${missing.map((key) => wanted[key]).join(', ')}: see above.`,
  );
  return missing.length === 0 ? ExitCode.ok : ExitCode.failed;
}
