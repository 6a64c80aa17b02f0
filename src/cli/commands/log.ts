// The commands that read the log: runs, replay, metrics, export, import, tail.
import { feedInspector } from './inspectOption.js';
import { createReadStream } from 'node:fs';
import { parseDurationMs } from '../../common/duration.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { createNatsBus } from '../../events/natsBus.js';
import { assertSubjectSafeRunId } from '../../events/natsSubjects.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { exportRun, importRun } from '../../store/exportImport.js';
import {
  reportToolMetrics,
  reportWorkflowMetrics,
  type ToolMetricsReport,
  type WorkflowMetricsReport,
} from '../../store/projections/index.js';
import { formatTimeline, replay, replayStore, type ReplayOptions, type TimelineFormat } from '../../store/replay.js';
import { formatWorkflowTimeline } from '../../store/workflowTimelineFormat.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { chooseBackends, commandConfig, openStore, withStore } from './store.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function runRuns(options: { json?: boolean }, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store) => {
    const runs = (await store.runs()).sort((a, b) => a.firstTs - b.firstTs);
    if (options.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    else {
      for (const run of runs) {
        process.stdout.write(
          `${run.runId}  ${run.status.padEnd(9)}  ${String(run.events).padStart(5)} events  ${iso(run.firstTs)}  ${run.lastTs - run.firstTs} ms\n`,
        );
      }
    }
    return ExitCode.ok;
  });
}

async function readRun(store: { read(runId: string): Promise<EventEnvelope[]> }, runId: string) {
  const events = await store.read(runId);
  if (events.length === 0)
    throw new RetraceError(ErrorCode.badArguments, `no run "${runId}" in the log (see retrace runs)`);
  return events;
}

/** Where `--until` cuts a run: a seq (`12`), a clock time (`2025-01-01T10:00:01.5Z`) or an offset from its start (`+1.5s`). */
type UntilCut = { untilSeq: number } | { untilTs: number } | { offsetMs: number };

function parseUntil(text: string): UntilCut {
  if (/^\d+$/.test(text) && Number(text) >= 1) return { untilSeq: Number(text) };
  if (text.startsWith('+')) {
    const offsetMs = parseDurationMs(text.slice(1));
    if (offsetMs !== undefined) return { offsetMs };
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text))) {
    return { untilTs: Date.parse(text) };
  }
  throw new RetraceError(
    ErrorCode.usage,
    `--until ${text}: expected a seq (a positive whole number), a time (2025-01-01T10:00:00Z) or an offset from the run's start (+1.5s, +250ms)`,
  );
}

function replayOptions(cut: UntilCut | undefined, events: readonly EventEnvelope[]): ReplayOptions {
  if (cut === undefined) return {};
  if ('offsetMs' in cut) return { untilTs: (events[0]?.ts ?? 0) + cut.offsetMs };
  return cut;
}

export function runReplay(
  runId: string,
  options: { until?: string; format?: string; inspect?: string | true },
  globals: GlobalOptions,
): Promise<number> {
  const format = (options.format ?? 'text') as TimelineFormat;
  if (format !== 'text' && format !== 'json') {
    throw new RetraceError(ErrorCode.usage, `--format ${options.format}: expected text or json`);
  }
  const cut = options.until === undefined ? undefined : parseUntil(options.until);
  return withStore(globals, async (store) => {
    const events = await readRun(store, runId);
    const result = replay(events, replayOptions(cut, events));
    if (options.inspect !== undefined) await feedInspector(options.inspect, events);
    // A workflow run is one tree; a tool-call run is its call's timeline.
    const workflow = result.workflows.get(runId);
    if (workflow) {
      const text = format === 'json' ? JSON.stringify(workflow, null, 2) : formatWorkflowTimeline(workflow);
      process.stdout.write(`${text}\n`);
      return ExitCode.ok;
    }
    for (const timeline of result.timelines.values()) process.stdout.write(`${formatTimeline(timeline, format)}\n`);
    return ExitCode.ok;
  });
}

function printToolMetrics(report: ToolMetricsReport): void {
  process.stdout.write(
    `${report.server}/${report.tool}: calls ${report.totalCalls}, errors ${report.totalErrors} (transient ${report.transientErrors}, permanent ${report.permanentErrors}), retries ${report.retries}, exhausted ${report.retriesExhausted}, fallbacks ${report.fallbacks}, cache hits ${report.cacheHits}, error rate ${(report.errorRate * 100).toFixed(0)}%, p50 ${report.latency.p50Ms} ms, p99 ${report.latency.p99Ms} ms\n`,
  );
}

