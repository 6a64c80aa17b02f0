// Issue 4, file log figures: batch-durability appends beside raw writeSync + fsync of the same bytes, opening a
// 1,000,000-event log, and reading one run out of 10,000.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '../src/events/envelope.js';
import { createFileLog } from '../src/store/fileLog.js';
import { encodeRecord } from '../src/store/fileLogRecord.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median, summarize } from './lib/stats.js';

const benchmark = 'file log';
/** Records per write + fsync in the raw baseline (the cadence). */
const rawBatchRecords = 256;
/** Concurrent appenders of one event each: what a busy runtime looks like to the log. */
const appenders = 256;

function eventOf(run: number, seq: number): EventEnvelope {
  return {
    v: 1,
    id: `01J${String(run).padStart(6, '0')}${String(seq).padStart(8, '0')}`,
    runId: `run-${run}`,
    actorId: `run-${run}/call-1`,
    seq,
    ts: 1_700_000_000_000 + seq,
    type: 'toolcall.attempt.failed',
    data: {
      server: 'fault',
      tool: 'flaky',
      attempt: seq,
      classification: { class: 'transient', kind: 'unavailable', retryable: true, message: 'HTTP 503' },
    },
  };
}

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'retrace-bench-filelog-'));
}

/** Events per second through `append` with batch durability, `appenders` callers at a time. */
async function fileLogAppendRate(events: readonly EventEnvelope[]): Promise<number> {
  const dir = await scratch();
  const log = await createFileLog({ dir, durability: 'batch' });
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < events.length) {
      const event = events[next] as EventEnvelope;
      next += 1;
      await log.append([event]);
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: appenders }, caller));
  const elapsedMs = performance.now() - startedAt;
  await log.close();
  await rm(dir, { recursive: true, force: true });
  return (events.length / elapsedMs) * 1000;
}

/** The same framed bytes, encoded before the clock starts, with one writeSync + fsync per `rawBatchRecords`. */
async function rawWriteRate(events: readonly EventEnvelope[]): Promise<number> {
  const dir = await scratch();
  const batches: Buffer[] = [];
  for (let start = 0; start < events.length; start += rawBatchRecords) {
    const records = events.slice(start, start + rawBatchRecords).map((event) => encodeRecord(JSON.stringify(event)));
    batches.push(Buffer.from(records.join('')));
  }
  const fd = openSync(join(dir, 'raw.log'), 'w');
  const startedAt = performance.now();
  for (const batch of batches) {
    writeSync(fd, batch);
    fsyncSync(fd);
  }
  const elapsedMs = performance.now() - startedAt;
  closeSync(fd);
  await rm(dir, { recursive: true, force: true });
  return (events.length / elapsedMs) * 1000;
}

/** A log of `runs` runs × `perRun` events, interleaved as concurrent runs would be. */
async function buildLog(dir: string, runs: number, perRun: number): Promise<void> {
  const log = await createFileLog({ dir, durability: 'none' });
  for (let seq = 1; seq <= perRun; seq += 1) {
    const batch: EventEnvelope[] = [];
    for (let run = 0; run < runs; run += 1) batch.push(eventOf(run, seq));
    await log.append(batch);
  }
  await log.close();
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const rounds = options.long ? 5 : 3;
  const appendCount = options.long ? 500_000 : 200_000;
  const events = Array.from({ length: appendCount }, (_, i) => eventOf(i % 1_000, Math.floor(i / 1_000) + 1));
  const fileLogRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    fileLogRates.push(await fileLogAppendRate(events));
    rawRates.push(await rawWriteRate(events));
  }

  const runs = 10_000;
  const perRun = 100;
  const dir = await scratch();
  await buildLog(dir, runs, perRun);
  const openMs: number[] = [];
  const readUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const startedAt = performance.now();
    const log = await createFileLog({ dir });
    openMs.push(performance.now() - startedAt);
    for (let i = 0; i < 200; i += 1) {
      const runId = `run-${(i * 7_919 + round) % runs}`;
      const readStartedAt = performance.now();
      const read = await log.read(runId);
      readUs.push((performance.now() - readStartedAt) * 1000);
      if (read.length !== perRun) throw new Error(`${runId}: read ${read.length} events, expected ${perRun}`);
    }
    await log.close();
  }
  await rm(dir, { recursive: true, force: true });

  const figure = figuresOf(benchmark);
  const appendRate = median(fileLogRates);
  const rawRate = median(rawRates);
  const read = summarize(readUs);
  return {
    benchmark,
    figures: [
      figure('append, batch durability (events/s)', appendRate, 'calls/s', {
        baseline: { name: `raw writeSync + fsync per ${rawBatchRecords}`, value: rawRate },
        target: { ratioAtLeast: 0.5 },
      }),
      figure('append, batch durability: absolute', appendRate, 'calls/s'),
      figure(`open a ${runs * perRun}-event log`, median(openMs) * 1000, 'µs', { target: { atMost: 1_000_000 } }),
      figure(`read one run of ${perRun} out of ${runs} (p50)`, read.p50Us, 'µs', { target: { atMost: 5_000 } }),
    ],
    details: { fileLogRates, rawRates, openMs, read, appenders, rawBatchRecords },
  };
}
