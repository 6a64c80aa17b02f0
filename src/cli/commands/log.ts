// The commands that read the log: runs, replay, metrics, export, import, tail.
import { createReadStream } from 'node:fs';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { exportRun, importRun } from '../../store/exportImport.js';
import { reportToolMetrics } from '../../store/projections/index.js';
import { formatTimeline, replay, replayAsync, type TimelineFormat } from '../../store/replay.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { withStore } from './store.js';

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
    const result =
      options.run === undefined
        ? await replayAsync(
            (async function* () {
              for await (const stored of store.readAll()) yield stored.event;
            })(),
          )
        : replay(await readRun(store, options.run));
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

export function runTail(options: { run?: string }, globals: GlobalOptions): Promise<number> {
  return withStore(globals, async (store) => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    const tail = store.tail(
      options.run === undefined ? { signal: controller.signal } : { runId: options.run, signal: controller.signal },
    );
    for await (const event of tail) process.stdout.write(`${JSON.stringify(event)}\n`);
    return ExitCode.ok;
  });
}
