// Issue 4, replay figure: folding a whole file log through every projection (run state, tool metrics, timeline, as
// `retrace metrics` does) beside a bare read + split + JSON.parse of the same events as JSON Lines.
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyFailure } from '../src/policy/classify.js';
import { buildEscalation, EscalationTrigger } from '../src/policy/escalation.js';
import type { ClassifiedFailure, RawFailure } from '../src/policy/failure.js';
import { defaultToolPolicy } from '../src/policy/toolPolicy.js';
import { summarizeFailure } from '../src/machines/toolCallDecisions.js';
import type { ToolCallEmitted } from '../src/machines/toolCallTypes.js';
import type { CircuitBreakerEmitted } from '../src/machines/circuitBreaker.js';
import { createEventIdFactory } from '../src/events/eventIds.js';
import { createEventWriter, type EmittedFact } from '../src/events/eventWriter.js';
import type { EventEnvelope } from '../src/events/envelope.js';
import { createFileLog } from '../src/store/fileLog.js';
import { replayStore } from '../src/store/replay.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median } from './lib/stats.js';

const benchmark = 'replay';
const START = 1_700_000_000_000;
/** Calls in flight at once: their events interleave in the log as a busy runtime's would. */
const concurrentRuns = 64;
const BREAKER_RUN_ID = 'breakers';

/** A small deterministic PRNG (mulberry32), so every run of the benchmark writes the same log. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const servers = ['github', 'search', 'postgres', 'files', 'mail'];
const tools = ['read', 'write', 'query', 'list'];

const raw = {
  unavailable: { source: 'http', status: 503, headers: {}, message: 'HTTP 503 Service Unavailable' },
  rateLimited: { source: 'http', status: 429, headers: { 'retry-after': '2' }, message: 'HTTP 429 Too Many Requests' },
  unauthorized: { source: 'http', status: 401, headers: {}, message: 'HTTP 401 Unauthorized' },
  notFound: { source: 'rpc', code: -32601, message: 'Method not found' },
} satisfies Record<string, RawFailure>;

const classified: Record<keyof typeof raw, ClassifiedFailure> = {
  unavailable: classifyFailure(raw.unavailable, [], START),
  rateLimited: classifyFailure(raw.rateLimited, [], START),
  unauthorized: classifyFailure(raw.unauthorized, [], START),
  notFound: classifyFailure(raw.notFound, [], START),
};

type Fact = EmittedFact;

/** The facts of one tool call (its runId is its callId, as the runtime records it), by one of the common shapes. */
function callFacts(callId: string, at: number, random: () => number): Fact[] {
  const server = servers[Math.floor(random() * servers.length)] ?? 'github';
  const tool = tools[Math.floor(random() * tools.length)] ?? 'read';
  const alternative = { server: 'mirror', tool };
  let now = at;
  const facts: Fact[] = [];
  const base = (on: { server: string; tool: string } = { server, tool }) => ({
    callId,
    server: on.server,
    tool: on.tool,
  });
  const args = { query: `select * from items where id = ${Math.floor(random() * 1e6)}`, limit: 50 };
  const push = (fact: ToolCallEmitted) => facts.push(fact);
  push({ ...base(), type: 'toolcall.requested', at: now, args, fallbacks: [`mirror/${tool}`, null] });
  let n = 0;
  const started = (route: 'primary' | 'fallback' = 'primary', on = { server, tool }) => {
    n += 1;
    push({ ...base(on), type: 'toolcall.attempt.started', at: now, n, route });
  };
  const failedAttempt = (
    failure: ClassifiedFailure,
    decision: 'retry' | 'fallback' | 'escalate' | 'fail',
    reason: string,
    on = { server, tool },
  ) => {
    const durationMs = 1 + Math.floor(random() * 40);
    now += durationMs;
    push({
      ...base(on),
      type: 'toolcall.attempt.failed',
      at: now,
      n,
      durationMs,
      failure,
      decision,
      reason,
      probeToken: `${callId}#${n}`,
    });
  };
  const backoff = (delayMs: number, retryAfter = false) => {
    push({ ...base(), type: 'toolcall.backoff.scheduled', at: now, n, delayMs, until: now + delayMs, retryAfter });
    now += delayMs;
  };
  const succeeded = (status: 'succeeded' | 'fallback' | 'cached', on = { server, tool }, attempt: boolean = true) => {
    if (attempt) now += 5 + Math.floor(random() * 80);
    push({
      ...base(on),
      type: 'toolcall.succeeded',
      at: now,
      status,
      n: attempt ? n : undefined,
      probeToken: attempt ? `${callId}#${n}` : undefined,
      result: { content: [{ type: 'text', text: `${Math.floor(random() * 100)} rows from ${on.server}/${on.tool}` }] },
      cacheable: true,
      args,
      warnings: [],
    });
  };

  const shape = random();
  if (shape < 0.55) {
    // Answers at once.
    push({ ...base(), type: 'toolcall.cache.miss', at: now, reason: 'absent' });
    started();
    succeeded('succeeded');
  } else if (shape < 0.75) {
    // One or two 503s, then an answer.
    started();
    failedAttempt(classified.unavailable, 'retry', 'retryable');
    backoff(200 + Math.floor(random() * 400));
    started();
    if (random() < 0.5) {
      failedAttempt(classified.rateLimited, 'retry', 'retryable; server asked to wait');
      backoff(2_000, true);
      started();
    }
    succeeded('succeeded');
  } else if (shape < 0.85) {
    // Retries exhausted, then the fallback answers.
    started();
    failedAttempt(classified.unavailable, 'retry', 'retryable');
    backoff(250);
    started();
    failedAttempt(classified.unavailable, 'fallback', 'retries_exhausted');
    push({ ...base(), type: 'toolcall.fallback.started', at: now, to: alternative, reason: 'retries_exhausted' });
    started('fallback', alternative);
    succeeded('fallback', alternative);
  } else if (shape < 0.92) {
    // Fails, and a cached answer stands in.
    started();
    failedAttempt(classified.unavailable, 'retry', 'retryable');
    backoff(300);
    started();
    failedAttempt(classified.unavailable, 'fallback', 'retries_exhausted');
    push({ ...base(), type: 'toolcall.cache.hit', at: now, ageMs: 30_000 + Math.floor(random() * 60_000) });
    succeeded('cached', { server, tool }, false);
  } else if (shape < 0.97) {
    // A method the server lacks: the fallback chain runs out.
    started();
    failedAttempt(classified.notFound, 'fallback', 'unimplemented');
    push({ ...base(), type: 'toolcall.fallback.started', at: now, to: null, reason: 'unimplemented' });
    push({
      ...base(),
      type: 'toolcall.failed',
      at: now,
      error: summarizeFailure(classified.notFound),
      attempts: n,
      n,
      probeToken: `${callId}#${n}`,
    });
  } else {
    // Credentials refused: a person is called at once.
    started();
    failedAttempt(classified.unauthorized, 'escalate', 'auth_failed');
    const escalation = buildEscalation(defaultToolPolicy, EscalationTrigger.auth, {
      server,
      tool,
      at: now,
      callId,
      failure: classified.unauthorized,
    });
    push({ ...base(), type: 'toolcall.escalated', at: now, escalation });
  }
  return facts;
}