function printWorkflowMetrics(report: WorkflowMetricsReport): void {
  const { runs, durationMs, retries, fallbacks } = report;
  const statuses = (['succeeded', 'failed', 'escalated', 'cancelled', 'running'] as const)
    .filter((status) => runs[status] > 0)
    .map((status) => `${status} ${runs[status]}`)
    .join(', ');
  const ms = (value: number) => Math.round(value);
  process.stdout.write(
    `workflow ${report.name}: runs ${runs.total} (${statuses}), duration p50 ${ms(durationMs.p50)} ms, p95 ${ms(durationMs.p95)} ms, max ${ms(durationMs.max)} ms, steps ${report.stepsExecuted} (${report.stepsPerSecond.toFixed(1)}/s), retries ${retries.steps} step + ${retries.toolCalls} tool, fallbacks ${fallbacks.steps} step + ${fallbacks.toolCalls} tool, escalations ${report.escalations}\n`,
  );
  for (const step of report.steps) {
    process.stdout.write(
      `  step ${step.stepId}: executions ${step.executions}, failures ${step.failures}, fallbacks ${step.fallbacks}, mean ${ms(step.meanDurationMs)} ms\n`,
    );
  }
}

export function runMetrics(options: { run?: string; json?: boolean }, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store) => {
    const result = options.run === undefined ? await replayStore(store) : replay(await readRun(store, options.run));
    const now = Date.now();
    const tools = [...result.metrics.values()].map((metrics) => reportToolMetrics(metrics, now));
    const workflows = reportWorkflowMetrics(result.workflowMetrics.values());
    if (options.json) process.stdout.write(`${JSON.stringify({ tools, workflows }, null, 2)}\n`);
    else {
      for (const report of tools) printToolMetrics(report);
      for (const report of workflows) printWorkflowMetrics(report);
    }
    return ExitCode.ok;
  });
}

export function runExport(runId: string, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store) => {
    await readRun(store, runId);
    await exportRun(store, runId, process.stdout);
    return ExitCode.ok;
  });
}

export function runImport(file: string, globals: GlobalOptions): Promise<number> {
  return withStore(
    globals,
    async (store) => {
      const { runIds, events } = await importRun(store, createReadStream(file), file);
      process.stderr.write(`imported ${events} events of ${runIds.length} run(s): ${runIds.join(', ')}\n`);
      return ExitCode.ok;
    },
    'write',
  );
}

export interface TailOptions {
  run?: string;
  from?: string;
  since?: string;
  json?: boolean;
}

/**
 * Stored events from `--from POSITION` (after it) or `--since DURATION`, then live ones, each once. Live
 * events come over the NATS bus (every writer with NATS configured publishes there); the bus subscription
 * is in place before the log is read, and per run nothing at or below the last seq printed is printed
 * again, so the switch from stored to live has neither gap nor repeat. The log is closed before going
 * live: the file log has one writer, and a tail must not hold it.
 */
export async function runTail(options: TailOptions, globals: GlobalOptions): Promise<number> {
  if (options.from !== undefined && options.since !== undefined) {
    throw new RetraceError(ErrorCode.usage, '--from and --since: give one of them');
  }
  const sinceMs = options.since === undefined ? undefined : parseDurationMs(options.since);
  if (options.since !== undefined && sinceMs === undefined) {
    throw new RetraceError(ErrorCode.usage, `--since ${options.since}: expected a duration such as 30s, 5m or 2h`);
  }
  if (options.run !== undefined) assertSubjectSafeRunId(options.run);
  const stored = options.from !== undefined || sinceMs !== undefined;
  const backends = chooseBackends(globals, await commandConfig(globals));
  if (!backends.nats && backends.store === 'file' && !stored) {
    throw new RetraceError(
      ErrorCode.usage,
      'live events of the file log come over NATS (the log has one writer, and a tail must not hold it): configure nats.url or pass --nats URL --store file; --from POSITION or --since DURATION prints stored events',
    );
  }
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const print = (event: EventEnvelope, position: string | undefined): void => {
    process.stdout.write(
      options.json
        ? `${JSON.stringify(event)}\n`
        : `${position ?? 'live'}  ${iso(event.ts)}  ${event.runId}  #${event.seq}  ${event.type}\n`,
    );
  };
  const bus = backends.nats
    ? await createNatsBus({
        servers: backends.nats.url,
        subjectPrefix: backends.nats.subjectPrefix,
        requireConnection: true,
      })
    : undefined;
  try {
    const live = await bus?.listen({
      ...(options.run === undefined ? {} : { runId: options.run }),
      signal: controller.signal,
    });
    const seen = new Map<string, number>();
    if (stored) {
      const store = await openStore(backends, 'read');
      try {
        const fromTs = sinceMs === undefined ? undefined : Date.now() - sinceMs;
        for await (const { position, event } of store.readAll(options.from)) {
          if (controller.signal.aborted) break;
          if (options.run !== undefined && event.runId !== options.run) continue;
          if (fromTs !== undefined && event.ts < fromTs) continue;
          seen.set(event.runId, event.seq);
          print(event, position);
        }
      } finally {
        await store.close();
      }
    }
    for await (const event of live ?? []) {
      if (event.seq <= (seen.get(event.runId) ?? 0)) continue;
      seen.set(event.runId, event.seq);
      print(event, undefined);
    }
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await bus?.close();
  }
}
