// Issue 4, file log figures: batch-durability appends beside raw writeSync + fsync of the same bytes, opening a
// 1,000,000-event log, and reading one run out of 10,000.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '../src/events/envelope.js';
import { systemClock, systemRandom } from '../src/common/clock.js';
import { createEventWriter } from '../src/events/eventWriter.js';
import { createFileLog } from '../src/store/fileLog.js';
import { encodeRecord } from '../src/store/fileLogRecord.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median, summarize } from './lib/stats.js';

const benchmark = 'file log';
/**
 * How the runtime appends: every fact as its own single-event `append`, issued without waiting for the last one
 * (`createRuntime`'s `record`), while the call waits for all of its facts to be durable before it reports its
 * outcome. So the log sees many appends in flight: `concurrentCalls` calls of `factsPerCall` facts each.
 */
const concurrentCalls = 256;
const factsPerCall = 4;
/** The earlier shape of this figure, kept for comparison: callers that each wait for every single event. */
const awaitingCallers = 256;
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

/**
 * The same facts as the runtime makes them: through the event writer, which validates each envelope once, on write
 * (what `createRuntime` hands the store). Minted before the clock starts, as the raw baseline's bytes are encoded
 * before its clock starts: the figure is the log's cost (serialise, frame, checksum, write, fsync, index), not the
 * writer's.
 */
function writtenEvents(count: number): EventEnvelope[] {
  const writer = createEventWriter({ clock: systemClock, random: systemRandom });
  return Array.from({ length: count }, (_, i) => {
    const run = i % 1_000;
    const n = Math.floor(i / 1_000) + 1;
    return writer.toEnvelope(`run-${run}`, {
      type: 'toolcall.attempt.failed',
      callId: `run-${run}/call-1`,
      server: 'fault',
      tool: 'flaky',
      at: 1_700_000_000_000 + n,
      n,
      durationMs: 12,
      failure: {
        class: 'transient',
        kind: 'unavailable',
        retryable: true,
        maybeExecuted: false,
        message: 'HTTP 503',
        rule: 'default:unavailable',
        cause: { source: 'http', status: 503, headers: {}, message: 'HTTP 503' },
      },
      decision: 'retry',
      reason: 'transient failure, attempts left',
      probeToken: '',
    });
  });
}

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'retrace-bench-filelog-'));
}

interface AppendRun {
  rate: number;
  /** Records per fsync the log chose (its group commit), which the raw baseline then uses. */
  recordsPerSync: number;
}

/** Events per second through single-event `append`s with batch durability, issued as the runtime issues them. */
async function fileLogAppendRate(events: readonly EventEnvelope[]): Promise<AppendRun> {
  const dir = await scratch();
  const log = await createFileLog({ dir, durability: 'batch' });
  let next = 0;
  const call = async (): Promise<void> => {
    while (next < events.length) {
      const facts: Promise<void>[] = [];
      for (let fact = 0; fact < factsPerCall && next < events.length; fact += 1) {
        facts.push(log.append([events[next] as EventEnvelope]));
        next += 1;
      }
      await Promise.all(facts);
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrentCalls }, call));
  const elapsedMs = performance.now() - startedAt;
  const { records, syncs } = log.writeStats();
  await log.close();
  await rm(dir, { recursive: true, force: true });
  return { rate: (events.length / elapsedMs) * 1000, recordsPerSync: Math.max(1, Math.round(records / syncs)) };
}

/** The earlier measure: `awaitingCallers` callers, each awaiting its single-event append before the next. */
async function awaitedAppendRate(events: readonly EventEnvelope[]): Promise<number> {
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
  await Promise.all(Array.from({ length: awaitingCallers }, caller));
  const elapsedMs = performance.now() - startedAt;
  await log.close();
  await rm(dir, { recursive: true, force: true });
  return (events.length / elapsedMs) * 1000;
}

/**
 * The same framed bytes, encoded before the clock starts, with one writeSync + fsync per `batchRecords`: the fsync
 * cadence the log had in the same round (fewer records per fsync would make the baseline slower, more faster).
 */
async function rawWriteRate(events: readonly EventEnvelope[], batchRecords: number): Promise<number> {
  const dir = await scratch();
  const batches: Buffer[] = [];
  for (let start = 0; start < events.length; start += batchRecords) {
    const records = events.slice(start, start + batchRecords).map((event) => encodeRecord(JSON.stringify(event)));
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
  const events = writtenEvents(appendCount);
  // The same facts as plain objects the store has not seen validated (an import, a caller's own envelopes).
  const foreignEvents = events.map((event) => ({ ...event }));
  const fileLogRates: number[] = [];
  const rawRates: number[] = [];
  const recordsPerSync: number[] = [];
  const foreignRates: number[] = [];
  const awaitedRates: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const appended = await fileLogAppendRate(events);
    fileLogRates.push(appended.rate);
    recordsPerSync.push(appended.recordsPerSync);
    rawRates.push(await rawWriteRate(events, appended.recordsPerSync));
    foreignRates.push((await fileLogAppendRate(foreignEvents)).rate);
    awaitedRates.push(await awaitedAppendRate(events));
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
        baseline: { name: `raw writeSync + fsync per ${median(recordsPerSync)} (the log's cadence)`, value: rawRate },
        target: { ratioAtLeast: 0.5 },
      }),
      figure('append, batch durability: absolute', appendRate, 'calls/s'),
      figure('append of envelopes validated by the store', median(foreignRates), 'calls/s'),
      figure(`append, ${awaitingCallers} callers awaiting each event`, median(awaitedRates), 'calls/s'),
      figure(`open a ${runs * perRun}-event log`, median(openMs) * 1000, 'µs', { target: { atMost: 1_000_000 } }),
      figure(`read one run of ${perRun} out of ${runs} (p50)`, read.p50Us, 'µs', { target: { atMost: 5_000 } }),
    ],
    details: {
      fileLogRates,
      rawRates,
      recordsPerSync,
      foreignRates,
      awaitedRates,
      openMs,
      read,
      concurrentCalls,
      factsPerCall,
    },
  };
}