/** A breaker of one tool trips, cools down, probes and closes. */
function breakerFacts(at: number, random: () => number): CircuitBreakerEmitted[] {
  const key = `${servers[Math.floor(random() * servers.length)] ?? 'github'}/${tools[Math.floor(random() * tools.length)] ?? 'read'}`;
  return [
    { type: 'breaker.opened', key, at, reason: 'failureRatio', failureRatio: 0.6, calls: 10, openUntil: at + 30_000 },
    { type: 'breaker.halfOpened', key, at: at + 30_000 },
    { type: 'breaker.closed', key, at: at + 30_050, reason: 'probesSucceeded' },
  ];
}

export interface GeneratedLog {
  events: number;
  runs: number;
  /** Bytes of the JSON Lines file. */
  bytes: number;
}

/**
 * Writes about `total` events, through the real event writer (validation on write, ids, seqs), to a file log in
 * `dir/log` and, the same envelopes, as JSON Lines to `dir/events.jsonl`; `concurrentRuns` calls interleave.
 */
export async function generateLog(dir: string, total: number): Promise<GeneratedLog> {
  const random = prng(42);
  let clockNow = START;
  const clock = { now: () => clockNow };
  const writer = createEventWriter({ clock, random });
  const newCallId = createEventIdFactory({ clock, random });
  const log = await createFileLog({ dir: join(dir, 'log'), durability: 'none' });
  const jsonl = openSync(join(dir, 'events.jsonl'), 'w');
  let written = 0;
  let runs = 0;
  let bytes = 0;
  try {
    while (written < total) {
      const group: { runId: string; facts: Fact[] }[] = [];
      for (let i = 0; i < concurrentRuns; i += 1) {
        clockNow += 1 + Math.floor(random() * 20);
        const callId = newCallId();
        group.push({ runId: callId, facts: callFacts(callId, clockNow, random) });
        runs += 1;
      }
      if (random() < 0.3) group.push({ runId: BREAKER_RUN_ID, facts: breakerFacts(clockNow, random) });
      const batch: EventEnvelope[] = [];
      for (let step = 0; group.some((run) => step < run.facts.length); step += 1) {
        for (const run of group) {
          const fact = run.facts[step];
          if (fact !== undefined) batch.push(writer.toEnvelope(run.runId, fact));
        }
      }
      await log.append(batch);
      const text = `${batch.map((event) => JSON.stringify(event)).join('\n')}\n`;
      bytes += writeSync(jsonl, text);
      written += batch.length;
      for (const run of group) if (run.runId !== BREAKER_RUN_ID) writer.forgetRun(run.runId);
    }
  } finally {
    closeSync(jsonl);
    await log.close();
  }
  return { events: written, runs, bytes };
}

