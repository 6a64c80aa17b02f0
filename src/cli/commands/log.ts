// The commands that read the log: runs, replay, metrics, export, import, tail.
import { createReadStream } from 'node:fs';
import { parseDurationMs } from '../../common/duration.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { createNatsBus } from '../../events/natsBus.js';
import { assertSubjectSafeRunId } from '../../events/natsSubjects.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { exportRun, importRun } from '../../store/exportImport.js';
import { reportToolMetrics } from '../../store/projections/index.js';
import { formatTimeline, replay, replayStore, type TimelineFormat } from '../../store/replay.js';
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

export function runReplay(
  runId: string,
  options: { until?: string; format?: string },
  globals: GlobalOptions,
): Promise<number> {
  const format = (options.format ?? 'text') as TimelineFormat;
  if (format !== 'text' && format !== 'json') {
    throw new RetraceError(ErrorCode.usage, `--format ${options.format}: expected text or json`);
  }
  const untilSeq = options.until === undefined ? undefined : Number(options.until);
  if (untilSeq !== undefined && (!Number.isInteger(untilSeq) || untilSeq < 1)) {
    throw new RetraceError(ErrorCode.usage, `--until ${options.until}: expected a positive whole number (a seq)`);
  }
  return withStore(globals, async (store) => {
    const events = await readRun(store, runId);
    const result = replay(events, untilSeq === undefined ? {} : { untilSeq });
    for (const timeline of result.timelines.values()) process.stdout.write(`${formatTimeline(timeline, format)}\n`);
    return ExitCode.ok;
  });
}

export function runMetrics(options: { run?: string; json?: boolean }, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store) => {
    const result = options.run === undefined ? await replayStore(store) : replay(await readRun(store, options.run));
    const now = Date.now();
    const reports = [...result.metrics.values()].map((metrics) => reportToolMetrics(metrics, now));
    if (options.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    else {
      for (const report of reports) {
        process.stdout.write(
          `${report.server}/${report.tool}: calls ${report.totalCalls}, errors ${report.totalErrors} (transient ${report.transientErrors}, permanent ${report.permanentErrors}), retries ${report.retries}, exhausted ${report.retriesExhausted}, fallbacks ${report.fallbacks}, cache hits ${report.cacheHits}, error rate ${(report.errorRate * 100).toFixed(0)}%, p50 ${report.latency.p50Ms} ms, p99 ${report.latency.p99Ms} ms\n`,
        );
      }
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
  return withStore(globals, async (store) => {
    const { runIds, events } = await importRun(store, createReadStream(file), file);
    process.stderr.write(`imported ${events} events of ${runIds.length} run(s): ${runIds.join(', ')}\n`);
    return ExitCode.ok;
  });
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
      const store = await openStore(backends);
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