/** Segment-sized pieces, so that no string outgrows V8's limit; each piece ends at a line's end. */
const CHUNK_BYTES = 64 * 1024 * 1024;

/** The floor: read the JSON Lines, split at newlines, JSON.parse every line. Returns events per second. */
async function bareParseRate(file: string, expected: number): Promise<number> {
  const startedAt = performance.now();
  const bytes = await readFile(file);
  let parsed = 0;
  for (let start = 0; start < bytes.length;) {
    const limit = Math.min(bytes.length, start + CHUNK_BYTES);
    const cut = limit === bytes.length ? limit : bytes.lastIndexOf(0x0a, limit - 1) + 1;
    for (const line of bytes.toString('utf8', start, cut).split('\n')) {
      if (line === '') continue;
      const event = JSON.parse(line) as EventEnvelope;
      if (event.seq > 0) parsed += 1;
    }
    start = cut;
  }
  const elapsedMs = performance.now() - startedAt;
  if (parsed !== expected) throw new Error(`bare parse read ${parsed} events, expected ${expected}`);
  return (parsed / elapsedMs) * 1000;
}

/** Opens the file log (outside the clock), then times readAll folded through every projection. */
async function replayRate(dir: string, expected: number, runs: number): Promise<number> {
  const log = await createFileLog({ dir });
  try {
    const startedAt = performance.now();
    const result = await replayStore(log);
    const elapsedMs = performance.now() - startedAt;
    const folded = [...result.runs.values()].reduce((sum, run) => sum + run.events, 0);
    const breakerEvents = [...result.metrics.values()].reduce((sum, tool) => sum + tool.breaker.openings * 3, 0);
    if (folded + breakerEvents !== expected || result.runs.size !== runs) {
      throw new Error(
        `replay folded ${folded} + ${breakerEvents} events of ${result.runs.size} runs, expected ${expected} of ${runs}`,
      );
    }
    return (expected / elapsedMs) * 1000;
  } finally {
    await log.close();
  }
}

/** readAll alone, every record decoded and nothing folded: the part of the replay the projections do not add. */
async function readAllRate(dir: string, expected: number): Promise<number> {
  const log = await createFileLog({ dir });
  try {
    const startedAt = performance.now();
    let read = 0;
    for await (const stored of log.readAll()) if (stored.event.seq > 0) read += 1;
    const elapsedMs = performance.now() - startedAt;
    if (read !== expected) throw new Error(`readAll read ${read} events, expected ${expected}`);
    return (read / elapsedMs) * 1000;
  } finally {
    await log.close();
  }
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const total = options.long ? 1_000_000 : 200_000;
  const rounds = 3;
  const dir = await mkdtemp(join(tmpdir(), 'retrace-bench-replay-'));
  try {
    const generatedAt = performance.now();
    const generated = await generateLog(dir, total);
    const generateMs = performance.now() - generatedAt;
    const file = join(dir, 'events.jsonl');
    const logDir = join(dir, 'log');
    const variants: { name: string; rate: () => Promise<number>; rates: number[] }[] = [
      { name: 'bare', rate: () => bareParseRate(file, generated.events), rates: [] },
      { name: 'replay', rate: () => replayRate(logDir, generated.events, generated.runs), rates: [] },
      { name: 'readAll', rate: () => readAllRate(logDir, generated.events), rates: [] },
    ];
    // A warm-up of each (the long log warms itself up), then rounds in a different order each time.
    if (!options.long) for (const variant of variants) await variant.rate();
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < variants.length; i += 1) {
        const variant = variants[(i + round) % variants.length];
        variant?.rates.push(await variant.rate());
      }
    }
    const [bareRates, replayRates, readAllRates] = variants.map((variant) => variant.rates) as [
      number[],
      number[],
      number[],
    ];
    const figure = figuresOf(benchmark);
    const bare = median(bareRates);
    const baseline = { name: 'read + split + JSON.parse of the same JSON Lines', value: bare };
    return {
      benchmark,
      figures: [
        figure(`replay ${generated.events} events, every projection (events/s)`, median(replayRates), 'calls/s', {
          baseline,
          target: { ratioAtLeast: 0.8 },
        }),
        figure('file log readAll alone, nothing folded (events/s)', median(readAllRates), 'calls/s', { baseline }),
        figure('bare read + split + JSON.parse (events/s)', bare, 'calls/s'),
      ],
      details: {
        events: generated.events,
        runs: generated.runs,
        meanEventBytes: Math.round(generated.bytes / generated.events),
        generateMs: Math.round(generateMs),
        bareRates,
        replayRates,
        readAllRates,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
